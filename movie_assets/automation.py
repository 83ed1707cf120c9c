"""Schedules, sensors and automation conditions of movie_assets.

Everything here is STOPPED by default: starting it is a decision about TMDb traffic and machine time.
Turn things on in the UI (Automation → toggle) or from the CLI with the same ``DAGSTER_HOME`` as the
daemon, e.g. ``dagster schedule start nightly_refresh_schedule -m movie_assets.definitions`` and
``dagster sensor start missing_years_sensor changes_sensor downstream_automation_sensor -m
movie_assets.definitions``.

* ``nightly_refresh_schedule`` (03:00 UTC): re-materializes the two newest years (current + previous),
  one run per year on ``ingest_job``. Discover reuses unchanged windows and details fetches only new ids.
* ``missing_years_sensor``: requests the newest years whose ``movies`` partition is missing or failed, at
  most ``MISSING_YEARS_PER_TICK`` per tick, never a year with a queued or running ``ingest_job`` run (nor one
  in a running backfill), and gives up on a year after ``MAX_ATTEMPTS_PER_YEAR`` requests that did not
  produce it (reset the sensor's cursor to try again). The ``tmdb`` pool (dagster.yaml
  ``pools.default_limit: 1``) serialises the TMDb steps of all those runs, so filling 50 years never
  multiplies the request rate.
* ``changes_sensor``: reads TMDb ``/movie/changes`` since its cursor and requests one ``ingest_job`` run
  per harvested year holding changed movies, with ``movie_details.refetch_ids`` set to those ids.
* ``downstream_automation_sensor``: evaluates the automation conditions that make ``movies_db`` and the
  release and embedding assets follow their upstreams (see `DOWNSTREAM_OF_YEARS` / `FOLLOW_UPSTREAM`).

Runs requested here carry run-retry tags: a run whose process dies (OOM, killed worker) is retried once
from failure; step failures are handled by the assets' own RetryPolicy (exponential backoff, jitter).
"""

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from movie_assets import refresh
from movie_assets.partitions import yearly_partitions
from movie_assets.resources import LakeResource, TMDbResource
from movie_assets.tmdb.connect import open_client

INGEST_JOB = "ingest_job"
MOVIES_KEY = dg.AssetKey("movies")
PARTITION_TAG = "dagster/partition"
TRIGGER_TAG = "movie_assets/trigger"
MISSING_YEARS_PER_TICK = 2
MAX_ATTEMPTS_PER_YEAR = 3
CHANGES_MAX_WINDOWS_PER_TICK = 6  # 6 × 14 days per tick; a longer gap is caught up over the next ticks

# Retry a run once when the run itself died; step failures are retried by the assets' RetryPolicy.
RUN_RETRY_TAGS = {
    "dagster/max_retries": "1",
    "dagster/retry_strategy": "FROM_FAILURE",
    "dagster/retry_on_asset_or_op_failure": "false",
}


# -- nightly schedule ---------------------------------------------------------------------------------
def latest_year_keys(when: dt.datetime, count: int = 2) -> list[str]:
    """The ``count`` newest yearly partition keys as of ``when`` (the current, in-progress year last)."""
    return yearly_partitions.get_partition_keys(current_time=when)[-count:]


@dg.schedule(
    name="nightly_refresh_schedule",
    job_name=INGEST_JOB,
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


# -- missing / failed years ---------------------------------------------------------------------------
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


def in_flight_partitions(instance: dg.DagsterInstance, job_name: str = INGEST_JOB) -> set[str]:
    """Partition keys of ``job_name`` runs that are queued, starting, running or cancelling."""
    records = instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=list(NOT_FINISHED_STATUSES)))
    return {r.dagster_run.tags[PARTITION_TAG] for r in records if PARTITION_TAG in r.dagster_run.tags}


def backfilling_partitions(context: dg.SensorEvaluationContext, asset_key: dg.AssetKey = MOVIES_KEY) -> set[str]:
    """Partitions targeted by backfills still in progress (their later runs have no run record yet)."""
    from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus

    keys: set[str] = set()
    try:
        backfills = context.instance.get_backfills(filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED]))
    except Exception as exc:  # storage without backfill support: run records still protect us
        context.log.warning(f"could not read backfills ({exc}); relying on run records only")
        return keys
    for backfill in backfills:
        try:
            if backfill.is_asset_backfill and context.repository_def is not None:
                data = backfill.get_asset_backfill_data(context.repository_def.asset_graph)
                if asset_key in data.target_subset.asset_keys:
                    keys.update(data.target_subset.get_partitions_subset(asset_key).get_partition_keys())
            elif backfill.job_name == INGEST_JOB:
                keys.update(backfill.partition_names or [])
        except Exception as exc:  # a backfill of another code version; skip it, do not fail the tick
            context.log.warning(f"could not read backfill {backfill.backfill_id}: {exc}")
    return keys


def partition_status(instance: dg.DagsterInstance, asset_key: dg.AssetKey = MOVIES_KEY) -> tuple[set[str], set[str]]:
    """(materialized, failed) partition keys of ``asset_key``, from Dagster's partition status cache."""
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    try:
        value = get_and_update_asset_status_cache_value(instance, asset_key, yearly_partitions)
    except Exception:  # private API: fall back to materializations only
        value = None
    if value is None:
        return set(instance.get_materialized_partitions(asset_key)), set()
    materialized = set(value.deserialize_materialized_partition_subsets(yearly_partitions).get_partition_keys())
    failed = set(value.deserialize_failed_partition_subsets(yearly_partitions).get_partition_keys())
    return materialized, failed


@dg.sensor(
    name="missing_years_sensor",
    job_name=INGEST_JOB,
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
    materialized, failed = partition_status(context.instance)
    busy = in_flight_partitions(context.instance) | backfilling_partitions(context)
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
    async with open_client(tmdb.settings()) as client:
        day = today() if today is not None else (await refresh.server_today(client))[0]
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
        job_name=INGEST_JOB,
        minimum_interval_seconds=6 * 3600,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            "Incremental refresh: read TMDb /movie/changes (≤14-day windows, every page) since the cursor, "
            "and request an ingest_job run per harvested year with movie_details.refetch_ids = its changed ids."
        ),
    )
    def _changes_sensor(context: dg.SensorEvaluationContext, tmdb: TMDbResource, lake: LakeResource):
        cursor = refresh.RefreshCursor.from_json(context.cursor)
        # Any error (TMDb down, unreadable lake) fails the tick before the cursor moves.
        changes, years = asyncio.run(_read_changes(tmdb, lake, cursor, today, max_windows))
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


# -- downstream assets follow their upstreams ------------------------------------------------------------
AC = dg.AutomationCondition

# movies_db is unpartitioned and reads every year (AllPartitionMapping). `eager()` would never fire for it:
# its `~any_deps_missing()` is true while any of the ~127 years is unharvested. Instead: rebuild after any
# year updated, once no year of `movies` is being materialized (so a 50-year backfill triggers one rebuild).
DOWNSTREAM_OF_YEARS = (
    AC.any_deps_updated().since_last_handled() & ~AC.any_deps_in_progress() & ~AC.in_progress()
).with_label("after any year updated, when no year is in progress")

# Release and embedding assets hang off unpartitioned assets: eager() is the right rule there.
FOLLOW_UPSTREAM = AC.eager()

DOWNSTREAM_GROUPS = ("release", "embeddings")


def automation_condition_for(spec: dg.AssetSpec) -> dg.AutomationCondition | None:
    if spec.key == dg.AssetKey("movies_db"):
        return DOWNSTREAM_OF_YEARS
    if spec.group_name in DOWNSTREAM_GROUPS:
        return FOLLOW_UPSTREAM
    return spec.automation_condition


def with_automation_conditions(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The same assets with `automation_condition_for` applied (asset modules stay untouched)."""
    return dg.map_asset_specs(lambda spec: spec.replace_attributes(automation_condition=automation_condition_for(spec)),
                              list(assets))


downstream_automation_sensor = dg.AutomationConditionSensorDefinition(
    "downstream_automation_sensor",
    target=dg.AssetSelection.assets("movies_db") | dg.AssetSelection.groups(*DOWNSTREAM_GROUPS),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    run_tags=RUN_RETRY_TAGS,
    description="movies_db after any year is (re)materialized, then the release and embedding assets.",
)

SCHEDULES = [nightly_refresh_schedule]
SENSORS = [missing_years_sensor, changes_sensor, downstream_automation_sensor]
