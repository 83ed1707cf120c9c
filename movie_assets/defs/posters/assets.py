"""Poster assets (group ``posters``): the second modality, partitioned by year like the text embeddings.

Thin wiring over `movie_assets.posters`: ``movie_posters[Y]`` fetches and records every poster of a year through
the image host's own rate, ``poster_embeddings[Y]`` embeds them (offline, packaged weights), ``poster_index``
indexes every year's current vectors (a blocking check: no cached poster without a current vector), and
``item_modalities`` records which modalities each movie has. Each follows its upstream like the text embeddings.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from movie_assets.defs.embeddings import assets as embedding_assets
from movie_assets.defs.ingest import assets as ingest_assets
from movie_assets.defs.ingest.partitions import partition_year, yearly_partitions
from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.embeddings import index
from movie_assets.embeddings.partitions import year_label
from movie_assets.embeddings.search import MovieSearch
from movie_assets.posters import cache, modalities, poster_index, preview, runs, year_posters, year_vectors
from movie_assets.settings import image_backend_from_env
from movie_assets.wiring.metadata import column_schema, counter_metadata
from movie_assets.wiring.policies import (
    AFTER_ANY_YEAR_UPDATED,
    DUCKDB_POOL,
    FOLLOW_UPSTREAM,
    FOLLOW_UPSTREAM_EVERY_YEAR,
    fail_fast_on_bad_input,
)
from movie_assets.wiring.resources import LakeResource, TMDbResource
from movie_assets.wiring.tmdb_step import tmdb_step

GROUP = "posters"


class PostersConfig(dg.Config):
    """How `movie_posters` fetches."""

    size: str = Field(default=cache.DEFAULT_SIZE, description="TMDb poster size (w92, w154, w185, w342, w500, …)")
    concurrency: int = Field(default=cache.DEFAULT_CONCURRENCY, description="downloads in flight")
    retry_unavailable: bool = Field(
        default=False, description="ask again for posters recorded as not_found, not_image, too_large, too_small or "
        "undecodable (otherwise their outcome stands until the poster_path changes)")


class PosterEmbeddingsConfig(dg.Config):
    """Which image encoder `poster_embeddings` loads, and how it encodes."""

    backend: str | None = Field(default=None, description="auto (torch on a CUDA device, else onnx), torch, onnx or "
                                "clip (needs model_path); default MOVIE_ASSETS_IMAGE_BACKEND, else auto")
    model_path: str | None = Field(default=None, description="local weights: an EfficientNet-Lite0 .pth, or a CLIP "
                                   "folder for backend clip; default the packaged EfficientNet-Lite0")
    model_sha256: str | None = Field(default=None, description="pinned sha256 of the weights (default: the packaged "
                                     "weights' hash)")
    device: str | None = None
    onnx_cache_dir: str | None = Field(default=None, description="where the ONNX export is cached (default "
                                       "<data dir>/models)")
    threads: int | None = None
    batch_size: int = year_vectors.DEFAULT_BATCH_SIZE


async def _fetch(context: dg.AssetExecutionContext, config: PostersConfig, tmdb: TMDbResource, lake: LakeResource,
                 year: int | None) -> dg.MaterializeResult:
    the_lake = lake.lake()
    with fail_fast_on_bad_input():
        cache.check_size(config.size, "movie_posters config size")
    async with tmdb_step(context, tmdb, lake) as step:
        fetched, image_stats = await runs.fetch_posters(the_lake, year, step.client, config.size,
                                                        config.concurrency, config.retry_unavailable, context.log)
    counts = fetched.counts()
    metadata = {
        "dagster/row_count": fetched.table.num_rows,
        "dagster/column_schema": column_schema(fetched.table.schema, year_posters.COLUMN_DESCRIPTIONS),
        "downloaded": fetched.downloaded, "reused": fetched.reused, "bytes_downloaded": fetched.bytes_downloaded,
        "seconds": round(fetched.seconds, 2), "size": config.size,
        "statuses": dg.MetadataValue.json(counts),
        **counter_metadata("images", image_stats),
        "path": dg.MetadataValue.path(str(the_lake.posters_year_file(year))),
    }
    if fetched.failed:
        context.add_output_metadata(metadata)
        raise dg.Failure(
            description=f"{year_label(year)}: {fetched.failed} posters could not be fetched after the retries "
            f"(e.g. {fetched.errors[0]}); they are recorded as failed and the next run asks for them again",
            metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


POSTERS_DESCRIPTION = (
    "Every poster of the year's movies, cached under data/posters/<size>/ (w185 by default) through the image "
    "host's own rate (TMDB_IMAGE_REQUESTS_PER_SECOND), and one row per movie in "
    "data/processed/posters_parquet/year=Y/: ok with the image's sha256, or no_poster, not_found, not_image, "
    "too_large, too_small, undecodable, failed, with the reason. Cached files are never fetched again; a changed "
    "poster_path fetches that movie only. "
)


@dg.asset(group_name=GROUP, partitions_def=yearly_partitions, deps=[ingest_assets.movies],
          automation_condition=FOLLOW_UPSTREAM_EVERY_YEAR, kinds={"python", "parquet"},
          description=POSTERS_DESCRIPTION)
async def movie_posters(context: dg.AssetExecutionContext, config: PostersConfig, tmdb: TMDbResource,
                        lake: LakeResource) -> dg.MaterializeResult:
    return await _fetch(context, config, tmdb, lake, partition_year(context.partition_key))


@dg.asset(group_name=GROUP, deps=[ingest_assets.undated_movies], automation_condition=FOLLOW_UPSTREAM,
          kinds={"python", "parquet"}, description=POSTERS_DESCRIPTION + "This one: the undated movies. ")
async def undated_movie_posters(context: dg.AssetExecutionContext, config: PostersConfig, tmdb: TMDbResource,
                                lake: LakeResource) -> dg.MaterializeResult:
    return await _fetch(context, config, tmdb, lake, None)


def _embed(context: dg.AssetExecutionContext, config: PosterEmbeddingsConfig, lake: LakeResource,
           year: int | None) -> dg.MaterializeResult:
    the_lake = lake.lake()
    with fail_fast_on_bad_input():
        encoder = runs.image_encoder(the_lake, config.backend or image_backend_from_env(), model_path=config.model_path,
                                     model_sha256=config.model_sha256, device=config.device,
                                     cache_dir=config.onnx_cache_dir, threads=config.threads, log=context.log.info)
    result = runs.embed_posters(the_lake, year, encoder, config.batch_size, context.log.info)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": result.table.num_rows,
        "dagster/column_schema": column_schema(result.table.schema, year_vectors.COLUMN_DESCRIPTIONS),
        "encoded": result.encoded, "reused": result.reused, "encode_seconds": round(result.seconds, 3),
        "throughput_images_per_second": round(result.rate, 2),
        "backend": encoder.name, "image_model_id": encoder.model_id, "dimension": encoder.dimension,
        "backend_details": dg.MetadataValue.json(encoder.describe()),
        "path": dg.MetadataValue.path(str(the_lake.poster_vectors_year_file(year))),
    })


VECTORS_DESCRIPTION = (
    "Image embeddings (unit norm, float32) of the year's cached posters in "
    "data/processed/poster_embeddings_parquet/year=Y/, by the packaged EfficientNet-Lite0 (ImageNet, 1280-d, "
    "sha256-pinned, float32 ONNX on CPU, torch on CUDA; CLIP when pointed at local weights). Reused per poster path "
    "and image sha256: only new or changed posters are encoded; another model or backend re-encodes the year. "
)


@dg.asset(group_name=GROUP, partitions_def=yearly_partitions, deps=[movie_posters],
          automation_condition=FOLLOW_UPSTREAM_EVERY_YEAR, kinds={"python", "parquet"},
          description=VECTORS_DESCRIPTION)
def poster_embeddings(context: dg.AssetExecutionContext, config: PosterEmbeddingsConfig,
                      lake: LakeResource) -> dg.MaterializeResult:
    return _embed(context, config, lake, partition_year(context.partition_key))


@dg.asset(group_name=GROUP, deps=[undated_movie_posters], automation_condition=FOLLOW_UPSTREAM,
          kinds={"python", "parquet"}, description=VECTORS_DESCRIPTION + "This one: the undated movies. ")
def undated_poster_embeddings(context: dg.AssetExecutionContext, config: PosterEmbeddingsConfig,
                              lake: LakeResource) -> dg.MaterializeResult:
    return _embed(context, config, lake, None)


COVERS_CHECK = "poster_index_covers_cached_posters"


@dg.asset(
    name="poster_index", group_name=GROUP, automation_condition=AFTER_ANY_YEAR_UPDATED, kinds={"python", "faiss"},
    deps=[dg.AssetDep(poster_embeddings, partition_mapping=dg.AllPartitionMapping()), undated_poster_embeddings,
          warehouse_assets.movies_db],
    check_specs=[dg.AssetCheckSpec(
        COVERS_CHECK, asset="poster_index", blocking=True,
        description="every movie whose current poster is cached has a current image vector (same poster path and "
        "image sha256) in the index; fails naming the years to embed again")],
    description="FAISS index over every year's current poster vectors under data/index/posters/ (the text index's "
    "build: flat or HNSW with a recall check, id map with titles), and a preview of a few movies' poster "
    "neighbours as an image in its metadata. ",
)
def poster_index_asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    with fail_fast_on_bad_input():
        vectors = poster_index.current_poster_vectors(the_lake)
    report = poster_index.build_poster_index(the_lake, vectors)
    search = MovieSearch.load(the_lake, poster_index.INDEX_NAME)
    covered = vectors.without_vectors == 0
    check = dg.AssetCheckResult(
        check_name=COVERS_CHECK, passed=covered,
        description="every cached poster has a current vector" if covered else
        f"{vectors.without_vectors:,} of {vectors.cached:,} cached posters have no current vector; materialize "
        f"poster_embeddings for {', '.join(vectors.years_to_embed)}",
        metadata={"cached_posters": vectors.cached, "without_vectors": vectors.without_vectors})
    context.log.info(f"poster_index: {report.index_type} over {report.vectors:,} posters, recall@{report.recall_k} "
                     f"{report.recall_at_k:.4f}")
    return dg.MaterializeResult(check_results=[check], metadata={
        "dagster/row_count": report.vectors, "index_type": report.index_type, "dimension": report.dimension,
        f"recall_at_{report.recall_k}": report.recall_at_k, "size_bytes": report.size_bytes,
        "image_model_id": vectors.source.get("model_id", "unrecorded"),
        "backend": vectors.source.get("backend", "unrecorded"),
        "preview": dg.MetadataValue.md(preview.preview_markdown(the_lake, search)),
        "path": dg.MetadataValue.path(str(index.index_dir(the_lake, poster_index.INDEX_NAME))),
    })


@dg.asset(
    group_name=GROUP, automation_condition=FOLLOW_UPSTREAM, pool=DUCKDB_POOL, kinds={"python", "parquet", "duckdb"},
    deps=[embedding_assets.movie_index, poster_index_asset, warehouse_assets.movies_db],
    description="Which modalities each movie has (data/processed/item_modalities.parquet, also the "
    "item_modalities view of movies.duckdb): movie_id, year, has_text, has_poster, poster_status, text_model_id, "
    "image_model_id; and reports/item_modalities.json, the coverage by year, language and popularity decile. ",
)
def item_modalities(context: dg.AssetExecutionContext, lake: LakeResource,
                    duckdb: DuckDBResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    with fail_fast_on_bad_input():
        written = runs.write_item_modalities(the_lake, duckdb.database)
    overall = written.report["overall"]
    context.log.info(f"item_modalities: {written.report['movies']:,} movies, text {overall['text']:.1%}, poster "
                     f"{overall['poster']:.1%}, both {overall['both']:.1%}")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": written.table.num_rows,
        "dagster/column_schema": column_schema(written.table.schema, modalities.COLUMN_DESCRIPTIONS),
        "share_text": overall["text"], "share_poster": overall["poster"], "share_both": overall["both"],
        "poster_status": dg.MetadataValue.json(written.report["poster_status"]),
        "path": dg.MetadataValue.path(str(the_lake.item_modalities_file)),
        "report": dg.MetadataValue.path(str(written.report_file)),
    })
