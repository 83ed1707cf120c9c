"""One year's poster embeddings, reusing every vector whose image has not changed.

``processed/poster_embeddings_parquet/year=Y/part-0.parquet`` holds one unit-norm float32 vector per movie of
the year whose poster is cached (``status`` ok in its posters table): ``movie_id, poster_path, image_sha256,
vector``, sorted by ``movie_id``, with the encoder's ``model_id`` and backend in the file's metadata (the same keys
as the text embeddings). A vector is reused when the year's previous partition has one for the same poster path
and image sha256 from the same model id; so a changed ``poster_path`` re-embeds that movie only, and a change of
model or backend re-embeds the year.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.embeddings.encode import BACKEND_KEY, MODEL_ID_KEY, embedding_source, vectors_of
from movie_assets.lake import Lake, LakeError, write_parquet_atomic
from movie_assets.lake.files import remove_dir_atomic
from movie_assets.posters import cache, decode

DEFAULT_BATCH_SIZE = 32
COLUMN_DESCRIPTIONS = {
    "movie_id": "TMDb movie id (unique, sorted)",
    "poster_path": "TMDb poster path the vector was computed from",
    "image_sha256": "sha256 of the poster's bytes the vector was computed from",
    "vector": "unit-norm float32 image embedding of the poster",
}
Progress = Callable[[int, int, float], None]


def vectors_schema(dimension: int, model_id: str, backend: str) -> pa.Schema:
    return pa.schema(
        [("movie_id", pa.int64()), ("poster_path", pa.string()), ("image_sha256", pa.string()),
         ("vector", pa.list_(pa.float32(), dimension))],
        metadata={MODEL_ID_KEY: model_id.encode("utf-8"), BACKEND_KEY: backend.encode("utf-8")},
    )


@dataclass(frozen=True)
class YearVectors:
    table: pa.Table
    encoded: int
    reused: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.encoded / self.seconds if self.encoded and self.seconds > 0 else 0.0


def cached_posters(lake: Lake, year: int | None) -> pa.Table:
    """The rows of ``year``'s posters table whose poster is cached (status ok)."""
    path = lake.posters_year_file(year)
    if not path.exists():
        return pa.table({"movie_id": pa.array([], pa.int64())})
    table = pq.read_table(path)
    return table.filter(pc.equal(table.column("status"), decode.OK))


def _reusable(lake: Lake, year: int | None, model_id: str) -> dict[tuple[str, str], np.ndarray]:
    path = lake.poster_vectors_year_file(year)
    if not path.exists():
        return {}
    table = pq.read_table(path)
    if embedding_source(table).get("model_id") != model_id:
        return {}
    vectors = vectors_of(table)
    keys = zip(table.column("poster_path").to_pylist(), table.column("image_sha256").to_pylist(), strict=True)
    return {key: vectors[i] for i, key in enumerate(keys)}


def embed_year_posters(lake: Lake, year: int | None, encoder: Any, *, batch_size: int = DEFAULT_BATCH_SIZE,
                       progress: Progress | None = None) -> YearVectors:
    """Embed ``year``'s cached posters (reusing unchanged vectors) and write its partition; a year without
    cached posters has its partition removed."""
    started = time.perf_counter()
    posters = cached_posters(lake, year)
    target = lake.poster_vectors_year_file(year)
    schema = vectors_schema(encoder.dimension, encoder.model_id, encoder.name)
    if posters.num_rows == 0:
        if target.exists():
            remove_dir_atomic(target.parent)
        return YearVectors(schema.empty_table(), 0, 0, 0.0)
    reuse = _reusable(lake, year, encoder.model_id)
    ids = posters.column("movie_id").to_pylist()
    paths = posters.column("poster_path").to_pylist()
    shas = posters.column("image_sha256").to_pylist()
    sizes = posters.column("size").to_pylist()
    out = np.zeros((len(ids), encoder.dimension), dtype=np.float32)
    todo = []
    for i, key in enumerate(zip(paths, shas, strict=True)):
        if key in reuse:
            out[i] = reuse[key]
        else:
            todo.append(i)
    step = max(1, batch_size)  # decode one batch at a time: memory stays bounded whatever the image size
    began = time.perf_counter()
    for start in range(0, len(todo), step):
        rows = todo[start:start + step]
        images = [_open_cached(lake, paths[i], sizes[i], ids[i], shas[i]) for i in rows]
        out[rows] = encoder.encode(images, batch_size=batch_size)
        if progress is not None:
            done = start + len(rows)
            progress(done, len(todo), done / max(time.perf_counter() - began, 1e-9))
    table = pa.table(
        {"movie_id": pa.array(ids, pa.int64()), "poster_path": pa.array(paths, pa.string()),
         "image_sha256": pa.array(shas, pa.string()),
         "vector": pa.FixedSizeListArray.from_arrays(pa.array(out.reshape(-1), pa.float32()), encoder.dimension)},
        schema=schema,
    )
    write_parquet_atomic(table, target, row_group_size=16_384)
    return YearVectors(table, len(todo), len(ids) - len(todo), time.perf_counter() - started)


def _open_cached(lake: Lake, path: str, size: str, movie_id: int, sha256: str) -> Any:
    """The cached poster, decoded, after checking that its bytes are those its row records (a vector always names
    the image it was computed from)."""
    file = cache.poster_file(lake, path, size)
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise LakeError(f"the cached poster of movie {movie_id} ({file}) cannot be read ({exc}); materialize "
                        "movie_posters for its year again") from None
    if hashlib.sha256(body).hexdigest() != sha256:
        raise LakeError(f"the cached poster of movie {movie_id} ({file}) is not the image its posters table records; "
                        "materialize movie_posters for its year again")
    decoded = decode.decode_poster(body)
    if decoded.status != decode.OK:
        raise LakeError(f"the cached poster of movie {movie_id} ({file}) no longer decodes ({decoded.reason}); "
                        "materialize movie_posters for its year again")
    return decoded.image
