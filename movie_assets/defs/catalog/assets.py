"""``movie_id_export`` (group ``catalog``): TMDb's daily ID export, the list of every movie that exists,
stored as one typed Parquet snapshot a day. Thin wiring over `movie_assets.harvest.exports`."""

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from movie_assets.harvest import exports
from movie_assets.wiring.metadata import ATTRIBUTION, table_metadata
from movie_assets.wiring.policies import TMDB_POOL, TMDB_RETRY, fail_fast_on_bad_input
from movie_assets.wiring.resources import LakeResource, TMDbResource

EXPORT_PREVIEW_COLUMNS = ["id", "original_title", "popularity", "adult", "video"]


class ExportConfig(dg.Config):
    include_adult: bool = Field(default=False, description="also read adult_movie_ids_… (adult titles)")


@dg.asset(
    group_name="catalog",
    pool=TMDB_POOL,
    retry_policy=TMDB_RETRY,
    kinds={"python", "parquet"},
    description=(
        "TMDb's daily ID export (movie_ids_MM_DD_YYYY.json.gz from TMDB_EXPORTS_BASE_URL): every movie that "
        "exists, as data/raw/exports/day=D/movie_ids.parquet (id, original_title, popularity, adult, video, "
        "day). Uses the newest published day (falling back a day before 08:00 UTC or when a day is missing); "
        "refuses an export under 90% of the previous one. " + ATTRIBUTION
    ),
)
async def movie_id_export(
    context: dg.AssetExecutionContext, config: ExportConfig, tmdb: TMDbResource, lake: LakeResource
) -> dg.MaterializeResult:
    with fail_fast_on_bad_input():
        async with tmdb.client(context.log) as client:
            snapshot = await exports.fetch_export(
                client, lake.lake(), now=await client.server_time(), include_adult=config.include_adult,
                logger=context.log,
            )
    table = pq.read_table(snapshot.path)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(table, preview_columns=EXPORT_PREVIEW_COLUMNS),
            "dagster/uri": str(snapshot.path),
            "export_day": snapshot.day.isoformat(),
            "reused": snapshot.reused,
            "days_not_published": dg.MetadataValue.json(snapshot.skipped_days),
            **(
                {"previous_day": snapshot.previous_day.isoformat(), "ids_added": snapshot.added,
                 "ids_removed": snapshot.removed}
                if snapshot.previous_day is not None
                else {}
            ),
        }
    )
