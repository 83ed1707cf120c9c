"""The catalog as the lake knew it at a moment: `movies_as_of` (Python) and the DuckDB views and macro over
the details store (`create_history_views`).

The details store keeps every version of every movie with the time it was observed, so the past can be
queried. Build features for the time-based splits from `movies_as_of(lake, cutoff)` rather than from
``movies``: today's ``vote_count``, ``vote_average`` and ``popularity`` leak the future into a split whose
cut-off lies in the past.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.columnar import movies_from_typed
from movie_assets.harvest.records import MOVIES_ORDER
from movie_assets.harvest.store import OK, DetailsStore
from movie_assets.lake import Lake
from movie_assets.lake.readers import load_reference
from movie_assets.lake.schema import MOVIES_SCHEMA
from movie_assets.warehouse.sql import path_literal


def movies_as_of(lake: Lake, as_of: dt.datetime) -> pa.Table:
    """Every movie as the lake knew it at ``as_of``: the latest good version observed at or before it (a
    movie whose latest observation then was a 404 is left out), as one `MOVIES_SCHEMA` table sorted by
    ``(release_date, movie_id)``; ``year`` is the year of that version's release date."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (e.g. datetime(2026, 11, 1, tzinfo=UTC))")
    reference = load_reference(lake)
    store = DetailsStore(lake.details_store_dir)
    latest = store.latest(as_of=as_of)
    parts = store.latest_versions(latest.filter(pc.equal(latest.column("status"), OK)), "typed",
                                  lambda v: movies_from_typed(v, image_base_url=reference["image_base_url"]))
    return pa.concat_tables([MOVIES_SCHEMA.empty_table(), *parts]).sort_by(MOVIES_ORDER)


def create_history_views(lake: Lake, connection: duckdb.DuckDBPyConnection) -> bool:
    """``movie_versions`` (every stored observation, without payloads) and the table macro
    ``movie_details_as_of(ts)`` (each movie's details JSON as known at ``ts``) over the details store.
    Returns False, creating nothing, while the store is empty."""
    store = DetailsStore(lake.details_store_dir)
    if not store.shard_paths():
        return False
    shards = path_literal(store.directory, store.shard_glob.name)
    # union_by_name: shards of a schema-1 store lack ``typed``
    versions = f"read_parquet({shards}, filename = true, file_row_number = true, union_by_name = true)"
    connection.execute(
        "CREATE OR REPLACE VIEW movie_versions AS SELECT movie_id, observed_at, status, content_hash, "
        f"release_year FROM {versions} ORDER BY movie_id, filename, file_row_number"
    )
    connection.execute(
        f"""CREATE OR REPLACE MACRO movie_details_as_of(ts) AS TABLE
        WITH known AS (
            SELECT * FROM {versions} WHERE observed_at <= ts
            QUALIFY row_number() OVER (PARTITION BY movie_id ORDER BY filename DESC, file_row_number DESC) = 1
        ), payloads AS (
            SELECT DISTINCT ON (movie_id, content_hash) movie_id, content_hash, payload
            FROM read_parquet({shards}, union_by_name = true) WHERE payload IS NOT NULL
        )
        SELECT known.movie_id, known.observed_at, known.release_year, payloads.payload AS details
        FROM known JOIN payloads USING (movie_id, content_hash)
        WHERE known.status = 'ok'"""
    )
    return True
