"""Incremental embedding of the movies table, cached by content hash.

Given the movies table and the previous embeddings table, only movies whose content hash is new or
changed are encoded; vectors of unchanged movies are reused and movies no longer present are dropped.
The result has one row per movie, sorted by ``movie_id``: ``movie_id int64, content_hash string,
vector fixed_size_list<float32, 384>`` with unit-norm vectors.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.embeddings.model import DIMENSION
from movie_assets.embeddings.text import content_hash, documents
from movie_assets.lake import write_parquet_atomic

DEFAULT_BATCH_SIZE = 64
BATCHES_PER_CHUNK = 16

ProgressCallback = Callable[[int, int, float], None]
"""``progress(done, total, rate)``: texts encoded so far, texts to encode, texts per second so far."""


class Encoder(Protocol):
    """What `embed_movies` needs from a model: SentenceTransformer's ``encode``."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...


MODEL_ID_KEY = b"movie_assets.model_id"
BACKEND_KEY = b"movie_assets.backend"


def embeddings_schema(dimension: int = DIMENSION, model_id: str | None = None, backend: str | None = None) -> pa.Schema:
    """Schema of the embeddings Parquet file; ``model_id``/``backend`` (what made the vectors) go into its
    key-value metadata, where `movie_index` reads them for its manifest."""
    metadata = {}
    if model_id is not None:
        metadata[MODEL_ID_KEY] = model_id.encode("utf-8")
    if backend is not None:
        metadata[BACKEND_KEY] = backend.encode("utf-8")
    return pa.schema(
        [
            ("movie_id", pa.int64()),
            ("content_hash", pa.string()),
            ("vector", pa.list_(pa.float32(), dimension)),
        ],
        metadata=metadata or None,
    )


def embedding_source(table: pa.Table | pa.Schema) -> dict[str, str]:
    """``{"model_id": …, "backend": …}`` recorded in an embeddings table (keys absent in older files)."""
    schema = table if isinstance(table, pa.Schema) else table.schema
    metadata = schema.metadata or {}
    out = {}
    for name, key in (("model_id", MODEL_ID_KEY), ("backend", BACKEND_KEY)):
        if key in metadata:
            out[name] = metadata[key].decode("utf-8")
    return out


COLUMN_DESCRIPTIONS = {
    "movie_id": "TMDb movie id (unique, sorted)",
    "content_hash": "sha256 of model id (weights + backend) + document text; unchanged hash = vector reused",
    "vector": "unit-norm float32 all-MiniLM-L6-v2 embedding of the document text",
}


@dataclass(frozen=True)
class EmbedResult:
    """The new embeddings table and what it cost."""

    table: pa.Table
    encoded: int
    reused: int
    removed: int
    encode_seconds: float

    @property
    def rate(self) -> float:
        """Texts encoded per second (0 when nothing was encoded)."""
        return self.encoded / self.encode_seconds if self.encoded and self.encode_seconds > 0 else 0.0


def vectors_of(table: pa.Table, column: str = "vector") -> np.ndarray:
    """The vector column as a C-contiguous ``(n, d)`` float32 array (fixed-size or variable lists)."""
    col = table.column(column).combine_chunks()
    n = len(col)
    if n == 0:
        size = col.type.list_size if pa.types.is_fixed_size_list(col.type) else 0
        return np.zeros((0, size), dtype=np.float32)
    if col.null_count:
        raise ValueError(f"{col.null_count} null vectors in column {column!r}")
    if pa.types.is_fixed_size_list(col.type):
        d = col.type.list_size
        flat = col.flatten()
    else:
        lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
        if len(set(lengths.tolist())) != 1:
            raise ValueError(f"vectors in column {column!r} have differing lengths")
        d = int(lengths[0])
        flat = col.flatten()
    values = flat.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return np.ascontiguousarray(values.reshape(n, d))


def read_embeddings(path: str | os.PathLike) -> pa.Table | None:
    """The previous embeddings table, or None when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return None
    return pq.read_table(path)


def encode_texts(
    encoder: Encoder,
    texts: list[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    chunk_batches: int = BATCHES_PER_CHUNK,
) -> np.ndarray:
    """Encode ``texts`` to unit-norm float32 vectors, in input order, reporting progress per chunk.

    Texts are sorted by length (longest first, stable) once, then encoded in chunks of
    ``batch_size × chunk_batches``, so batches are padded exactly as one big ``encode`` call would pad
    them — throughput matches the raw call while progress can still be reported.
    """
    total = len(texts)
    if total == 0:
        return np.zeros((0, 0), dtype=np.float32)
    order = sorted(range(total), key=lambda i: -len(texts[i]))
    chunk = max(1, batch_size * max(1, chunk_batches))
    parts: list[np.ndarray] = []
    started = time.perf_counter()
    done = 0
    for start in range(0, total, chunk):
        idx = order[start : start + chunk]
        vecs = encoder.encode(
            [texts[i] for i in idx],
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        parts.append(np.asarray(vecs, dtype=np.float32))
        done += len(idx)
        if progress is not None:
            elapsed = time.perf_counter() - started
            progress(done, total, done / elapsed if elapsed > 0 else math.inf)
    sorted_vecs = np.concatenate(parts, axis=0)
    out = np.empty_like(sorted_vecs)
    out[np.asarray(order)] = sorted_vecs
    # The model already normalizes; re-normalize in float32 so every stored vector is unit norm.
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, np.where(norms > 0, norms, 1.0), out=out)
    return out


def embed_movies(
    movies: pa.Table,
    previous: pa.Table | None,
    encoder: Encoder,
    model_id: str,
    *,
    dimension: int = DIMENSION,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    backend: str | None = None,
) -> EmbedResult:
    """Embed every movie of ``movies``, reusing vectors of ``previous`` whose content hash is unchanged.

    ``model_id`` names the weights *and* the backend that runs them (`EmbeddingBackend.model_id`): it is in
    every content hash, so vectors of another model or backend are never reused — a switch re-encodes every
    movie, and one table never holds vectors of two backends. It is also recorded in the table's metadata.
    Deterministic: the output is sorted by ``movie_id`` and the set of texts to encode is encoded in a
    fixed order. Raises ValueError on duplicate movie ids.
    """
    ids, texts = documents(movies)
    if len(set(ids)) != len(ids):
        raise ValueError("the movies table has duplicate movie_id values; embeddings need unique ids")
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ids = [ids[i] for i in order]
    texts = [texts[i] for i in order]
    hashes = [content_hash(model_id, t) for t in texts]

    reuse: dict[int, int] = {}
    prev_vectors = np.zeros((0, dimension), dtype=np.float32)
    removed = 0
    previous_model = embedding_source(previous).get("model_id") if previous is not None else None
    if previous is not None and previous.num_rows:
        prev_vectors = vectors_of(previous)
        if prev_vectors.shape[1] != dimension or previous_model not in (None, model_id):
            prev_vectors = np.zeros((0, dimension), dtype=np.float32)  # other model or backend: nothing reusable
        else:
            prev_hash = dict(zip(previous.column("content_hash").to_pylist(), range(previous.num_rows), strict=True))
            for pos, h in enumerate(hashes):
                row = prev_hash.get(h)
                if row is not None:
                    reuse[pos] = row
        current = set(ids)
        removed = sum(1 for i in previous.column("movie_id").to_pylist() if i not in current)

    todo = [pos for pos in range(len(ids)) if pos not in reuse]
    vectors = np.zeros((len(ids), dimension), dtype=np.float32)
    if reuse:
        positions = np.fromiter(reuse.keys(), dtype=np.int64, count=len(reuse))
        rows = np.fromiter(reuse.values(), dtype=np.int64, count=len(reuse))
        vectors[positions] = prev_vectors[rows]
    started = time.perf_counter()
    if todo:
        fresh = encode_texts(encoder, [texts[p] for p in todo], batch_size=batch_size, progress=progress)
        if fresh.shape[1] != dimension:
            raise ValueError(f"the model returned {fresh.shape[1]}-d vectors, expected {dimension}")
        vectors[np.asarray(todo)] = fresh
    seconds = time.perf_counter() - started

    table = pa.table(
        {
            "movie_id": pa.array(ids, type=pa.int64()),
            "content_hash": pa.array(hashes, type=pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), type=pa.float32()), dimension),
        },
        schema=embeddings_schema(dimension, model_id, backend),
    )
    return EmbedResult(table=table, encoded=len(todo), reused=len(reuse), removed=removed, encode_seconds=seconds)


def write_embeddings(table: pa.Table, target: str | os.PathLike) -> Path:
    """Write the embeddings table atomically and deterministically."""
    return write_parquet_atomic(table, target, row_group_size=16_384)
