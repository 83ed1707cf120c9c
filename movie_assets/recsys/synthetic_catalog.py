"""The lake's content as the synthetic generator sees it: dated movies, their genres, keywords, popularity and
current text vectors, read once into numpy arrays (`read_catalog`).

Undated movies are counted and left out: a movie without a release date cannot be met after its release. A
dated movie without a current text vector stays in: it is reached through its genres, keywords and popularity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.embeddings import partitions
from movie_assets.embeddings.encode import vectors_of
from movie_assets.lake import Lake, LakeError, file_sha256, generations
from movie_assets.recsys.events import InputFile, SourceError

COLUMNS = {
    "movie_id": pa.int64(),
    "release_date": pa.date32(),
    "genres": pa.list_(pa.string()),
    "keywords": pa.list_(pa.string()),
    "popularity": pa.float64(),
    "harvested_at": pa.timestamp("us", tz="UTC"),
}


@dataclass
class Catalog:
    """The dated movies (sorted by ``movie_id``) and what the generator draws from them."""

    movie_id: np.ndarray  # int64, unique, ascending
    release_day: np.ndarray  # int64, days since 1970-01-01
    popularity: np.ndarray  # float64, TMDb popularity (0 where the lake has none)
    genres: list[str]  # the genre vocabulary, sorted
    item_genres: np.ndarray  # bool (items, genres)
    keywords: list[str]  # the keyword vocabulary: the most frequent first (ties by name)
    keyword_pairs: tuple[np.ndarray, np.ndarray]  # (item index, keyword index), one pair per movie and keyword
    vector_row: np.ndarray  # int64, the movie's row of `vectors`, -1 without a current text vector
    vectors: np.ndarray  # float32 (movies with a vector, dimension), unit norm
    movies: int  # current movies read, dated or not
    undated: int  # movies without a release date: skipped
    duplicates: int  # rows of a movie listed in two year files (a move in progress): the first kept
    snapshot: dt.datetime | None  # the latest harvested_at: when the lake last heard from TMDb
    embeddings: dict[str, str] = field(default_factory=dict)  # model_id and backend of the vectors
    inputs: list[InputFile] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many dated movies (the items)."""
        return len(self.movie_id)


def read_catalog(lake: Lake, keyword_vocabulary: int) -> Catalog:
    """The lake's current dated movies and their current text vectors; `SourceError` naming the asset to
    materialize when there are no movies, no dated movies, or no text vectors for them."""
    snapshot = generations.snapshot_dir(lake)
    files = lake.movies_year_files(snapshot)
    tables = [_movies_columns(path) for _, path in files]
    table = pa.concat_tables(tables) if tables else None
    if table is None or table.num_rows == 0:
        raise SourceError(
            f"the lake under {str(lake.root)!r} has no movies; materialize movies (the ingest backfill over the "
            "years) before generating synthetic interactions"
        )
    harvested = pc.max(table.column("harvested_at")).as_py()
    movies = table.num_rows
    dated = table.filter(pc.is_valid(table.column("release_date")))
    undated = movies - dated.num_rows
    if dated.num_rows == 0:
        raise SourceError(f"none of the lake's {movies} movies has a release date; the generator needs dated movies")
    dated = dated.sort_by([("movie_id", "ascending")])
    ids = dated.column("movie_id").to_numpy()
    first = np.concatenate([[True], ids[1:] != ids[:-1]])
    dated = dated.filter(pa.array(first))
    ids = ids[first]
    genres, item_genres = _genres(dated)
    keywords, keyword_pairs = _keywords(dated, keyword_vocabulary)
    vector_row, vectors, source, vector_files = _vectors(lake, ids)
    inputs = [_input(lake, "movies_year", lake.movies_dataset_dir / path.relative_to(snapshot), path)
              for _, path in files]
    inputs += [_input(lake, "embeddings_year", path, path) for path in vector_files]
    return Catalog(
        movie_id=ids,
        release_day=dated.column("release_date").cast(pa.int32()).to_numpy().astype(np.int64),
        popularity=np.nan_to_num(dated.column("popularity").to_numpy(zero_copy_only=False).astype(np.float64)),
        genres=genres,
        item_genres=item_genres,
        keywords=keywords,
        keyword_pairs=keyword_pairs,
        vector_row=vector_row,
        vectors=vectors,
        movies=movies,
        undated=undated,
        duplicates=int(len(first) - first.sum()),
        snapshot=harvested,
        embeddings=source,
        inputs=inputs,
    )


def _movies_columns(path: Path) -> pa.Table:
    """The columns the generator reads from one year file; a column the file lacks is read as nulls."""
    names = set(pq.read_schema(path).names)
    table = pq.read_table(path, columns=[c for c in COLUMNS if c in names])
    columns = {c: table.column(c).cast(t) if c in names else pa.nulls(table.num_rows, t) for c, t in COLUMNS.items()}
    return pa.table(columns)


def _flat(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(row of each element, elements) of a list column."""
    array = column.combine_chunks()
    return pc.list_parent_indices(array).to_numpy().astype(np.int64), pc.list_flatten(array)


def _genres(table: pa.Table) -> tuple[list[str], np.ndarray]:
    rows, values = _flat(table.column("genres"))
    vocabulary = sorted(v for v in pc.unique(values).to_pylist() if v)
    matrix = np.zeros((table.num_rows, len(vocabulary)), dtype=bool)
    index = pc.index_in(values, value_set=pa.array(vocabulary, pa.string())).to_numpy(zero_copy_only=False)
    known = ~np.isnan(index.astype(np.float64))
    matrix[rows[known], index[known].astype(np.int64)] = True
    return vocabulary, matrix


def _keywords(table: pa.Table, size: int) -> tuple[list[str], tuple[np.ndarray, np.ndarray]]:
    rows, values = _flat(table.column("keywords"))
    counts = pc.value_counts(values.drop_null()) if len(values) else None
    if counts is None or size <= 0 or len(counts) == 0:
        return [], (np.zeros(0, np.int64), np.zeros(0, np.int64))
    names = counts.field("values").to_pylist()
    freq = counts.field("counts").to_pylist()
    vocabulary = [name for _, name in sorted((-f, n) for f, n in zip(freq, names, strict=True) if n)][:size]
    index = pc.index_in(values, value_set=pa.array(vocabulary, pa.string())).to_numpy(zero_copy_only=False)
    known = ~np.isnan(index.astype(np.float64))
    pairs = np.unique(np.stack([rows[known], index[known].astype(np.int64)], axis=1), axis=0)
    return vocabulary, (pairs[:, 0].copy(), pairs[:, 1].copy())


def _vectors(lake: Lake, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, str], list[Path]]:
    """Each movie's row in the current text vectors (-1: none), those vectors, their model and the partitions."""
    try:
        inputs = partitions.index_table(lake)
    except (FileNotFoundError, LakeError) as exc:
        raise SourceError(f"the synthetic generator needs the lake's text vectors: {exc}") from exc
    except partitions.MixedEmbeddingsError as exc:
        raise SourceError(str(exc)) from exc
    vector_ids = inputs.table.column("movie_id").to_numpy()
    pos = np.clip(np.searchsorted(ids, vector_ids), 0, len(ids) - 1)
    matched = ids[pos] == vector_ids
    if not matched.any():
        raise SourceError(
            f"none of the lake's {len(ids)} dated movies has a current text vector; materialize movie_embeddings "
            "(a backfill over the years) before generating synthetic interactions"
        )
    vectors = vectors_of(inputs.table.filter(pa.array(matched)))
    vector_row = np.full(len(ids), -1, dtype=np.int64)
    vector_row[pos[matched]] = np.arange(int(matched.sum()))
    files = [path for _, path in lake.embeddings_year_files()]
    if lake.legacy_embeddings_file.exists():
        files.append(lake.legacy_embeddings_file)
    return vector_row, vectors, dict(inputs.source), files


def _input(lake: Lake, kind: str, shown: Path, path: Path) -> InputFile:
    """An input named by its path under the lake's root (a lake moved elsewhere names the same files)."""
    try:
        name = str(shown.relative_to(lake.root))
    except ValueError:
        name = str(shown)
    return InputFile(kind=kind, path=name, sha256=file_sha256(path), bytes=path.stat().st_size)


def json_safe(value: Any) -> Any:
    """``value`` with datetimes as ISO text and tuples as lists, for a report or the manifest."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return value
