"""FAISS index over the movie vectors: exact ``IndexFlatIP`` up to a size threshold, HNSW above it.

Vectors are unit norm, so inner product is cosine similarity. The index, its row → movie id map (Parquet,
with title and year for search) and a small JSON manifest are built in a scratch directory and swapped
into ``<lake.index_dir>/movies`` in one rename, so readers never see a mixed set.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.lake import Lake, atomic_dir, json_text

INDEX_SUBDIR = "movies"
INDEX_FILE = f"{INDEX_SUBDIR}.faiss"
ASSETS_BUILDING = {"movies": "movie_embeddings and movie_index",
                   "posters": "movie_posters, poster_embeddings and poster_index"}
IDMAP_FILE = "id_map.parquet"
MANIFEST_FILE = "manifest.json"
FLAT = "flat_ip"
HNSW = "hnsw_flat_ip"

IDMAP_SCHEMA = pa.schema([("row", pa.int64()), ("movie_id", pa.int64()), ("title", pa.string()), ("year", pa.int16())])


@dataclass(frozen=True)
class IndexParams:
    """How to build the index: exact up to ``exact_max`` vectors, HNSW (inner product) above.

    Defaults from ``benchmarks/bench_index_1m.py`` (vectors derived from encoded emulator movies, so they have
    the spectrum and neighbour structure of real MiniLM movie vectors): M 16 / efConstruction 100 / efSearch 64
    gives recall@10 ≈ 0.997–0.999 at 100k–200k (extrapolated ≥ 0.98 at 1M) at about half the build time and
    ~8 % less memory than the former 32 / 200 / 128, whose extra recall (0.9999) costs ~2× the build and ~2×
    the query time. Exact search stays up to 200k vectors: ~10 ms a query there (one thread), ~5× that at 1M.
    """

    exact_max: int = 200_000
    hnsw_m: int = 16
    ef_construction: int = 100
    ef_search: int = 64
    recall_queries: int = 200
    recall_k: int = 10
    seed: int = 0
    threads: int | None = None


@dataclass(frozen=True)
class IndexReport:
    """What `build_index_files` measured: figures for asset metadata and the recall check."""

    index_type: str
    vectors: int
    dimension: int
    build_seconds: float
    size_bytes: int
    recall_at_k: float
    recall_k: int
    recall_queries: int
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def index_type_for(n: int, params: IndexParams) -> str:
    """``flat_ip`` for up to ``params.exact_max`` vectors, ``hnsw_flat_ip`` above."""
    return FLAT if n <= params.exact_max else HNSW


def build_index(vectors: np.ndarray, params: IndexParams = IndexParams(), index_type: str | None = None) -> faiss.Index:
    """A FAISS index holding ``vectors`` (row i = vector i); the type follows `index_type_for` unless given."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    if params.threads:
        faiss.omp_set_num_threads(params.threads)
    kind = index_type or index_type_for(n, params)
    if kind == FLAT:
        index = faiss.IndexFlatIP(d)
    elif kind == HNSW:
        index = faiss.IndexHNSWFlat(d, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        index.hnsw.efSearch = params.ef_search
    else:
        raise ValueError(f"unknown index type {kind!r}")
    if n:
        index.add(vectors)
    return index


def set_ef_search(index: faiss.Index, ef_search: int) -> None:
    """Set efSearch on an HNSW index (no-op for flat)."""
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = ef_search


def recall_at_k(
    index: faiss.Index, vectors: np.ndarray, *, n_queries: int = 200, k: int = 10, seed: int = 0
) -> float:
    """Mean recall@k of ``index`` against exact inner-product search over the same ``vectors``.

    Queries are ``n_queries`` stored vectors drawn with a fixed seed; each query's own row is removed from
    both result lists (similar-movie search never returns the movie asked about), so the figure measures
    the neighbours proper. A flat index gives 1.0 by construction.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = vectors.shape[0]
    if n <= 1:
        return 1.0
    k = min(k, n - 1)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(n_queries, n), replace=False))
    queries = vectors[rows]
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, k + 1)
    _, found = index.search(queries, k + 1)
    hits = 0
    for q, row in enumerate(rows):
        want = [int(r) for r in truth[q] if r != row and r >= 0][:k]
        got = [int(r) for r in found[q] if r != row and r >= 0][:k]
        hits += len(set(want) & set(got))
    return hits / (len(rows) * k)


def index_dir(lake: Lake, name: str = INDEX_SUBDIR) -> Path:
    """Directory of an index inside the lake (``movies`` for text; other names for other modalities)."""
    return lake.index_dir_for(name)


def dir_size(path: Path) -> int:
    """Total size in bytes of the files directly in ``path``."""
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def build_index_files(
    lake: Lake,
    movie_ids: np.ndarray,
    vectors: np.ndarray,
    titles: pa.Table | None = None,
    params: IndexParams = IndexParams(),
    extra_manifest: dict[str, Any] | None = None,
    name: str = INDEX_SUBDIR,
) -> IndexReport:
    """Build the index over ``vectors`` (row i ↔ ``movie_ids[i]``), measure it, save it atomically under
    ``index/<name>/`` as ``<name>.faiss`` plus id map and manifest.

    ``titles`` (columns movie_id, title, year) fills the id map's title/year columns for search.
    """
    movie_ids = np.asarray(movie_ids, dtype=np.int64)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(movie_ids) != vectors.shape[0]:
        raise ValueError("movie_ids and vectors disagree in length")
    kind = index_type_for(len(movie_ids), params)
    started = time.perf_counter()
    index = build_index(vectors, params, kind)
    build_seconds = time.perf_counter() - started
    if kind == FLAT:
        recall = 1.0
    else:
        recall = recall_at_k(index, vectors, n_queries=params.recall_queries, k=params.recall_k, seed=params.seed)

    idmap = _id_map(movie_ids, titles)
    index_file = f"{name}.faiss"
    with atomic_dir(index_dir(lake, name)) as build:
        faiss.write_index(index, str(build / index_file))
        pq.write_table(idmap, build / IDMAP_FILE, compression="zstd", store_schema=True)
        size = (build / index_file).stat().st_size + (build / IDMAP_FILE).stat().st_size
        report = IndexReport(
            index_type=kind,
            vectors=len(movie_ids),
            dimension=int(vectors.shape[1]),
            build_seconds=round(build_seconds, 4),
            size_bytes=size,
            recall_at_k=round(float(recall), 6),
            recall_k=params.recall_k,
            recall_queries=min(params.recall_queries, len(movie_ids)),
            params=asdict(params),
        )
        # The build time goes to the asset's metadata, not into the file: published files are deterministic.
        figures = {k: v for k, v in report.to_dict().items() if k != "build_seconds"}
        manifest = {"report": figures, **(extra_manifest or {})}
        (build / MANIFEST_FILE).write_text(json_text(manifest), encoding="utf-8")
    return report


def _id_map(movie_ids: np.ndarray, titles: pa.Table | None) -> pa.Table:
    n = len(movie_ids)
    title_col: list[str | None] = [None] * n
    year_col: list[int | None] = [None] * n
    if titles is not None and titles.num_rows:
        lookup = {
            int(m): (t, y)
            for m, t, y in zip(
                titles.column("movie_id").to_pylist(),
                titles.column("title").to_pylist(),
                titles.column("year").to_pylist(),
                strict=True,
            )
        }
        for i, m in enumerate(movie_ids.tolist()):
            title_col[i], year_col[i] = lookup.get(m, (None, None))
    return pa.table(
        {
            "row": pa.array(np.arange(n, dtype=np.int64)),
            "movie_id": pa.array(movie_ids, type=pa.int64()),
            "title": pa.array(title_col, type=pa.string()),
            "year": pa.array(year_col, type=pa.int16()),
        },
        schema=IDMAP_SCHEMA,
    )


def read_manifest(lake: Lake) -> dict[str, Any]:
    """The manifest of the saved index (raises FileNotFoundError when no index was built)."""
    return json.loads((index_dir(lake) / MANIFEST_FILE).read_text())


def load_index(lake: Lake, name: str = INDEX_SUBDIR) -> tuple[faiss.Index, pa.Table, dict[str, Any]]:
    """(index, id map, manifest) of a saved index; efSearch restored from the manifest."""
    where = index_dir(lake, name)
    if not (where / f"{name}.faiss").is_file():
        builders = ASSETS_BUILDING.get(name, f"the assets building the {name} index")
        raise FileNotFoundError(f"no {name.rstrip('s')} index under {str(where)!r}; materialize {builders} first")
    index = faiss.read_index(str(where / f"{name}.faiss"))
    idmap = pq.read_table(where / IDMAP_FILE)
    manifest = json.loads((where / MANIFEST_FILE).read_text())
    ef = manifest.get("report", {}).get("params", {}).get("ef_search")
    if ef:
        set_ef_search(index, int(ef))
    if idmap.num_rows != index.ntotal:
        raise ValueError(f"index under {str(where)!r} holds {index.ntotal} vectors but its id map {idmap.num_rows}")
    return index, idmap, manifest
