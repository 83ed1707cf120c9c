"""Feature arrays aligned to the item index: ``features/<modality>_<model>.npy``, row ``i`` = item ``i``.

Each array is float32, N × d, N the number of items of the dataset's index; a row is the lake's current vector of
that item's movie (text: the vector of the movie's document now, named by its content hash; poster: the vector of
the poster its ``poster_path`` names now, named by the image's sha256), or the declared fill where the item has
none. Beside each array a JSON sidecar says the model id, backend, dimension, fill policy and value, and how many
rows (and which items) are filled; the item index's ``has_text`` / ``has_poster`` are the masks. An item is never
dropped for a missing modality.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.embeddings import partitions
from movie_assets.embeddings.encode import vectors_of
from movie_assets.lake import Lake, LakeError, atomic_path, write_json_atomic
from movie_assets.posters import poster_index

TEXT, POSTER = "text", "poster"
MODALITIES = (TEXT, POSTER)
FILLS = ("zeros", "mean", "none")  # none: NaN rows, for a model that must see the gap


class FeatureError(ValueError):
    """A feature setting or input is unusable; the message names it."""


@dataclass(frozen=True)
class ModalityVectors:
    """The lake's current vectors of one modality: ``movie_id``, ``key`` (what names the vector: the text's
    content hash, the poster's image sha256), ``vector``; with the model id and backend they come from."""

    modality: str
    table: pa.Table
    model_id: str | None
    backend: str | None

    @property
    def dimension(self) -> int:
        return self.table.schema.field("vector").type.list_size if self.table.num_rows else 0


def lake_vectors(lake: Lake, modality: str) -> ModalityVectors:
    """Every current vector of ``modality`` in the lake (empty when the modality was never embedded)."""
    try:
        if modality == TEXT:
            found = partitions.index_table(lake)
            table = found.table.select(["movie_id", "content_hash", "vector"]).rename_columns(
                ["movie_id", "key", "vector"])
        else:
            found = poster_index.current_poster_vectors(lake)
            table = found.table.select(["movie_id", "image_sha256", "vector"]).rename_columns(
                ["movie_id", "key", "vector"])
    except (FileNotFoundError, LakeError):
        return ModalityVectors(modality, pa.table({"movie_id": pa.array([], pa.int64()),
                                                   "key": pa.array([], pa.string())}), None, None)
    return ModalityVectors(modality, table.sort_by("movie_id"), found.source.get("model_id"),
                           found.source.get("backend"))


def model_slug(model_id: str) -> str:
    """A file-name-safe name of a model id: its short name and 10 hex of its sha256 (two models never share one)."""
    short = re.sub(r"[^a-z0-9.-]+", "-", model_id.split("@", 1)[0].rsplit("/", 1)[-1].lower()).strip("-") or "model"
    return f"{short[:40]}.{hashlib.sha256(model_id.encode()).hexdigest()[:10]}"


def aligned(movie_ids: pa.Array, vectors: ModalityVectors) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """(rows, present mask, keys): the vectors of ``movie_ids`` in that order; rows without one are zero."""
    ids = np.asarray(movie_ids.to_numpy(zero_copy_only=False), np.int64)
    rows = np.zeros((len(ids), vectors.dimension), np.float32)
    keys: list[str | None] = [None] * len(ids)
    present = np.zeros(len(ids), bool)
    if not vectors.table.num_rows:
        return rows, present, keys
    have = vectors.table.column("movie_id").to_numpy()
    at = np.searchsorted(have, ids)
    hit = (at < len(have)) & (have[np.minimum(at, len(have) - 1)] == ids)
    matrix = vectors_of(vectors.table)
    rows[hit] = matrix[at[hit]]
    present[hit] = True
    lake_keys = vectors.table.column("key").to_pylist()
    for position in np.flatnonzero(hit):
        keys[position] = lake_keys[at[position]]
    return rows, present, keys


def filled(rows: np.ndarray, present: np.ndarray, fill: str) -> tuple[np.ndarray, list[float] | str | None]:
    """``rows`` with the absent ones set by the fill policy, and the fill value to record."""
    if fill not in FILLS:
        raise FeatureError(f"fill={fill!r} is not one of {', '.join(FILLS)}")
    rows = rows.copy()
    if fill == "zeros":
        rows[~present] = 0.0
        return rows, "zeros"
    if fill == "none":
        rows[~present] = np.nan
        return rows, "nan"
    mean = rows[present].mean(axis=0, dtype=np.float64).astype(np.float32) if present.any() else np.zeros(
        rows.shape[1], np.float32)
    rows[~present] = mean
    return rows, [float(v) for v in mean]


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` in NumPy's ``.npy`` format (what ``np.load`` reads), byte-identical for equal arrays."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_array(array: np.ndarray, target: Path, sidecar: dict[str, Any]) -> None:
    """The array and its JSON sidecar (``<name>.json``), each written atomically."""
    with atomic_path(target) as temporary:
        temporary.write_bytes(npy_bytes(array))
    write_json_atomic(sidecar, target.with_suffix(".json"))


def vectors_by_key(lake: Lake, modality: str, wanted: dict[int, str]) -> dict[int, np.ndarray]:
    """Read again, from the lake's year files, the vector of each movie of ``wanted`` under the key recorded for
    it (text content hash, poster sha256): what a check compares an array's rows with, independently of the build."""
    files = lake.embeddings_year_files() if modality == TEXT else lake.poster_vectors_year_files()
    if modality == TEXT and lake.legacy_embeddings_file.exists():  # a lake migrating to the year partitions
        files = [*files, (None, lake.legacy_embeddings_file)]
    key_column = "content_hash" if modality == TEXT else "image_sha256"
    ids = pa.array(sorted(wanted), pa.int64())
    found: dict[int, np.ndarray] = {}
    for _, path in files:
        table = pq.read_table(path, columns=["movie_id", key_column, "vector"],
                              filters=[("movie_id", "in", ids)]) if len(ids) else None
        if table is None or not table.num_rows:
            continue
        matrix = vectors_of(table)
        for row, (movie_id, key) in enumerate(zip(table.column("movie_id").to_pylist(),
                                                  table.column(key_column).to_pylist(), strict=True)):
            if wanted.get(movie_id) == key:
                found[movie_id] = matrix[row]
    return found


def present_mask(table: pa.Table, column: str) -> np.ndarray:
    return pc.fill_null(table.column(column), False).to_numpy(zero_copy_only=False)
