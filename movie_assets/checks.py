"""Asset checks guarding what downstream depends on (design §7).

Thin wrappers over `movie_assets.release.validation`; thresholds are module constants there
(``MAX_ROW_DROP``, ``CREDITS_COVERAGE_THRESHOLD``, ``NULL_SPIKE_THRESHOLD``). The checks on ``movies_db``
and ``movie_splits`` are blocking: when one fails, downstream assets in the same run do not materialize.
The null-spike check on ``data_profile`` only warns.
"""

import datetime as dt
import json

import dagster as dg
import pyarrow.parquet as pq

from movie_assets.release import splits as splits_lib
from movie_assets.release import validation
from movie_assets.release.common import read_consolidated
from movie_assets.release.profile import PROFILE_FILE
from movie_assets.resources import LakeResource

MOVIES_DB = dg.AssetKey("movies_db")
DATA_PROFILE = dg.AssetKey("data_profile")
MOVIE_SPLITS = dg.AssetKey("movie_splits")


def _result(outcome: validation.CheckOutcome, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    metadata = {
        k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v for k, v in outcome.metadata.items()
    }
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=severity, description=outcome.description, metadata=metadata
    )


def previous_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.AssetMaterialization | None:
    """The materialization before the latest one (the check runs after the latest), or None."""
    records = instance.fetch_materializations(key, limit=2).records
    if len(records) < 2:
        return None
    return records[1].asset_materialization


def _metadata_value(materialization: dg.AssetMaterialization | None, name: str):
    if materialization is None or name not in materialization.metadata:
        return None
    value = materialization.metadata[name]
    return getattr(value, "value", value)


@dg.asset_check(asset=MOVIES_DB, blocking=True, description="movie_id is unique and never null")
def movies_db_unique_ids(lake: LakeResource) -> dg.AssetCheckResult:
    ids = read_consolidated(lake.lake(), ["movie_id"]).column("movie_id")
    return _result(validation.check_unique_ids(ids))


@dg.asset_check(
    asset=MOVIES_DB,
    blocking=True,
    description=f"rows did not drop by more than {validation.MAX_ROW_DROP:.0%} against the previous materialization",
)
def movies_db_row_drop(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
    the_lake = lake.lake()
    if not the_lake.movies_file.exists():
        return dg.AssetCheckResult(passed=False, description=f"{the_lake.movies_file} does not exist")
    current = pq.ParquetFile(the_lake.movies_file).metadata.num_rows
    previous = _metadata_value(previous_materialization(context.instance, MOVIES_DB), "dagster/row_count")
    return _result(validation.check_row_drop(current, int(previous) if previous is not None else None,
                                             validation.MAX_ROW_DROP))


@dg.asset_check(asset=MOVIES_DB, blocking=True, description="poster_url/backdrop_url null exactly when the path is")
def movies_db_image_urls(lake: LakeResource) -> dg.AssetCheckResult:
    columns = ["movie_id", "poster_path", "poster_url", "backdrop_path", "backdrop_url"]
    return _result(validation.check_image_urls(read_consolidated(lake.lake(), columns)))


@dg.asset_check(
    asset=MOVIES_DB,
    blocking=True,
    description=f"at least {validation.CREDITS_COVERAGE_THRESHOLD:.0%} of movies have a cast member",
)
def movies_db_credits_coverage(lake: LakeResource) -> dg.AssetCheckResult:
    table = read_consolidated(lake.lake(), ["movie_id", "cast", "directors"])
    return _result(validation.check_credits_coverage(table, validation.CREDITS_COVERAGE_THRESHOLD))


@dg.asset_check(asset=MOVIE_SPLITS, blocking=True, description="no movie in two splits, every movie in one")
def movie_splits_disjoint_complete(lake: LakeResource) -> dg.AssetCheckResult:
    the_lake = lake.lake()
    splits = splits_lib.read_split_ids(the_lake)
    manifest = splits_lib.read_manifest(the_lake)
    val_start = dt.date.fromisoformat(manifest["val_start"])
    test_start = dt.date.fromisoformat(manifest["test_start"])
    all_ids = read_consolidated(the_lake, ["movie_id"]).column("movie_id")
    return _result(validation.check_splits(splits, all_ids, val_start, test_start))


@dg.asset_check(
    asset=DATA_PROFILE,
    blocking=False,
    description=(
        f"warn when a column's missing rate (null or empty list) rose by more than "
        f"{validation.NULL_SPIKE_THRESHOLD:.0%} since the previous profile"
    ),
)
def data_profile_null_spikes(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
    path = lake.lake().reports_dir / PROFILE_FILE
    current = json.loads(path.read_text(encoding="utf-8"))["missing_rates"]
    previous = _metadata_value(previous_materialization(context.instance, DATA_PROFILE), "missing_rates")
    outcome = validation.check_null_spikes(current, previous, validation.NULL_SPIKE_THRESHOLD)
    return _result(outcome, severity=dg.AssetCheckSeverity.WARN)


RELEASE_CHECKS = [
    movies_db_unique_ids,
    movies_db_row_drop,
    movies_db_image_urls,
    movies_db_credits_coverage,
    movie_splits_disjoint_complete,
    data_profile_null_spikes,
]
