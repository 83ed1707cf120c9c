"""``movie-assets`` console script: TMDb smoke check, catalog sync, refetching missing appends, the emulator,
similar movies, credit backfill, the Dagster instance, a local cluster, interaction sources and their
recommender datasets.

Each subcommand lives in its own module of this package; this one only assembles the parser.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from movie_assets.cli import (
    backfill_credits,
    cluster,
    emulator,
    export,
    instance,
    interactions,
    refetch,
    similar,
    sync,
    tmdb_check,
)
from movie_assets.settings import load_env_file


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="movie-assets", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    tmdb_check.register_cli(commands)
    emulator.register_cli(commands)
    backfill_credits.register_cli(commands)
    similar.register_cli(commands)
    sync.register_cli(commands)
    refetch.register_cli(commands)
    instance.register_cli(commands)
    cluster.register_cli(commands)
    interactions.register_cli(commands)
    export.register_cli(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_env_file()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    if not args.verbose:  # Dagster's storage migrations log each alembic step at INFO: noise to a person
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
