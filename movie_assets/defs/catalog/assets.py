"""The catalog group: ``movie_id_export`` (TMDb's daily ID export, the list of every movie that exists, one
typed snapshot a day) and ``catalog_sync`` (the lake brought to TMDb's state of today). Thin wiring over
`movie_assets.harvest.exports` and `movie_assets.harvest.sync` — the same code as ``movie-assets sync``."""

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from movie_assets.defs.ingest import assets as ingest_assets
from movie_assets.defs.ingest.partitions import yearly_partitions
from movie_assets.harvest import exports
from movie_assets.harvest import sync as catalog_sync_lib
from movie_assets.harvest.deletions import DEFAULT_MIN_SHARE
from movie_assets.harvest.store import StoreError
from movie_assets.harvest.sync import SyncReport
from movie_assets.wiring.metadata import table_metadata
from movie_assets.wiring.policies import CATALOG_POLICY, TMDB_POOL, TMDB_RETRY
from movie_assets.wiring.resources import LakeResource, TMDbResource
from movie_assets.wiring.tmdb_step import tmdb_step

EXPORT_PREVIEW_COLUMNS = ["id", "original_title", "popularity", "adult", "video"]


class ExportConfig(dg.Config):
    include_adult: bool = Field(default=CATALOG_POLICY.include_adult,
                                description="also read adult_movie_ids_… (default MOVIE_ASSETS_INCLUDE_ADULT)")


@dg.asset(
    group_name="catalog",
    pool=TMDB_POOL,
    retry_policy=TMDB_RETRY,
    kinds={"python", "parquet"},
    description=(
        "TMDb's daily ID export (movie_ids_MM_DD_YYYY.json.gz from TMDB_EXPORTS_BASE_URL): every movie that "
        "exists, as data/raw/exports/day=D/movie_ids.parquet (id, original_title, popularity, adult, video, "
        "day). Uses the newest published day (falling back a day before 08:00 UTC or when a day is missing); "
        "refuses an export under 90% of the previous one. "
    ),
)
async def movie_id_export(
    context: dg.AssetExecutionContext, config: ExportConfig, tmdb: TMDbResource, lake: LakeResource
) -> dg.MaterializeResult:
    async with tmdb_step(context, tmdb, lake) as step:
        snapshot = await exports.fetch_export(
            step.client, lake.lake(), now=await step.client.server_time(), include_adult=config.include_adult,
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
            **step.metadata(),
            **(
                {"previous_day": snapshot.previous_day.isoformat(), "ids_added": snapshot.added,
                 "ids_removed": snapshot.removed}
                if snapshot.previous_day is not None
                else {}
            ),
        }
    )


class SyncConfig(dg.Config):
    include_adult: bool = Field(default=CATALOG_POLICY.include_adult,
                                description="adult titles too (default MOVIE_ASSETS_INCLUDE_ADULT)")
    include_video: bool = Field(default=CATALOG_POLICY.include_video,
                                description="video releases too (default MOVIE_ASSETS_INCLUDE_VIDEO)")
    batch_size: int = Field(default=500, ge=1, description="movies per stored batch (a kill loses at most one)")
    concurrency: int = Field(default=20, ge=1, le=200, description="details calls in flight at once")
    min_export_share: float = Field(
        default=DEFAULT_MIN_SHARE, gt=0.0, le=1.0,
        description="an export listing less than this share of the previous one's ids (or deleting more than "
                    "1 - share of the lake) counts as partial: its deletions wait for a whole export")


@dg.asset(
    group_name="catalog",
    pool=TMDB_POOL,
    retry_policy=TMDB_RETRY,
    kinds={"python", "parquet"},
    description=(
        "The lake brought to TMDb's state of today: the daily ID export says what exists, /movie/changes what "
        "changed since the last sync; new and changed movies are fetched into the details store, movies a whole "
        "export no longer lists are asked about once (a 404 is a tombstone), and the partitions are reconciled as "
        "sets: exactly the years that differ are rebuilt, together (the first sync fetches the whole catalog). "
        "Records the movies partitions it rebuilt. "
    ),
)
async def catalog_sync(
    context: dg.AssetExecutionContext, config: SyncConfig, tmdb: TMDbResource, lake: LakeResource
) -> dg.MaterializeResult:
    try:
        async with tmdb_step(context, tmdb, lake) as step:
            report = await catalog_sync_lib.sync(
                step.client, lake.lake(), include_adult=config.include_adult, include_video=config.include_video,
                min_export_share=config.min_export_share, batch_size=config.batch_size,
                concurrency=config.concurrency, progress=lambda p: context.log.info(f"sync {p.describe()}"),
                logger=context.log,
            )
    except StoreError as exc:  # another writer holds the store: a retry later may succeed
        raise dg.Failure(description=str(exc)) from None
    outside = record_sync(context.instance, report)
    return dg.MaterializeResult(
        metadata={
            **step.metadata(),
            "sync": report.describe(),
            "export_day": report.export_day.isoformat(),
            "full": report.full,
            "listed": report.listed,
            "new": report.new,
            "changed": report.changed,
            "vanished": report.vanished,
            "export_whole": report.deletions.trusted if report.deletions else True,
            "deletions_kept_for_a_whole_export": report.deletions.kept if report.deletions else 0,
            "excluded_by_policy": report.excluded_by_policy,
            "repaired": report.repaired.describe() if report.repaired else "",
            "tmdb/requests": report.requests,
            "partitions_rebuilt": dg.MetadataValue.json(
                ["undated" if y is None else y for y in report.years_rebuilt]),
            "years_outside_partitions": dg.MetadataValue.json(outside),
            "seconds": report.seconds,
        }
    )


SYNC_TAGS = {"movie_assets/trigger": "movie-assets-sync"}


def sync_summary(report: SyncReport) -> dict[str, str]:
    """The metadata every materialization a sync reports carries."""
    return {"sync": report.describe(), "export_day": report.export_day.isoformat()}


def record_sync(instance: dg.DagsterInstance, report: SyncReport) -> list[int]:
    """Record what a sync did as materializations in ``instance`` (the export, and each ``movies`` partition it
    rebuilt), so the UI shows them; a ``movie-assets sync`` runs outside Dagster's runs. Returns the rebuilt
    years that have no partition (reported in metadata instead, never dropped silently)."""
    keys = set(yearly_partitions.get_partition_keys())
    summary = sync_summary(report)
    instance.report_runless_asset_event(
        dg.AssetMaterialization(movie_id_export.key, metadata=summary, tags=SYNC_TAGS))
    outside = []
    for year in report.years_rebuilt:
        if year is None:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(ingest_assets.undated_movies.key, metadata=summary, tags=SYNC_TAGS))
        elif str(year) in keys:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(ingest_assets.movies.key, partition=str(year), metadata=summary,
                                        tags=SYNC_TAGS))
        else:
            outside.append(year)
    return outside
