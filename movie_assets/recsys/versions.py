"""Each interaction joined to the item version current at its time (``interactions_item_version.parquet``).

A team's own logs fall inside the details store's history: a view on 3 March was of the movie as TMDb showed it
on 3 March, not of today's overview and poster. DuckDB's ``ASOF JOIN`` pairs every interaction with its movie's
latest observation at or before the interaction's time (in the one order of versions: observation time, then
shard, then row); an interaction older than the store's first observation of its movie has no row. For each good
version, ``text_content_hash`` is the hash of its document under the dataset's text model, and
``has_text_vector`` says whether the lake's text vectors (a cache by that hash) hold its vector; those vectors are
written to ``features/text_versions_<model>.parquet``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.embeddings.text import content_hash, documents
from movie_assets.harvest.store import OK, DetailsStore
from movie_assets.lake import Lake
from movie_assets.recsys.features import ModalityVectors
from movie_assets.warehouse.history import stored_movies, versions_relation
from movie_assets.warehouse.sql import path_literal

SCHEMA = pa.schema([
    ("row", pa.int64()), ("item_index", pa.int32()), ("movie_id", pa.int64()),
    ("version_observed_at", pa.timestamp("us", tz="UTC")), ("version_status", pa.string()),
    ("details_content_hash", pa.string()), ("text_content_hash", pa.string()), ("has_text_vector", pa.bool_()),
])


def _asof_rows(lake: Lake, interactions_file: Path, items: pa.Table) -> pa.Table:
    store = DetailsStore(lake.details_store_dir)
    if not store.shard_paths():
        return pa.table({"row": pa.array([], pa.int64())})
    versions = versions_relation(store)
    with duckdb.connect() as connection:
        connection.execute("SET threads TO 2")
        connection.register("items", items.select(["item_index", "movie_id"]))
        return connection.execute(f"""
            WITH v AS (
                SELECT movie_id, observed_at, status, content_hash FROM {versions}
                QUALIFY row_number() OVER (PARTITION BY movie_id, observed_at
                                           ORDER BY shard DESC, file_row_number DESC) = 1
            ), i AS (
                SELECT file_row_number AS row, item_index, CAST(timestamp AS TIMESTAMPTZ) AS at
                FROM read_parquet({path_literal(interactions_file.parent, interactions_file.name)},
                                  file_row_number = true)
            )
            SELECT i.row, i.item_index, items.movie_id, v.observed_at AS version_observed_at,
                   v.status AS version_status, v.content_hash AS details_content_hash
            FROM i JOIN items USING (item_index)
            ASOF JOIN v ON items.movie_id = v.movie_id AND i.at >= v.observed_at
            ORDER BY i.row""").fetch_arrow_table()


def _text_hashes(lake: Lake, versions: pa.Table, model_id: str) -> dict[tuple[int, str], str]:
    """(movie_id, details content hash) → the text content hash of that version's document."""
    wanted = versions.filter(pc.equal(versions.column("version_status"), OK)).group_by(
        ["movie_id", "details_content_hash"], use_threads=False).aggregate([("version_observed_at", "max")])
    store = DetailsStore(lake.details_store_dir)
    found: dict[tuple[int, str], str] = {}
    # One version per movie a pass: the store reads one payload per movie at a time.
    ranks = wanted.sort_by([("movie_id", "ascending"), ("details_content_hash", "ascending")])
    movie_ids = ranks.column("movie_id").to_numpy()
    starts = np.r_[0, np.flatnonzero(movie_ids[1:] != movie_ids[:-1]) + 1] if len(movie_ids) else np.zeros(0, int)
    nth = np.arange(len(movie_ids)) - np.repeat(starts, np.diff(np.r_[starts, len(movie_ids)]))
    for n in range(int(nth.max()) + 1 if len(nth) else 0):
        round_ = ranks.filter(pa.array(nth == n))
        asked = pa.table({"movie_id": round_.column("movie_id"), "content_hash": round_.column("details_content_hash"),
                          "status": pa.array([OK] * round_.num_rows), "observed_at": round_.column(
                              "version_observed_at_max")})
        by_movie = dict(zip(asked.column("movie_id").to_pylist(), asked.column("content_hash").to_pylist(),
                            strict=True))
        ids, texts = documents(stored_movies(lake, store, asked))
        for movie_id, text in zip(ids, texts, strict=True):
            found[(movie_id, by_movie[movie_id])] = content_hash(model_id, text)
    return found


def interaction_versions(lake: Lake, interactions_file: Path, items: pa.Table, text: ModalityVectors
                         ) -> tuple[pa.Table, pa.Table]:
    """(the interactions' item versions (`SCHEMA`), the text vectors of those versions: ``text_content_hash,
    vector``)."""
    rows = _asof_rows(lake, interactions_file, items)
    if not rows.num_rows:
        return SCHEMA.empty_table(), pa.table({"text_content_hash": pa.array([], pa.string())})
    hashes = _text_hashes(lake, rows, text.model_id) if text.model_id else {}
    known = pa.table({"movie_id": pa.array([m for m, _ in hashes], pa.int64()),
                      "details_content_hash": pa.array([h for _, h in hashes], pa.string()),
                      "text_content_hash": pa.array(list(hashes.values()), pa.string())})
    rows = rows.join(known, keys=["movie_id", "details_content_hash"], join_type="left outer",
                     use_threads=False).sort_by("row")
    text_hash = rows.column("text_content_hash").combine_chunks()
    rows = rows.drop_columns(["text_content_hash"])
    keys = text.table.column("key") if text.table.num_rows else pa.array([], pa.string())
    has_vector = pc.fill_null(pc.is_in(text_hash, value_set=keys), False)
    table = rows.append_column("text_content_hash", text_hash).append_column("has_text_vector", has_vector)
    table = table.cast(SCHEMA)
    cached = text.table.filter(pc.is_in(text.table.column("key"), value_set=pc.unique(text_hash.drop_null()))) \
        if text.table.num_rows else text.table
    vectors = cached.select(["key", "vector"]).rename_columns(["text_content_hash", "vector"]).sort_by(
        "text_content_hash") if cached.num_rows else pa.table({"text_content_hash": pa.array([], pa.string())})
    return table, vectors
