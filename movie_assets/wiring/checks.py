"""Turning a plain `CheckOutcome` into a Dagster check result, and reading the previous
materialization a check compares against."""

import dagster as dg

from movie_assets.warehouse.validation import CheckOutcome


def check_result(outcome: CheckOutcome, severity=dg.AssetCheckSeverity.ERROR, *,
                 asset_key: dg.AssetKey | None = None, check_name: str | None = None) -> dg.AssetCheckResult:
    """``outcome`` as a check result (``asset_key``/``check_name``: for a step that checks several assets)."""
    metadata = {
        k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v for k, v in outcome.metadata.items()
    }
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=severity, description=outcome.description, metadata=metadata,
        asset_key=asset_key, check_name=check_name,
    )


def previous_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.AssetMaterialization | None:
    """The materialization before the latest one (the check runs after the latest), or None."""
    records = instance.fetch_materializations(key, limit=2).records
    if len(records) < 2:
        return None
    return records[1].asset_materialization


def metadata_value(materialization: dg.AssetMaterialization | None, name: str):
    if materialization is None or name not in materialization.metadata:
        return None
    value = materialization.metadata[name]
    return getattr(value, "value", value)
