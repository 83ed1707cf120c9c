"""Poster assets (optional): a local poster cache fetched through TMDb, CLIP image embeddings and their index.

Thin wiring over `movie_assets.posters`. They stay manual (no automation condition): downloading images
is a decision, not a side effect. `poster_embeddings` needs local CLIP weights (``model_path``) and
otherwise skips, reporting why in its metadata; nothing downloads model weights.
"""

import time

import dagster as dg
from pydantic import Field

from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.posters import cache, clip, poster_index
from movie_assets.posters.selection import poster_pairs, poster_rows
from movie_assets.wiring.policies import TMDB_POOL
from movie_assets.wiring.resources import LakeResource, TMDbResource
from movie_assets.wiring.tmdb_step import tmdb_step

GROUP = "posters"


class PostersConfig(dg.Config):
    """Which posters `movie_posters` caches."""

    size: str = Field(default=cache.DEFAULT_SIZE, description="TMDb image size (w92, w154, w185, w342, …)")
    limit: int = Field(default=1000, description="at most this many posters (most popular movies first)")
    years: list[int] | None = Field(default=None, description="only movies released in these years")
    concurrency: int = Field(default=cache.DEFAULT_CONCURRENCY, description="downloads in flight")


class PosterEmbeddingsConfig(dg.Config):
    """Where `poster_embeddings` finds CLIP and how it encodes."""

    model_path: str | None = Field(
        default=None,
        description="local CLIP directory (transformers save of CLIPModel or CLIPVisionModelWithProjection); "
        "unset = skip",
    )
    size: str = cache.DEFAULT_SIZE
    batch_size: int = clip.DEFAULT_BATCH_SIZE
    device: str = "cpu"
    years: list[int] | None = None


@dg.asset(
    group_name=GROUP,
    deps=[warehouse_assets.movies_db],
    pool=TMDB_POOL,
    kinds={"python"},
    description=(
        "Poster images of the most popular movies (config: size, limit, years), cached under "
        "data/posters/<size>/ through the same rate-limited TMDb client as the harvest; already cached "
        "files are not fetched again. "
    ),
)
async def movie_posters(
    context: dg.AssetExecutionContext, config: PostersConfig, tmdb: TMDbResource, lake: LakeResource
) -> dg.MaterializeResult:
    the_lake = lake.lake()
    wanted = poster_rows(the_lake, config.years, max(0, config.limit))
    async with tmdb_step(context, tmdb, lake) as step:
        result = await cache.cache_posters(
            step.client, the_lake, poster_pairs(wanted), size=config.size, concurrency=config.concurrency
        )
    context.log.info(
        f"movie_posters: {result.downloaded:,} downloaded, {result.skipped_cached:,} cached, "
        f"{result.missing:,} missing, {result.failed:,} failed in {result.seconds:.1f}s"
    )
    for error in result.errors[:5]:
        context.log.warning(error)
    return dg.MaterializeResult(
        metadata={
            **step.metadata(),  # first: ``seconds`` stays the download's own time, as before tmdb_step
            "wanted": wanted.num_rows,
            "downloaded": result.downloaded,
            "skipped_cached": result.skipped_cached,
            "missing": result.missing,
            "failed": result.failed,
            "bytes_downloaded": result.bytes_downloaded,
            "seconds": result.seconds,
            "size": config.size,
            "years": dg.MetadataValue.json(sorted(config.years) if config.years else "all"),
            "image_base": result.image_base,
            "path": dg.MetadataValue.path(str(the_lake.posters_dir / config.size)),
        }
    )


@dg.asset(
    group_name=GROUP,
    deps=[movie_posters],
    kinds={"python", "parquet", "faiss"},
    description=(
        "CLIP image embeddings (unit norm, float32) of the cached posters in "
        "data/processed/poster_embeddings.parquet, and a FAISS index over them under data/index/posters/ "
        "(same build as the text index). Needs local CLIP weights (config model_path); without them the "
        "step skips and says why. "
    ),
)
def poster_embeddings(
    context: dg.AssetExecutionContext, config: PosterEmbeddingsConfig, lake: LakeResource
) -> dg.MaterializeResult:
    model = clip.load_clip(config.model_path or None, device=config.device, logger=context.log)
    if model is None:
        reason = f"no CLIP weights at {config.model_path}; set model_path to a local CLIP directory"
        return dg.MaterializeResult(metadata={"skipped": True, "reason": reason})
    started = time.perf_counter()
    build = poster_index.embed_and_index_posters(lake.lake(), model, years=config.years, size=config.size,
                                                 batch_size=config.batch_size)
    result, report = build.embedded, build.report
    seconds = time.perf_counter() - started
    context.log.info(
        f"poster_embeddings: {result.embedded:,} vectors of {build.cached:,} cached posters "
        f"({result.unreadable} unreadable), {report.index_type} index in {seconds:.1f}s"
    )
    return dg.MaterializeResult(
        metadata={
            "skipped": False,
            "dagster/row_count": result.embedded,
            "unreadable": result.unreadable,
            "dimension": model.dimension,
            "model_path": str(model.path),
            "encode_seconds": round(result.seconds, 3),
            "index_type": report.index_type,
            "index_size_bytes": report.size_bytes,
            "path": dg.MetadataValue.path(str(result.path)),
            "index_path": dg.MetadataValue.path(str(clip.poster_index_dir(lake.lake()))),
        }
    )
