"""``movie-assets backfill-credits --csv FILE``: fill blank actors/directors in a movies CSV from TMDb.

Exit codes: 0 done; 1 some movies still failed (re-run to retry them) or TMDb refused; 2 unusable input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from movie_assets.emulator.connect import open_client
from movie_assets.release import backfill_credits as backfill
from movie_assets.settings import tmdb_settings_from_env
from movie_assets.tmdb.config import SettingsError, TMDbSettings
from movie_assets.tmdb.errors import TMDbError, redact

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


async def _backfill(
    csv_path: Path, settings: TMDbSettings, concurrency: int, batch_size: int
) -> backfill.BackfillResult:
    """Open a client from ``settings`` (the emulator when they name no TMDb) and backfill ``csv_path``."""
    async with open_client(settings) as client:
        return await backfill.backfill_with_client(client, csv_path, concurrency=concurrency, batch_size=batch_size)


def run_from_args(args: argparse.Namespace) -> int:
    try:
        settings = tmdb_settings_from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = asyncio.run(_backfill(args.csv, settings, args.concurrency, args.batch_size))
    except (backfill.BackfillInputError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TMDbError as exc:
        print(f"error: {redact(str(exc), settings.secrets)}; progress so far is saved, re-run to continue",
              file=sys.stderr)
        return EXIT_FAILED
    print(f"{result.filled} movies filled, {result.empty} without credits, {len(result.failed)} failed, "
          f"{result.known_empty} skipped (no credits in an earlier run)")
    if result.failed:
        print(f"{len(result.failed)} movies failed (e.g. {result.failed[:10]}); re-run to retry them",
              file=sys.stderr)
    return EXIT_FAILED if result.failed else EXIT_OK


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``backfill-credits --csv FILE --concurrency N --batch-size M`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser(
        "backfill-credits",
        help="fill blank actors/directors in a movies CSV from TMDb (resumable)",
        description=backfill.__doc__.split("\n\n")[1] if backfill.__doc__ else None,
    )
    parser.add_argument("--csv", required=True, type=Path, help="the CSV to update in place")
    parser.add_argument("--concurrency", type=int, default=10, help="details calls in flight (default 10)")
    parser.add_argument("--batch-size", type=int, default=500, help="movies per saved batch (default 500)")
    parser.set_defaults(handler=run_from_args)
    return parser
