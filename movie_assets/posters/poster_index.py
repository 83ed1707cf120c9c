"""The poster index: every year's current poster vectors in one FAISS index under ``data/index/posters/``.

A vector is current when its movie is in its year's movies file now with the same ``poster_path``, and the year's
posters table says that poster is cached (ok) with the same image sha256. Anything else (a poster that changed
since, a movie that moved year or left TMDb) is left out and counted, never indexed twice. Partitions of two
models or backends are refused, as for text. Built with the text index's machinery (flat or HNSW, recall check,
id map with titles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.embeddings import index
from movie_assets.embeddings.encode import embedding_source, vectors_of
from movie_assets.embeddings.partitions import MixedEmbeddingsError, year_label
from movie_assets.lake import Lake, LakeError
from movie_assets.posters import decode

INDEX_NAME = "posters"


@dataclass(frozen=True)
class PosterVectors:
    """The current poster vectors of the lake and how they cover its cached posters."""

    table: pa.Table  # movie_id, poster_path, image_sha256, vector; sorted by movie_id
    source: dict[str, str]  # model_id and backend
    cached: int  # movies whose current poster is cached
    without_vectors: int  # of those, how many have no current vector
    years_to_embed: list[str] = field(default_factory=list)  # years holding such movies


def current_poster_vectors(lake: Lake) -> PosterVectors:
    """Every year's current vectors (see the module docstring), checked to come from one model and backend."""
    vector_files = dict(lake.poster_vectors_year_files())
    parts: list[pa.Table] = []
    sources: dict[str, list[str]] = {}
    cached = without = 0
    to_embed: list[str] = []
    for year, movies_file in lake.movies_year_files():
        current = _cached_now(lake, year, movies_file)
        cached += current.num_rows
        kept = pa.table({"movie_id": pa.array([], pa.int64())})
        if year in vector_files and current.num_rows:
            vectors = pq.read_table(vector_files[year])
            model_id = embedding_source(vectors).get("model_id", "unrecorded")
            sources.setdefault(model_id, []).append(year_label(year))
            key = pc.binary_join_element_wise(pc.cast(vectors.column("movie_id"), pa.string()),
                                              vectors.column("poster_path"), vectors.column("image_sha256"), "|")
            wanted = pc.binary_join_element_wise(pc.cast(current.column("movie_id"), pa.string()),
                                                 current.column("poster_path"), current.column("image_sha256"), "|")
            kept = vectors.filter(pc.is_in(key, value_set=wanted))
            parts.append(kept.replace_schema_metadata(vectors.schema.metadata))
        if kept.num_rows < current.num_rows:
            without += current.num_rows - kept.num_rows
            to_embed.append(year_label(year))
    if len(sources) > 1:
        detail = "; ".join(f"{model}: {', '.join(years)}" for model, years in sorted(sources.items()))
        raise MixedEmbeddingsError(f"poster embedding partitions come from different models or backends ({detail}); "
                                   "materialize poster_embeddings for those years with one image backend "
                                   "(MOVIE_ASSETS_IMAGE_BACKEND)")
    if not parts:
        raise LakeError("no poster embeddings match a year of movies; materialize movie_posters and "
                        "poster_embeddings first")
    metadata = parts[0].schema.metadata
    table = pa.concat_tables([p.replace_schema_metadata(None) for p in parts]).sort_by("movie_id")
    table = table.replace_schema_metadata(metadata)
    return PosterVectors(table, embedding_source(table), cached, without, to_embed)


def _cached_now(lake: Lake, year: int | None, movies_file) -> pa.Table:
    """movie_id, poster_path, image_sha256 of ``year``'s movies whose current poster is cached."""
    posters_file = lake.posters_year_file(year)
    empty = pa.table({"movie_id": pa.array([], pa.int64()), "poster_path": pa.array([], pa.string()),
                      "image_sha256": pa.array([], pa.string())})
    if not posters_file.exists():
        return empty
    movies = pq.read_table(movies_file, columns=["movie_id", "poster_path"])
    posters = pq.read_table(posters_file, columns=["movie_id", "poster_path", "image_sha256", "status"])
    posters = posters.filter(pc.equal(posters.column("status"), decode.OK)).drop_columns(["status"])
    joined = posters.join(movies, keys=["movie_id", "poster_path"], join_type="inner")
    return joined.select(["movie_id", "poster_path", "image_sha256"])


def build_poster_index(lake: Lake, vectors: PosterVectors, params: index.IndexParams = index.IndexParams()
                       ) -> index.IndexReport:
    """Index ``vectors`` under ``data/index/posters/`` (titles from ``movies.parquet`` when present)."""
    titles = pq.read_table(lake.movies_file, columns=["movie_id", "title", "year"]) if lake.movies_file.exists() \
        else None
    table = vectors.table
    return index.build_index_files(lake, table.column("movie_id").to_numpy(), vectors_of(table), titles, params,
                                   extra_manifest={"vectors": table.num_rows, **vectors.source}, name=INDEX_NAME)


def load_poster_index(lake: Lake):
    """(index, id map, manifest) of the saved poster index."""
    return index.load_index(lake, INDEX_NAME)
