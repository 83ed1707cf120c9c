"""Sensors that keep the yearly ingest current. All ship STOPPED: starting one is a decision about TMDb
traffic and machine time (UI: Automation → toggle; CLI: ``dagster sensor start NAME``).

* ``missing_years_sensor``: requests the newest years whose ``movies`` partition is missing or failed, at
  most ``MISSING_YEARS_PER_TICK`` per tick, never a year with a queued or running ``ingest_job`` run (nor one
  in a running backfill), and gives up on a year after ``MAX_ATTEMPTS_PER_YEAR`` requests that did not
  produce it (reset the sensor's cursor to try again). The ``tmdb`` pool (dagster.yaml
  ``pools.default_limit: 1``) serialises the TMDb steps of all those runs, so filling 50 years never
  multiplies the request rate.
* ``changes_sensor``: reads TMDb ``/movie/changes`` since its cursor and requests one ``ingest_job`` run
  per harvested year holding changed movies, with ``movie_details.refetch_ids`` set to those ids.

Runs requested here carry run-retry tags: a run whose process dies (OOM, killed worker) is retried once
from failure; step failures are handled by the assets' own RetryPolicy (exponential backoff, jitter).
"""

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence

import dagster as dg

from movie_assets.defs.catalog import jobs as catalog_jobs
from movie_assets.defs.ingest import assets, jobs
from movie_assets.defs.ingest.partitions import yearly_partitions
from movie_assets.harvest import changes as refresh
from movie_assets.lake import LakeError
from movie_assets.lake.readers import LakeInputError
from movie_assets.wiring.internals import backfilling_partitions
from movie_assets.wiring.policies import RUN_RETRY_TAGS
from movie_assets.wiring.resources import LakeResource, TMDbResource

MOVIES_KEY = assets.movies.key
PARTITION_TAG = "dagster/partition"
TRIGGER_TAG = "movie_assets/trigger"
MISSING_YEARS_PER_TICK = 2
MAX_ATTEMPTS_PER_YEAR = 3
CHANGES_MAX_WINDOWS_PER_TICK = 6  # 6 × 14 days per tick; a longer gap is caught up over the next ticks
# Runs that are not finished yet: a year with one of these is not requested again.
IN_FLIGHT_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.SUSPENDED,
    dg.DagsterRunStatus.CANCELING,
]


def select_missing_years(
    all_keys: Sequence[str],
    materialized: Iterable[str],
    failed: Iterable[str],
    in_flight: Iterable[str],
    limit: int = MISSING_YEARS_PER_TICK,
    exhausted: Iterable[str] = (),
) -> list[str]:
    """Keys to request now: missing (never materialized) or failed (latest attempt failed), not already
    queued or running, not given up on; newest first, at most ``limit``."""
    done, bad, busy, skip = set(materialized), set(failed), set(in_flight), set(exhausted)
    wanted = [k for k in reversed(all_keys) if (k not in done or k in bad) and k not in busy and k not in skip]
    return wanted[: max(0, limit)]


def in_flight_partitions(instance: dg.DagsterInstance, job_name: str = jobs.ingest_job.name) -> set[str]:
    """Partition keys of ``job_name`` runs that are queued, starting, running or cancelling."""
    records = instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT_STATUSES))
    return {r.dagster_run.tags[PARTITION_TAG] for r in records if PARTITION_TAG in r.dagster_run.tags}


def partition_status(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey = MOVIES_KEY
) -> tuple[set[str], set[str], set[str]]:
    """(materialized, failed, in progress) partition keys of ``asset_key``, from the instance's partition
    status. A partition being (re)materialized by any run, of any job, is in progress, not missing."""
    keys = yearly_partitions.get_partition_keys()
    status = instance.get_status_by_partition(asset_key, keys, yearly_partitions) or {}
    by_status: dict[dg.AssetPartitionStatus, set[str]] = {}
    for key, value in status.items():
        if value is not None:
            by_status.setdefault(value, set()).add(key)
    return (
        by_status.get(dg.AssetPartitionStatus.MATERIALIZED, set()),
        by_status.get(dg.AssetPartitionStatus.FAILED, set()),
        by_status.get(dg.AssetPartitionStatus.IN_PROGRESS, set()),
    )


@dg.sensor(
    name="missing_years_sensor",
    job=jobs.ingest_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        f"Fill missing and failed years of `movies`, newest first, at most {MISSING_YEARS_PER_TICK} per tick, "
        "skipping years already queued/running; the tmdb pool keeps the TMDb rate flat."
    ),
)
def missing_years_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    attempts: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    now = dt.datetime.now(dt.UTC)
    all_keys = yearly_partitions.get_partition_keys(current_time=now)
    materialized, failed, in_progress = partition_status(context.instance)
    busy = (
        in_progress
        | in_flight_partitions(context.instance)
        | backfilling_partitions(context, MOVIES_KEY, jobs.ingest_job.name)
    )
    # A year that is there again (and not failed) no longer counts attempts.
    attempts = {k: n for k, n in attempts.items() if k not in materialized or k in failed}
    exhausted = {k for k, n in attempts.items() if n >= MAX_ATTEMPTS_PER_YEAR and k not in busy}
    keys = select_missing_years(all_keys, materialized, failed, busy, MISSING_YEARS_PER_TICK, exhausted)
    if exhausted:
        context.log.warning(
            f"giving up on {sorted(exhausted)} after {MAX_ATTEMPTS_PER_YEAR} attempts each; "
            "reset missing_years_sensor's cursor to retry them"
        )
    for key in keys:
        attempts[key] = attempts.get(key, 0) + 1
    new_cursor = json.dumps(attempts, sort_keys=True)
    if not keys:
        return dg.SensorResult(skip_reason="no missing or failed year without a run in flight", cursor=new_cursor)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"missing-{key}-attempt-{attempts[key]}",
                partition_key=key,
                tags={TRIGGER_TAG: "missing_years", **RUN_RETRY_TAGS},
            )
            for key in keys
        ],
        cursor=new_cursor,
    )


# -- incremental refresh from /movie/changes ---------------------------------------------------------------
async def _read_changes(
    tmdb: TMDbResource,
    lake: LakeResource,
    cursor: refresh.RefreshCursor | None,
    today: Callable[[], dt.date] | None,
    max_windows: int,
) -> tuple[refresh.ChangeSet, dict[int, list[int]]]:
    async with tmdb.client() as client:
        day = today() if today is not None else await refresh.server_today(client)
        start, end = refresh.refresh_range(cursor, day, lake.lake(), max_windows=max_windows)
        changes = await refresh.changed_ids_since(client, start, end)
    return changes, refresh.affected_years(lake.lake(), changes.ids)


def refetch_run_config(ids: Sequence[int]) -> dict:
    return {"ops": {"movie_details": {"config": {"refetch_ids": [int(i) for i in ids]}}}}


def changes_run_requests(
    changes: refresh.ChangeSet, years: Mapping[int, list[int]], valid_keys: Iterable[str]
) -> list[dg.RunRequest]:
    valid = set(valid_keys)
    return [
        dg.RunRequest(
            job_name=jobs.ingest_job.name,
            run_key=refresh.refetch_run_key(year, changes.start, changes.end, ids),
            partition_key=str(year),
            run_config=refetch_run_config(ids),
            tags={
                TRIGGER_TAG: "tmdb_changes",
                "movie_assets/changes_window": f"{changes.start.isoformat()}..{changes.end.isoformat()}",
                "movie_assets/refetch_count": str(len(ids)),
                **RUN_RETRY_TAGS,
            },
        )
        for year, ids in sorted(years.items(), reverse=True)
        if str(year) in valid
    ]


def build_changes_sensor(
    today: Callable[[], dt.date] | None = None,
    *,
    name: str = "changes_sensor",
    max_windows: int = CHANGES_MAX_WINDOWS_PER_TICK,
) -> dg.SensorDefinition:
    """The changes sensor; ``today`` overrides the server's date (tests). Without it "today" comes from the
    ``Date`` header of TMDb's answer (the emulator's frozen clock; UTC today on real TMDb)."""

    @dg.sensor(
        name=name,
        jobs=[jobs.ingest_job, catalog_jobs.catalog_sync_job],
        minimum_interval_seconds=6 * 3600,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            "Incremental refresh. A lake kept by the catalog sync: one catalog_sync_job run a day (the same "
            "code as movie-assets sync, which reads /movie/changes from its own cursor). A lake harvested year "
            "by year: read TMDb /movie/changes (≤14-day windows, every page) since the cursor and request an "
            "ingest_job run per harvested year with movie_details.refetch_ids = its changed ids."
        ),
    )
    def _changes_sensor(context: dg.SensorEvaluationContext, tmdb: TMDbResource, lake: LakeResource):
        if lake.lake().sync_cursor_file.exists():
            day = today() if today is not None else dt.datetime.now(dt.UTC).date()
            return dg.SensorResult(run_requests=[dg.RunRequest(
                job_name=catalog_jobs.catalog_sync_job.name,
                run_key=f"catalog-sync-{day.isoformat()}",
                tags={TRIGGER_TAG: "tmdb_changes", **RUN_RETRY_TAGS},
            )])
        cursor = refresh.RefreshCursor.from_json(context.cursor)
        # Any error (TMDb down, unreadable lake) fails the tick before the cursor moves. A lake file that needs
        # a person's fix (a corrupt discover snapshot) skips the tick saying which file and what to do, rather
        # than an Arrow traceback every tick; the cursor stays, so no change is lost meanwhile.
        try:
            changes, years = asyncio.run(_read_changes(tmdb, lake, cursor, today, max_windows))
        except (LakeError, LakeInputError) as exc:
            context.log.error(f"changes sensor: {exc}")
            return dg.SensorResult(skip_reason=f"cannot map TMDb's changes onto the lake: {exc}")
        requests = changes_run_requests(changes, years, yearly_partitions.get_partition_keys())
        context.log.info(
            f"changes {changes.start}..{changes.end}: {len(changes.ids)} changed ids in {changes.requests} "
            f"requests over {len(changes.windows)} windows; {sum(len(v) for v in years.values())} in "
            f"{len(years)} harvested years"
        )
        new_cursor = refresh.RefreshCursor(changes.end).to_json()
        if not requests:
            return dg.SensorResult(
                skip_reason=f"no harvested movie changed in {changes.start}..{changes.end}", cursor=new_cursor
            )
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)

    return _changes_sensor


changes_sensor = build_changes_sensor()
