"""The one module that reads Dagster internals: backfills in progress, and the pools' first limits.

Dagster 1.13 has no public API that lists the partitions targeted by backfills still in progress (their
later runs have no run record yet, so `DagsterInstance.get_run_records` cannot see them). On upgrade,
check `dagster._core.execution.backfill` (``BulkActionsFilter``, ``BulkActionStatus``,
``PartitionBackfill.get_asset_backfill_data``) and replace this with a public API once one exists;
``movie_assets_tests/defs/test_automation.py`` exercises it against a real backfill on an instance.
"""

import dagster as dg
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus


def backfilling_partitions(context: dg.SensorEvaluationContext, asset_key: dg.AssetKey, job_name: str) -> set[str]:
    """Partitions targeted by backfills still in progress (their later runs have no run record yet)."""
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
            elif backfill.job_name == job_name:
                keys.update(backfill.partition_names or [])
        except Exception as exc:  # a backfill of another code version; skip it, do not fail the tick
            context.log.warning(f"could not read backfill {backfill.backfill_id}: {exc}")
    return keys


def initialize_pools(instance: dg.DagsterInstance, pools: tuple[str, ...]) -> list[str]:
    """Give each pool that has no limit row yet its default limit (``concurrency.pools.default_limit``); the
    pools created. Dagster 1.13 creates the row lazily, when a step first claims the pool, and on
    PostgreSQL two processes doing that at once both insert it: one fails with a UniqueViolation on
    ``concurrency_limits_concurrency_key_key`` (its step fails). Created once, here, before any run, the
    row is never raced for; a limit a user set (`dagster instance concurrency set`) is left alone."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    existing = storage.get_concurrency_keys()
    created = []
    for pool in pools:
        if pool not in existing and storage.initialize_concurrency_limit_to_default(pool):
            created.append(pool)
    return created
