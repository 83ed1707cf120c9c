"""Ingest assets (group ``ingest``): discover → details → typed yearly Parquet, one year per partition.

Thin wiring over `movie_assets.harvest.stages`: each asset reads its partition's year, calls the
plain-Python stage, and reports row counts, schema, request counters and a preview.
"""

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from movie_assets.defs.ingest.partitions import partition_year, yearly_partitions
from movie_assets.harvest import stages, year_build
from movie_assets.harvest.refetch import parse_appends
from movie_assets.lake.schema import COLUMN_DESCRIPTIONS
from movie_assets.wiring.metadata import table_metadata
from movie_assets.wiring.policies import (
    AFTER_ANY_YEAR_UPDATED,
    CATALOG_POLICY,
    TMDB_POOL,
    TMDB_RETRY,
    fail_fast_on_bad_input,
)
from movie_assets.wiring.resources import LakeResource, TMDbResource
from movie_assets.wiring.tmdb_step import tmdb_step

GROUP = "ingest"


class DiscoverConfig(dg.Config):
    include_adult: bool = Field(default=CATALOG_POLICY.include_adult,
                                description="include adult titles (default MOVIE_ASSETS_INCLUDE_ADULT)")
    include_video: bool = Field(default=CATALOG_POLICY.include_video,
                                description="include video releases (default MOVIE_ASSETS_INCLUDE_VIDEO)")


class DetailsConfig(dg.Config):
    concurrency: int = Field(default=20, ge=1, le=200, description="details calls in flight at once")
    batch_size: int = Field(default=500, ge=1, description="movies per details-store shard (a kill loses at most one)")
    refetch_all: bool = Field(default=False, description="fetch every movie of the year again, stored or not")
    refetch_ids: list[int] = Field(
        default=[], description="fetch these movies again even if stored (set by changes_sensor)"
    )
    refetch_missing: list[str] = Field(
        default=[], description="fetch again the year's movies whose stored payload lacks any of these appends "
                                "(release_dates, external_ids, videos, alternative_titles, translations, …): "
                                "payloads stored before the details call asked for them"
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=yearly_partitions,
    pool=TMDB_POOL,
    retry_policy=TMDB_RETRY,
    kinds={"python", "parquet"},
    description=(
        "Every movie released in the year, from TMDb /discover/movie, date-windowed so no query passes the "
        "10,000-result cap; unchanged windows are reused on re-materialization. "
    ),
)
async def discover_movies(
    context: dg.AssetExecutionContext, config: DiscoverConfig, tmdb: TMDbResource, lake: LakeResource
) -> dg.MaterializeResult:
    async with tmdb_step(context, tmdb, lake) as step:
        year = partition_year(context.partition_key)
        summary = await stages.run_discover(
            step.client,
            lake.lake(),
            year,
            include_adult=config.include_adult,
            include_video=config.include_video,
            progress=context.log.debug,
        )
    table = pq.read_table(summary.path)
    context.log.info(
        f"{year}: {summary.movies} movies from {summary.windows} windows "
        f"({summary.reused_windows} reused, {summary.repaged_windows} paged) in {step.stats['requests']} requests"
    )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(table, preview_columns=["movie_id", "title", "release_date", "popularity"]),
            "dagster/uri": str(summary.path),
            "windows": summary.windows,
            "windows_reused": summary.reused_windows,
            "windows_paged": summary.repaged_windows,
            **step.metadata(),
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=yearly_partitions,
    deps=[discover_movies],
    pool=TMDB_POOL,
    retry_policy=TMDB_RETRY,
    kinds={"python", "parquet"},
    description=(
        "Details with credits, keywords, release dates, external ids, videos and alternative titles (and "
        "translations when MOVIE_ASSETS_LANGUAGES names more languages) for each discovered movie, one TMDb call "
        "each, checkpointed per batch with a status per movie; a re-run fetches only what is missing. "
    ),
)
async def movie_details(
    context: dg.AssetExecutionContext, config: DetailsConfig, tmdb: TMDbResource, lake: LakeResource
) -> dg.MaterializeResult:
    async with tmdb_step(context, tmdb, lake) as step:
        year = partition_year(context.partition_key)
        summary = await stages.run_details(
            step.client,
            lake.lake(),
            year,
            batch_size=config.batch_size,
            concurrency=config.concurrency,
            refetch_all=config.refetch_all,
            refetch=set(config.refetch_ids),
            progress=lambda p: context.log.info(f"{year} details {p.describe()}"),
            logger=context.log,
            policy=CATALOG_POLICY,
            refetch_missing=parse_appends(config.refetch_missing, "refetch_missing") if config.refetch_missing
            else (),
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": summary.movies,
            "dagster/uri": str(lake.lake().details_store_dir),
            "requested": summary.requested,
            "ok": summary.ok,
            "not_found": summary.not_found,
            "failed": summary.failed,
            "vanished_since_discover": len(summary.vanished),
            "discarded_corrupt_shards": len(summary.discarded_shards),
            **step.metadata(),
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=yearly_partitions,
    deps=[movie_details],
    kinds={"parquet"},
    description=(
        "The typed movies table of the year, Hive-partitioned at processed/movies_parquet/year=Y/: the latest "
        "good version (from the details store) of every movie whose current release date is in the year; "
        "deterministic bytes, replaced atomically. "
    ),
)
def movies(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    year = partition_year(context.partition_key)
    table, others = year_build.build_year_and_moves(lake.lake(), year, CATALOG_POLICY)
    if others:
        context.log.info(f"{year}: movies that moved also rebuilt {', '.join(map(str, others))}")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(table, descriptions=COLUMN_DESCRIPTIONS),
            "other_years_rebuilt": ", ".join("undated" if y is None else str(y) for y in others) or "none",
            "dagster/uri": str(lake.lake().movies_year_file(year)),
        }
    )


@dg.asset(
    group_name=GROUP,
    deps=[dg.AssetDep(movie_details, partition_mapping=dg.AllPartitionMapping())],
    kinds={"parquet"},
    automation_condition=AFTER_ANY_YEAR_UPDATED,
    description=(
        "The typed movies without a release date (TMDb lists some that never get one, and dates can be "
        "removed), at processed/movies_parquet/year=__HIVE_DEFAULT_PARTITION__/ (Hive's null partition: "
        "DuckDB and pyarrow read it as year NULL), built from the details store, replaced atomically. "
    ),
)
def undated_movies(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    with fail_fast_on_bad_input():
        table = year_build.build_movies_undated(lake.lake())
    context.log.info(f"undated_movies: {table.num_rows} movies without a release date")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(table, descriptions=COLUMN_DESCRIPTIONS),
            "dagster/uri": str(lake.lake().movies_year_file(None)),
        }
    )
