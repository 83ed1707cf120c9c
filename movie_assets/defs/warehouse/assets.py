"""``movies_db`` (group ``warehouse``): every materialized year (and the undated movies) in one Parquet file,
and DuckDB views.

Thin wiring over `movie_assets.warehouse.build`. It rebuilds after any year of ``movies`` updated, once no
year is in progress (its automation condition, evaluated by ``downstream_automation_sensor``).
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from movie_assets.defs.catalog import assets as catalog_assets
from movie_assets.defs.ingest import assets as ingest_assets
from movie_assets.harvest.sync import SyncReport
from movie_assets.lake.schema import COLUMN_DESCRIPTIONS
from movie_assets.warehouse import build
from movie_assets.wiring.metadata import table_metadata
from movie_assets.wiring.policies import AFTER_ANY_YEAR_UPDATED, DUCKDB_POOL
from movie_assets.wiring.resources import LakeResource


@dg.asset(
    group_name="warehouse",
    deps=[
        dg.AssetDep(ingest_assets.movies, partition_mapping=dg.AllPartitionMapping()),
        ingest_assets.undated_movies,
        catalog_assets.catalog_sync,
    ],
    pool=DUCKDB_POOL,
    kinds={"duckdb", "parquet"},
    automation_condition=AFTER_ANY_YEAR_UPDATED,
    description=(
        "data/movies.duckdb with views over the lake (movies; one row per list element: movie_cast, movie_crew, "
        "movie_companies, movie_countries, movie_certifications, movie_release_events, movie_trailers, "
        "movie_titles; movies_per_year) and the "
        "consolidated data/processed/movies.parquet of every materialized year and the undated movies "
        "(year NULL). "
    ),
)
def movies_db(context: dg.AssetExecutionContext, lake: LakeResource, duckdb: DuckDBResource) -> dg.MaterializeResult:
    summary = build.build_movies_db(lake.lake(), duckdb.database)
    per_year = summary.per_year
    context.log.info(f"movies_db: {summary.rows} movies over {len(per_year)} years")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(summary.head, descriptions=COLUMN_DESCRIPTIONS),
            "dagster/row_count": summary.rows,
            "dagster/uri": str(lake.lake().movies_file),
            "years": dg.MetadataValue.md(
                "| year | movies |\n|---|---|\n" + "\n".join(f"| {y} | {n} |" for y, n in per_year)
            ),
        }
    )


def record_sync_rebuild(instance: dg.DagsterInstance, report: SyncReport, rows: int, outside: list[int]) -> None:
    """Record the ``movies_db`` a ``movie-assets sync`` rebuilt after `catalog_assets.record_sync`."""
    instance.report_runless_asset_event(dg.AssetMaterialization(
        movies_db.key, tags=catalog_assets.SYNC_TAGS,
        metadata={**catalog_assets.sync_summary(report), "dagster/row_count": rows,
                  "years_outside_partitions": dg.MetadataValue.json(outside)},
    ))
