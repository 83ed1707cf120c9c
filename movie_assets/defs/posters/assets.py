"""Poster assets (optional): a local poster cache fetched through TMDb, CLIP image embeddings and their index.

Thin wiring over `movie_assets.posters`. They stay manual (no automation condition): downloading images
is a decision, not a side effect. `poster_embeddings` needs local CLIP weights (``model_path``) and
otherwise skips, reporting why in its metadata; nothing downloads model weights.
"""

import time

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import Field

from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.embeddings import index
from movie_assets.embeddings.encode import vectors_of
from movie_assets.posters import cache, clip
from movie_assets.wiring.policies import TMDB_POOL
from movie_assets.wiring.resources import LakeResource, TMDbResource

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


def _poster_rows(lake, years: list[int] | None, limit: int | None) -> pa.Table:
    source = lake.movies_file
    if not source.exists():
        raise FileNotFoundError(f"{str(source)!r} does not exist; materialize movies_db first")
    names = pq.read_schema(source).names
    columns = [c for c in ("movie_id", "poster_path", "year", "popularity", "title") if c in names]
    only_years = [("year", "in", list(years))] if years else None
    table = pq.read_table(source, columns=columns, filters=only_years)
    table = table.filter(pc.is_valid(table.column("poster_path")))
    if "popularity" in table.column_names:
        table = table.sort_by([("popularity", "descending"), ("movie_id", "ascending")])
    else:
        table = table.sort_by("movie_id")
    return table.slice(0, limit) if limit is not None else table


def _pairs(table: pa.Table) -> list[tuple[int, str]]:
    return list(zip(table.column("movie_id").to_pylist(), table.column("poster_path").to_pylist(), strict=True))


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
    wanted = _poster_rows(the_lake, config.years, max(0, config.limit))
    async with tmdb.client(context.log) as client:
        result = await cache.cache_posters(
            client, the_lake, _pairs(wanted), size=config.size, concurrency=config.concurrency
        )
        stats = client.stats.as_dict()
    context.log.info(
        f"movie_posters: {result.downloaded:,} downloaded, {result.skipped_cached:,} cached, "
        f"{result.missing:,} missing, {result.failed:,} failed in {result.seconds:.1f}s"
    )
    for error in result.errors[:5]:
        context.log.warning(error)
    return dg.MaterializeResult(
        metadata={
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
            "tmdb_requests": stats["requests"],
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
    the_lake = lake.lake()
    movies = _poster_rows(the_lake, config.years, None)
    cached = cache.cached_posters(the_lake, _pairs(movies), config.size)
    context.log.info(f"embedding {len(cached):,} cached posters with {model.path}")
    started = time.perf_counter()
    result = clip.embed_posters(model, the_lake, cached, batch_size=config.batch_size)
    titles = movies.select([c for c in ("movie_id", "title", "year") if c in movies.column_names])
    if "title" not in titles.column_names or "year" not in titles.column_names:
        titles = None
    report = clip.build_poster_index(
        the_lake,
        result.table.column("movie_id").to_numpy(),
        vectors_of(result.table),
        titles,
        index.IndexParams(),
        extra_manifest={"model_path": str(model.path), "size": config.size},
    )
    seconds = time.perf_counter() - started
    context.log.info(
        f"poster_embeddings: {result.embedded:,} vectors ({result.unreadable} unreadable), "
        f"{report.index_type} index in {seconds:.1f}s"
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
            "index_path": dg.MetadataValue.path(str(clip.poster_index_dir(the_lake))),
        }
    )
