"""Checks on the release: the splits are disjoint and complete (blocking); a column's missing rate did not
spike since the previous profile (warning only). Thin wrappers over `movie_assets.release.validation`."""

import datetime as dt
import json

import dagster as dg

from movie_assets.defs.release import assets as release_assets
from movie_assets.release import splits as splits_lib
from movie_assets.release import validation
from movie_assets.release.common import read_consolidated
from movie_assets.wiring.checks import check_result, metadata_value, previous_materialization
from movie_assets.wiring.resources import LakeResource


@dg.asset_check(
    asset=release_assets.movie_splits, blocking=True, description="no movie in two splits, every movie in one"
)
def movie_splits_disjoint_complete(lake: LakeResource) -> dg.AssetCheckResult:
    the_lake = lake.lake()
    splits = splits_lib.read_split_ids(the_lake)
    manifest = splits_lib.read_manifest(the_lake)
    val_start = dt.date.fromisoformat(manifest["val_start"])
    test_start = dt.date.fromisoformat(manifest["test_start"])
    all_ids = read_consolidated(the_lake, ["movie_id"]).column("movie_id")
    return check_result(validation.check_splits(splits, all_ids, val_start, test_start))


@dg.asset_check(
    asset=release_assets.data_profile,
    blocking=False,
    description=(
        f"warn when a column's missing rate (null or empty list) rose by more than "
        f"{validation.NULL_SPIKE_THRESHOLD:.0%} since the previous profile"
    ),
)
def data_profile_null_spikes(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
    path = lake.lake().profile_file
    current = json.loads(path.read_text(encoding="utf-8"))["missing_rates"]
    previous_profile = previous_materialization(context.instance, release_assets.data_profile.key)
    previous = metadata_value(previous_profile, "missing_rates")
    outcome = validation.check_null_spikes(current, previous, validation.NULL_SPIKE_THRESHOLD)
    return check_result(outcome, severity=dg.AssetCheckSeverity.WARN)
