"""Checks on ``movies_db``: the blocking ones every release and embedding asset depends on, and a warning
about payloads that predate an append of the details call.

Thin wrappers over `movie_assets.warehouse.validation`; thresholds are module constants there
(``MAX_ROW_DROP``, ``CREDITS_COVERAGE_THRESHOLD``). When a blocking one fails, downstream assets in the same
run do not materialize.
"""

import dagster as dg
import pyarrow.parquet as pq

from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.lake.languages import lake_languages, translated
from movie_assets.lake.schema import wanted_appends
from movie_assets.release.common import read_consolidated
from movie_assets.warehouse import validation
from movie_assets.warehouse.appends import REFETCH_COMMAND
from movie_assets.warehouse.completeness import check_complete
from movie_assets.wiring.checks import check_result, metadata_value, previous_materialization
from movie_assets.wiring.resources import LakeResource


@dg.asset_check(asset=warehouse_assets.movies_db, blocking=True, description="movie_id is unique and never null")
def movies_db_unique_ids(lake: LakeResource) -> dg.AssetCheckResult:
    ids = read_consolidated(lake.lake(), ["movie_id"]).column("movie_id")
    return check_result(validation.check_unique_ids(ids))


@dg.asset_check(
    asset=warehouse_assets.movies_db,
    blocking=True,
    description=f"rows did not drop by more than {validation.MAX_ROW_DROP:.0%} against the previous materialization",
)
def movies_db_row_drop(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
    the_lake = lake.lake()
    if not the_lake.movies_file.exists():
        return dg.AssetCheckResult(passed=False, description=f"{the_lake.movies_file} does not exist")
    current = pq.ParquetFile(the_lake.movies_file).metadata.num_rows
    previous_db = previous_materialization(context.instance, warehouse_assets.movies_db.key)
    previous = metadata_value(previous_db, "dagster/row_count")
    return check_result(validation.check_row_drop(current, int(previous) if previous is not None else None,
                                             validation.MAX_ROW_DROP))


@dg.asset_check(
    asset=warehouse_assets.movies_db,
    blocking=True,
    description="poster_url/backdrop_url null exactly when the path is",
)
def movies_db_image_urls(lake: LakeResource) -> dg.AssetCheckResult:
    columns = ["movie_id", "poster_path", "poster_url", "backdrop_path", "backdrop_url"]
    return check_result(validation.check_image_urls(read_consolidated(lake.lake(), columns)))


@dg.asset_check(
    asset=warehouse_assets.movies_db,
    blocking=True,
    description=f"at least {validation.CREDITS_COVERAGE_THRESHOLD:.0%} of movies have a cast member",
)
def movies_db_credits_coverage(lake: LakeResource) -> dg.AssetCheckResult:
    table = read_consolidated(lake.lake(), ["movie_id", "cast", "directors"])
    return check_result(validation.check_credits_coverage(table, validation.CREDITS_COVERAGE_THRESHOLD))


@dg.asset_check(
    asset=warehouse_assets.movies_db,
    blocking=True,
    description="after a catalog sync: every movie of TMDb's newest daily export is in movies (in the year of "
    "its current date, or undated) or tombstoned; missing / misplaced / extra counts in the metadata",
)
def movies_db_matches_the_export(lake: LakeResource) -> dg.AssetCheckResult:
    return check_result(check_complete(lake.lake()))


@dg.asset_check(
    asset=warehouse_assets.movies_db,
    blocking=False,
    description="warning only: counts the movies whose stored payload predates each append of the details call "
    "(release_dates, external_ids, videos, …: their columns are null until fetched again) and names the command "
    f"that fetches them (`{REFETCH_COMMAND} release_dates,videos`); always passes",
)
def movies_db_missing_appends(lake: LakeResource) -> dg.AssetCheckResult:
    the_lake = lake.lake()
    appends = wanted_appends(bool(translated(lake_languages(the_lake))))
    missing = read_consolidated(the_lake, ["missing_appends"]).column("missing_appends")
    return check_result(validation.check_missing_appends(missing, appends), severity=dg.AssetCheckSeverity.WARN)
