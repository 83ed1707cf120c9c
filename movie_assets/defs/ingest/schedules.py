"""``nightly_refresh_schedule`` (03:00 UTC, STOPPED by default): re-materializes the two newest years
(current + previous), one run per year on ``ingest_job``. Discover reuses windows only when a catalog sync
of today vouches for the year's membership; details fetches only new ids."""

import datetime as dt

import dagster as dg

from movie_assets.defs.ingest import jobs
from movie_assets.defs.ingest.partitions import yearly_partitions
from movie_assets.defs.ingest.sensors import TRIGGER_TAG
from movie_assets.wiring.policies import RUN_RETRY_TAGS


def latest_year_keys(when: dt.datetime, count: int = 2) -> list[str]:
    """The ``count`` newest yearly partition keys as of ``when`` (the current, in-progress year last)."""
    return yearly_partitions.get_partition_keys(current_time=when)[-count:]


@dg.schedule(
    name="nightly_refresh_schedule",
    job=jobs.ingest_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly (03:00 UTC): refresh the current and the previous year, one ingest_job run each.",
)
def nightly_refresh_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    return [
        dg.RunRequest(
            run_key=f"nightly-{key}-{when:%Y-%m-%d}",
            partition_key=key,
            tags={TRIGGER_TAG: "nightly", **RUN_RETRY_TAGS},
        )
        for key in latest_year_keys(when)
    ]
