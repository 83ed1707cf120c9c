"""Movie embeddings partitioned by release year, like the movies, so encoding fans out over runs and workers.

``processed/embeddings_parquet/year=Y/part-0.parquet`` holds the vectors of the movies of
``processed/movies_parquet/year=Y/`` (``year=__HIVE_DEFAULT_PARTITION__``: the undated movies). A year is
encoded from its own movies file, reusing the vectors of its previous partition whose content hash is
unchanged (and, in a lake made before the partitions, those of the old single file), so re-running a year
encodes only new or changed movies. Years are independent: any number of processes may encode different
years at once.

The index is built from every partition (`index_table`): each restricted to its year's *current* movies, so
a movie that moved to another year or left TMDb is never indexed twice or at all, and to *current* vectors: a
vector is current only when its content hash equals the hash of the movie's document as its year's file
holds it now (a vector of an older overview, title or cast is stale, left out and counted as missing until
the year is embedded again). All partitions must come from one model and backend (vectors of two backends
are never mixed in one index).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.embeddings import encode
from movie_assets.embeddings.text import TEXT_COLUMNS, content_hash, documents
from movie_assets.lake import Lake, LakeError
from movie_assets.lake.files import remove_dir_atomic

Year = int | None


class MixedEmbeddingsError(ValueError):
    """Embedding partitions come from different models or backends: one index cannot hold them."""


def year_label(year: Year) -> str:
    return "undated" if year is None else str(year)


def year_movies(lake: Lake, year: Year) -> pa.Table:
    """The text columns of ``year``'s movies (an empty table when the year has no movies file)."""
    source = lake.movies_year_file(year)
    if not source.exists():
        return pa.table({"movie_id": pa.array([], pa.int64())})
    columns = [c for c in TEXT_COLUMNS if c in pq.read_schema(source).names]
    return pq.read_table(source, columns=columns)


def previous_vectors(lake: Lake, year: Year, ids: pa.Array) -> pa.Table | None:
    """What ``year`` may reuse: its partition, else (a lake from before the partitions) the rows of the old
    single embeddings file for these movies."""
    partition = lake.embeddings_year_file(year)
    if partition.exists():
        return pq.read_table(partition)
    legacy = lake.legacy_embeddings_file
    if legacy.exists() and len(ids):
        table = pq.read_table(legacy, filters=[("movie_id", "in", ids)])
        return table.replace_schema_metadata(pq.read_schema(legacy).metadata)
    return None


def embed_year(
    lake: Lake,
    year: Year,
    encoder: encode.Encoder,
    model_id: str,
    *,
    dimension: int,
    batch_size: int = encode.DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int, float], None] | None = None,
    backend: str | None = None,
) -> encode.EmbedResult:
    """Encode ``year``'s movies into its partition (reusing unchanged vectors); a year without movies has its
    partition removed."""
    movies = year_movies(lake, year)
    target = lake.embeddings_year_file(year)
    previous = previous_vectors(lake, year, movies.column("movie_id"))
    if movies.num_rows == 0:
        removed = previous.num_rows if previous is not None and target.exists() else 0
        if target.exists():
            remove_dir_atomic(target.parent)
        empty = encode.embeddings_schema(dimension, model_id, backend).empty_table()
        return encode.EmbedResult(table=empty, encoded=0, reused=0, removed=removed, encode_seconds=0.0)
    result = encode.embed_movies(movies, previous, encoder, model_id, dimension=dimension,
                                 batch_size=batch_size, progress=progress, backend=backend)
    if previous is not None and not target.exists():
        # Reused from the old single file: it held other years too, so "removed" counts nothing here.
        result = encode.EmbedResult(result.table, result.encoded, result.reused, 0, result.encode_seconds)
    encode.write_embeddings(result.table, target)
    return result


@dataclass(frozen=True)
class IndexInputs:
    """The vectors to index and how they cover the movies."""

    table: pa.Table  # movie_id, content_hash, vector; sorted by movie_id; one backend
    source: dict[str, str]  # model_id and backend of every partition
    years: int  # partitions used
    movies: int  # current movies (in the years that have a movies file)
    # current movies without a current vector: a year not embedded yet, or a stale vector (counted in `stale`)
    without_vectors: int
    dropped: int  # vectors of movies no longer in their partition's year (moved or gone)
    years_without_embeddings: list[str]
    # years without a partition yet whose vectors come from the old single file (a lake migrating to partitions)
    years_from_legacy_file: list[str] = field(default_factory=list)
    stale: int = 0  # vectors of an older document of a current movie: left out, so counted in without_vectors
    years_with_stale_vectors: list[str] = field(default_factory=list)  # the years to embed again


def current_vectors(vectors: pa.Table, movies: pa.Table, model_id: str | None) -> tuple[pa.Table, int]:
    """The rows of ``vectors`` whose movie is in ``movies`` and whose content hash is that of the movie's
    document now, and how many were stale (the movie is there, its document changed since it was embedded).

    ``model_id`` is the one the vectors record; without one (a file older than that record) the hashes cannot
    be recomputed and only membership is checked.
    """
    in_movies = vectors.filter(pc.is_in(vectors.column("movie_id"), value_set=movies.column("movie_id")))
    if model_id is None or not in_movies.num_rows:
        return in_movies, 0
    ids, texts = documents(movies.filter(pc.is_in(movies.column("movie_id"), value_set=in_movies.column("movie_id"))))
    expected = dict(zip(ids, (content_hash(model_id, t) for t in texts), strict=True))
    current = [expected[m] == h for m, h in zip(in_movies.column("movie_id").to_pylist(),
                                                 in_movies.column("content_hash").to_pylist(), strict=True)]
    kept = in_movies.filter(pa.array(current, pa.bool_()))
    return kept, in_movies.num_rows - kept.num_rows


def index_table(lake: Lake) -> IndexInputs:
    """Every partition's current vectors of its year's current movies (`current_vectors`), checked to come from
    one model and backend."""
    movie_files = dict(lake.movies_year_files())
    embedding_files = dict(lake.embeddings_year_files())
    legacy = lake.legacy_embeddings_file if lake.legacy_embeddings_file.exists() else None
    if not embedding_files and legacy is None:
        raise FileNotFoundError(
            f"no embeddings under {str(lake.embeddings_dataset_dir)!r}; materialize movie_embeddings (a backfill "
            "over the years) and undated_movie_embeddings first"
        )
    parts: list[pa.Table] = []
    sources: dict[str, list[str]] = {}
    dropped = stale = 0
    stale_years: list[str] = []
    metadata = None
    for year, path in embedding_files.items():
        if year not in movie_files:
            continue  # the year has no movies any more: its vectors are stale
        table = pq.read_table(path)
        metadata = metadata or table.schema.metadata
        model_id = encode.embedding_source(table).get("model_id")
        sources.setdefault(model_id or "unrecorded", []).append(year_label(year))
        kept, outdated = current_vectors(table, year_movies(lake, year), model_id)
        dropped += table.num_rows - kept.num_rows - outdated
        if outdated:
            stale += outdated
            stale_years.append(year_label(year))
        parts.append(_ranked(kept, movie_files[year].stat().st_mtime_ns))
    # A lake migrating from the old single file: the years without a partition yet keep the old file's vectors
    # of their current movies (when they come from the same model and backend), so the index does not shrink to
    # the few years re-embedded so far.
    legacy_years: list[str] = []
    waiting = [year for year in movie_files if year not in embedding_files]
    if legacy is not None and waiting:
        legacy_model = encode.embedding_source(pq.read_schema(legacy)).get("model_id")
        legacy_source = legacy_model or "unrecorded"
        if not sources or set(sources) == {legacy_source}:
            waiting_movies = pa.concat_tables([year_movies(lake, y) for y in waiting], promote_options="default")
            ids = waiting_movies.column("movie_id").combine_chunks()
            table = pq.read_table(legacy, filters=[("movie_id", "in", ids)]) if len(ids) else None
            if table is not None and table.num_rows:
                table, outdated = current_vectors(table, waiting_movies, legacy_model)
                if outdated:
                    stale += outdated
                    stale_years.append(legacy.name)
            if table is not None and table.num_rows:
                metadata = metadata or pq.read_schema(legacy).metadata
                sources.setdefault(legacy_source, []).append(legacy.name)
                parts.append(_ranked(table, -1))
                legacy_years = [year_label(y) for y in waiting]
    if len(sources) > 1:
        detail = "; ".join(f"{model}: {', '.join(years)}" for model, years in sorted(sources.items()))
        raise MixedEmbeddingsError(
            f"embedding partitions come from different models or backends ({detail}); re-materialize "
            "movie_embeddings for those years with one backend (MOVIE_ASSETS_EMBEDDING_BACKEND)"
        )
    if not parts:
        raise LakeError("no embeddings partition matches a year of movies; materialize movie_embeddings")
    # A movie whose date moved is in its new year's file as soon as that year is rebuilt, and in its old
    # year's until that one is: of its vectors, the one of the most recently built year stands.
    table = pa.concat_tables(parts).sort_by([("movie_id", "ascending"), ("rank", "descending")])
    ids = table.column("movie_id").to_numpy()
    first = np.concatenate([[True], ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, bool)
    dropped += int(len(ids) - first.sum())
    table = table.filter(pa.array(first)).drop_columns(["rank"])
    movies = len(pc.unique(pa.chunked_array(
        [pq.read_table(path, columns=["movie_id"]).column("movie_id") for path in movie_files.values()],
        pa.int64())))
    table = table.replace_schema_metadata(metadata)
    return IndexInputs(
        table=table,
        source=encode.embedding_source(table),
        years=len(parts) - (1 if legacy_years else 0),
        movies=movies,
        without_vectors=movies - table.num_rows,
        dropped=dropped,
        years_without_embeddings=[year_label(y) for y in movie_files if y not in embedding_files],
        years_from_legacy_file=legacy_years,
        stale=stale,
        years_with_stale_vectors=stale_years,
    )


def _ranked(table: pa.Table, rank: int) -> pa.Table:
    """``table`` without metadata, with a ``rank`` column (higher wins when a movie has two vectors)."""
    return table.replace_schema_metadata(None).append_column("rank", pa.array([rank] * table.num_rows, pa.int64()))


def remove_legacy_file_when_migrated(lake: Lake) -> bool:
    """Delete the old single embeddings file once every year of movies has its own partition."""
    legacy = lake.legacy_embeddings_file
    if not legacy.exists():
        return False
    embedded = {year for year, _ in lake.embeddings_year_files()}
    if any(year not in embedded and pq.read_metadata(path).num_rows for year, path in lake.movies_year_files()):
        return False
    legacy.unlink(missing_ok=True)
    return True
