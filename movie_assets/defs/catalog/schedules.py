"""``catalog_sync_schedule`` (09:00 UTC daily, after TMDb publishes the day's export around 08:00; STOPPED by
default): one ``catalog_sync_job`` run, the same code as ``movie-assets sync``."""

import dagster as dg

from movie_assets.defs.catalog import jobs

catalog_sync_schedule = dg.ScheduleDefinition(
    name="catalog_sync_schedule",
    job=jobs.catalog_sync_job,
    cron_schedule="0 9 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily (09:00 UTC, after the daily export is published): the catalog sync.",
)
