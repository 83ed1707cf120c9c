"""Which modalities each movie has: the masks a multimodal model reads, and how they cover the catalog.

``processed/item_modalities.parquet`` (also the ``item_modalities`` view of ``movies.duckdb``): one row per current
movie, sorted by ``movie_id``: ``movie_id, year, has_text, has_poster, poster_status, text_model_id,
image_model_id``. ``has_text`` / ``has_poster`` mean a *current* vector (the text of the movie's document now, the
poster its ``poster_path`` names now); ``poster_status`` is the poster's recorded outcome (`decode.STATUSES`), or
``not_fetched`` when its year's posters were never fetched. A missing modality is a row with a false flag and a
reason, never a dropped movie.

``reports/item_modalities.json``: the share of movies with each modality overall and by year, original language
and popularity decile (decile 1: the least popular tenth), and the movies per poster status.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.embeddings import partitions
from movie_assets.lake import Lake, LakeError
from movie_assets.posters import decode, poster_index

NOT_FETCHED = "not_fetched"
SCHEMA = pa.schema([
    ("movie_id", pa.int64()), ("year", pa.int16()), ("has_text", pa.bool_()), ("has_poster", pa.bool_()),
    ("poster_status", pa.string()), ("text_model_id", pa.string()), ("image_model_id", pa.string()),
])
COLUMN_DESCRIPTIONS = {
    "movie_id": "TMDb movie id (unique, sorted)",
    "year": "release year (null: undated)",
    "has_text": "a current text vector (of the movie's document now)",
    "has_poster": "a current poster vector (of the poster its poster_path names now)",
    "poster_status": "ok, no_poster, not_found, not_image, too_large, too_small, undecodable, failed, not_fetched",
    "text_model_id": "model id of the text vector (null without one)",
    "image_model_id": "model id of the poster vector (null without one)",
}


def _ids_and_model(read) -> tuple[set[int], str | None]:
    try:
        table, source = read()
    except (FileNotFoundError, LakeError):
        return set(), None
    return set(table.column("movie_id").to_pylist()), source.get("model_id")


def item_modalities(lake: Lake) -> tuple[pa.Table, pa.Table]:
    """The table described in the module docstring, from the lake as it is now, and the catalog it covers
    (movie_id, poster_path, original_language, popularity, year; same order) for `coverage_report`."""
    movies, statuses = [], {}
    for year, path in lake.movies_year_files():
        table = pq.read_table(path, columns=["movie_id", "poster_path", "original_language", "popularity"])
        movies.append(table.append_column("year", pa.array([year] * table.num_rows, pa.int16())))
        posters = lake.posters_year_file(year)
        if posters.exists():
            # An outcome counts for the poster the movie names now; one of an older poster_path is not_fetched.
            rows = pq.read_table(posters, columns=["movie_id", "poster_path", "status"])
            rows = rows.join(table.select(["movie_id", "poster_path"]), keys=["movie_id", "poster_path"])
            statuses.update(zip(rows.column("movie_id").to_pylist(), rows.column("status").to_pylist(), strict=True))
            posterless = table.filter(pc.is_null(table.column("poster_path"))).column("movie_id").to_pylist()
            statuses.update(dict.fromkeys(posterless, decode.NO_POSTER))
    if not movies:
        raise LakeError("no movies in the lake; materialize the movies partitions first")
    catalog = pa.concat_tables(movies).sort_by("movie_id")

    def text():
        inputs = partitions.index_table(lake)
        return inputs.table, inputs.source

    def image():
        found = poster_index.current_poster_vectors(lake)
        return found.table, found.source

    with_text, text_model = _ids_and_model(text)
    with_poster, image_model = _ids_and_model(image)
    ids = catalog.column("movie_id").to_pylist()
    has_text = [m in with_text for m in ids]
    has_poster = [m in with_poster for m in ids]
    return pa.table({
        "movie_id": catalog.column("movie_id"),
        "year": catalog.column("year"),
        "has_text": pa.array(has_text, pa.bool_()),
        "has_poster": pa.array(has_poster, pa.bool_()),
        "poster_status": pa.array([statuses.get(m, NOT_FETCHED) for m in ids], pa.string()),
        "text_model_id": pa.array([text_model if t else None for t in has_text], pa.string()),
        "image_model_id": pa.array([image_model if p else None for p in has_poster], pa.string()),
    }, schema=SCHEMA), catalog


def coverage_report(modalities: pa.Table, catalog: pa.Table) -> dict[str, Any]:
    """Shares of movies with text, poster and both: overall, by year, by original language, by popularity
    decile; and the movies per poster status."""
    frame = modalities.to_pandas()
    frame["original_language"] = catalog.column("original_language").to_pandas().fillna("unknown").values
    popularity = catalog.column("popularity").to_pandas().fillna(0.0)
    ranks = popularity.rank(method="first")
    frame["popularity_decile"] = ((ranks - 1) * 10 // max(len(frame), 1) + 1).astype(int).values
    frame["both"] = frame["has_text"] & frame["has_poster"]
    frame["year"] = frame["year"].astype("Int64").astype(str).replace("<NA>", "undated")

    def shares(group: Any) -> dict[str, Any]:
        return {"movies": int(len(group)), "text": round(float(group["has_text"].mean()), 4),
                "poster": round(float(group["has_poster"].mean()), 4), "both": round(float(group["both"].mean()), 4)}

    def by(column: str) -> dict[str, Any]:
        return {str(key): shares(group) for key, group in frame.groupby(column, sort=True)}

    return {
        "movies": int(len(frame)),
        "overall": shares(frame),
        "poster_status": {k: int(v) for k, v in sorted(frame["poster_status"].value_counts().items())},
        "by_year": by("year"),
        "by_language": by("original_language"),
        "by_popularity_decile": by("popularity_decile"),
    }


def without_poster_vector(modalities: pa.Table) -> pa.Table:
    """Movies whose poster is cached (status ok) but that have no current poster vector."""
    cached = pc.equal(modalities.column("poster_status"), "ok")
    return modalities.filter(pc.and_(cached, pc.invert(modalities.column("has_poster"))))
