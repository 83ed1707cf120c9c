"""``movie-assets sync``: bring the lake to TMDb's state of today (the daily ID export lists what exists,
``/movie/changes`` what changed), then rebuild ``movies_db``. The first sync of a lake fetches every listed
movie (~1.2M on TMDb, ~9 h at the rate limit; resumable after a kill, losing at most one batch); later ones
fetch about one request per changed or new movie. Materializations are recorded in the Dagster instance at
``DAGSTER_HOME`` when it is set.

Exit codes: 0 done; 1 TMDb or a file failed (progress is kept: run it again); 2 unusable settings or lake.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from movie_assets.emulator.connect import open_client
from movie_assets.harvest.cursor import SyncError
from movie_assets.harvest.deletions import DEFAULT_MIN_SHARE
from movie_assets.harvest.enrich import BatchProgress
from movie_assets.harvest.exports import ExportError
from movie_assets.harvest.store import StoreError
from movie_assets.harvest.sync import SyncReport, sync
from movie_assets.lake import Lake, LakeError
from movie_assets.lake.languages import record_languages
from movie_assets.lake.readers import LakeInputError
from movie_assets.settings import (
    DATA_DIR_ENV,
    catalog_policy_from_env,
    data_dir_from_env,
    is_set,
    languages_from_env,
    tmdb_settings_from_env,
)
from movie_assets.tmdb.config import SettingsError
from movie_assets.tmdb.errors import TMDbError, display_url, redact
from movie_assets.warehouse.build import build_movies_db

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _progress(batch: BatchProgress) -> None:
    print(f"  {batch.describe()}", flush=True)


async def _run(args: argparse.Namespace, lake: Lake) -> SyncReport:
    policy = catalog_policy_from_env()
    async with open_client(tmdb_settings_from_env(data_dir=str(lake.root)), lake=lake) as client:
        return await sync(client, lake, include_adult=args.include_adult or policy.include_adult,
                          include_video=args.include_video or policy.include_video,
                          min_export_share=args.min_export_share, batch_size=args.batch_size,
                          concurrency=args.concurrency, progress=_progress)


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"--min-export-share must be within (0, 1], not {text}")
    return value


def run_sync(args: argparse.Namespace) -> int:
    lake = Lake.at(args.data_dir or data_dir_from_env())
    try:
        settings = tmdb_settings_from_env(data_dir=str(lake.root))
        catalog_policy_from_env()
        languages = languages_from_env()
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"syncing {lake.root} with TMDb (export at {display_url(settings.effective_exports_base_url)})", flush=True)
    try:
        if record_languages(lake, languages):
            print(f"languages: {', '.join(languages)} (every year is rebuilt with their columns)", flush=True)
    except LakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = asyncio.run(_run(args, lake))
        rows = build_movies_db(lake).rows
    except (LakeError, StoreError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (SyncError, ExportError, LakeInputError, TMDbError, OSError) as exc:
        print(f"error: {redact(str(exc), settings.secrets)}", file=sys.stderr)
        return EXIT_FAILED
    print(report.describe())
    print(f"movies_db: {rows:,} movies in {lake.movies_file}")
    if is_set("DAGSTER_HOME"):
        import dagster as dg

        from movie_assets.defs.catalog.assets import record_sync
        from movie_assets.defs.warehouse.assets import record_sync_rebuild

        with dg.DagsterInstance.get() as instance:
            outside = record_sync(instance, report)
            record_sync_rebuild(instance, report, rows, outside)
        if outside:
            print(f"note: years outside the yearly partitions were rebuilt too: {outside}")
        print("recorded the materializations in the Dagster instance at DAGSTER_HOME")
    return EXIT_OK


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sync`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser("sync", help="bring the lake to TMDb's state of today (full, then incremental)",
                                   description=__doc__)
    parser.add_argument("--data-dir", default=None, help=f"data root (default ${DATA_DIR_ENV} or 'data')")
    parser.add_argument("--include-adult", action="store_true", help="also adult titles (adult_movie_ids_…)")
    parser.add_argument("--include-video", action="store_true", help="also video releases")
    parser.add_argument("--batch-size", type=int, default=500, help="movies per stored batch (default 500)")
    parser.add_argument("--concurrency", type=int, default=20, help="details calls in flight (default 20)")
    parser.add_argument("--min-export-share", type=_share, default=DEFAULT_MIN_SHARE,
                        help="an export under this share of the previous one (or of the lake) is partial: its "
                             f"deletions wait for a whole export (default {DEFAULT_MIN_SHARE})")
    parser.set_defaults(handler=run_sync)
    return parser
