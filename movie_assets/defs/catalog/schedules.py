"""``catalog_sync_schedule`` (09:00 UTC daily, after TMDb publishes the day's export around 08:00; STOPPED by
default): one ``catalog_sync_job`` run, the same code as ``movie-assets sync``."""

import dagster as dg

from movie_assets.defs.catalog import assets
from movie_assets.wiring.policies import RUN_RETRY_TAGS

catalog_sync_job = dg.define_asset_job(
    "catalog_sync_job",
    selection=dg.AssetSelection.assets(assets.catalog_sync),
    description="Bring the lake to TMDb's state of today (the daily export and the changes since the last sync).",
    tags=RUN_RETRY_TAGS,
)

catalog_sync_schedule = dg.ScheduleDefinition(
    name="catalog_sync_schedule",
    job=catalog_sync_job,
    cron_schedule="0 9 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily (09:00 UTC, after the daily export is published): the catalog sync.",
)
