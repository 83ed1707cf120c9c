"""``movie-assets`` console script: TMDb smoke check, the emulator, similar-movie search, credit backfill.

Each subcommand lives with the code it drives; this module only assembles the parser.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence

from dotenv import load_dotenv

from movie_assets.backfill_credits import register_cli as register_backfill_credits
from movie_assets.embeddings.search import register_cli as register_similar
from movie_assets.emulator.runner import add_emulator_arguments, catalog_from_args, options_from_args, serve
from movie_assets.tmdb.config import SettingsError, TMDbSettings
from movie_assets.tmdb.connect import open_client
from movie_assets.tmdb.errors import TMDbError, redact


async def _tmdb_check(settings: TMDbSettings) -> int:
    async with open_client(settings) as client:
        data = await client.popular_movies()
        where = "built-in emulator" if settings.uses_emulator else client.base_url
        print(f"TMDb reachable at {where}; client rate {client.limiter.target_rate:g} requests/s, "
              f"{settings.max_connections} connections")
        for rank, movie in enumerate(data.get("results", [])[:5], start=1):
            print(f"{rank}. {movie.get('title')} ({(movie.get('release_date') or '????')[:4]}) "
                  f"popularity {movie.get('popularity')}")
    return 0


def tmdb_check(args: argparse.Namespace) -> int:
    """Print the top 5 popular movies and the configured rate; one-line reason and exit 1 on failure."""
    try:
        settings = TMDbSettings.from_env()
        if args.attempts:
            settings = dataclasses.replace(settings, max_attempts=args.attempts)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_tmdb_check(settings))
    except TMDbError as exc:
        print(f"error: {redact(str(exc), settings.secrets)}", file=sys.stderr)
        return 1


def run_emulator(args: argparse.Namespace) -> int:
    """Serve the emulator in the foreground until Ctrl-C."""
    serve(args.host, args.port, catalog_from_args(args), options_from_args(args))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="movie-assets", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    tmdb = commands.add_parser("tmdb", help="TMDb access")
    tmdb_commands = tmdb.add_subparsers(dest="tmdb_command", required=True)
    check = tmdb_commands.add_parser("check", help="smoke test: top 5 popular movies and the configured rate")
    check.add_argument("--attempts", type=int, default=2, help="attempts per request before giving up (default 2)")
    check.set_defaults(handler=tmdb_check)

    emulator = commands.add_parser("emulator", help="serve the built-in TMDb emulator over HTTP")
    add_emulator_arguments(emulator)
    emulator.set_defaults(handler=run_emulator)

    register_backfill_credits(commands)

    register_similar(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
