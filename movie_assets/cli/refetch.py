"""``movie-assets refetch --missing release_dates,videos``: fetch again every movie whose stored payload predates
those appends of the details call (harvested by an older release), then rebuild the years whose rows changed
and ``movies_db``. Prints how many requests that is and how long it takes at the configured rate before the
first one; a kill loses at most one batch, and running it again continues.

Exit codes: 0 done; 1 TMDb or a file failed (what succeeded is kept: run it again); 2 unusable settings or lake.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from movie_assets.emulator.connect import open_client
from movie_assets.harvest.enrich import BatchProgress
from movie_assets.harvest.payload_fields import ALL_APPENDS
from movie_assets.harvest.refetch import RefetchReport, duration, parse_appends, refetch_missing, refetchable
from movie_assets.harvest.store import StoreError
from movie_assets.lake import Lake, LakeError
from movie_assets.lake.languages import LANGUAGES_ENV, record_languages
from movie_assets.lake.readers import LakeInputError
from movie_assets.settings import DATA_DIR_ENV, data_dir_from_env, languages_from_env, tmdb_settings_from_env
from movie_assets.tmdb.config import SettingsError, TMDbSettings
from movie_assets.tmdb.errors import TMDbError, redact
from movie_assets.warehouse.build import build_movies_db

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _progress(batch: BatchProgress) -> None:
    print(f"  {batch.describe()}", flush=True)


async def _run(args: argparse.Namespace, lake: Lake, settings: TMDbSettings, appends: tuple[str, ...]
               ) -> RefetchReport:
    def announce(movies: int) -> None:
        print(f"{movies:,} movies lack {','.join(appends)}: {movies:,} requests, "
              f"{duration(movies, settings.effective_rps)} at {settings.effective_rps:g} requests/s", flush=True)

    async with open_client(settings, lake=lake) as client:
        return await refetch_missing(client, lake, appends, batch_size=args.batch_size,
                                     concurrency=args.concurrency, progress=_progress, announce=announce)


def run_refetch(args: argparse.Namespace) -> int:
    lake = Lake.at(args.data_dir or data_dir_from_env())
    try:
        appends = parse_appends(args.missing)
        settings = tmdb_settings_from_env(data_dir=str(lake.root))
        languages = languages_from_env()
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not lake.details_store_dir.exists():
        print(f"error: {lake.root} has no details store yet: nothing to fetch again (set {DATA_DIR_ENV} or "
              "--data-dir to the lake)", file=sys.stderr)
        return EXIT_USAGE
    try:
        if record_languages(lake, languages):
            print(f"languages: {', '.join(languages)} ({LANGUAGES_ENV}; every year is rebuilt with their columns)",
                  flush=True)
        refetchable(lake, appends)
    except (LakeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = asyncio.run(_run(args, lake, settings, appends))
        rows = build_movies_db(lake).rows if report.years_rebuilt else None
    except (LakeError, StoreError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (LakeInputError, TMDbError, OSError) as exc:
        print(f"error: {redact(str(exc), settings.secrets)}", file=sys.stderr)
        return EXIT_FAILED
    print(report.describe())
    if rows is not None:
        print(f"movies_db: {rows:,} movies in {lake.movies_file}")
    if report.still_lacking:
        print(f"warning: {report.still_lacking:,} movies were answered without {','.join(appends)}: the server "
              "does not serve it for them; running this again asks again", file=sys.stderr)
    if report.failed:
        print(f"error: {len(report.failed)} movies failed (e.g. {report.failed[:10]}); their old version stays: "
              "run the command again", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``refetch`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser("refetch", help="fetch again the movies whose stored payload lacks appends",
                                   description=__doc__)
    parser.add_argument("--missing", required=True,
                        help=f"comma-separated appends, some of {','.join(ALL_APPENDS)}")
    parser.add_argument("--data-dir", default=None, help=f"data root (default ${DATA_DIR_ENV} or 'data')")
    parser.add_argument("--batch-size", type=int, default=500, help="movies per stored batch (default 500)")
    parser.add_argument("--concurrency", type=int, default=20, help="details calls in flight (default 20)")
    parser.set_defaults(handler=run_refetch)
    return parser
