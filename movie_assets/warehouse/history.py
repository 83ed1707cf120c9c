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
from movie_assets.lake.languages import lake_languages, translated
from movie_assets.lake.policy import CatalogPolicy, resolve_policy
from movie_assets.lake.readers import load_reference
from movie_assets.lake.schema import movies_schema
from movie_assets.warehouse.sql import path_literal


def movies_as_of(lake: Lake, as_of: dt.datetime, policy: CatalogPolicy | None = None) -> pa.Table:
    """Every movie as the lake knew it at ``as_of``: the latest version observed at or before it, when that is
    a good one the catalog policy allows (a movie deleted then — a 404, or gone from the export — or excluded by
    the policy is left out, and comes back with a later good version), as one table of the lake's `movies`
    schema, sorted by ``(release_date, movie_id)``; ``year`` is the year of that version's release date. The
    versions are ordered as everywhere (`movie_assets.harvest.store`), so ``movies_as_of(now)`` equals ``movies``."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (e.g. datetime(2026, 11, 1, tzinfo=UTC))")
    store = DetailsStore(lake.details_store_dir)
    latest = store.latest(as_of=as_of)
    policy = resolve_policy(lake, policy, record=False)
    members = latest.filter(pc.and_(pc.equal(latest.column("status"), OK), policy.mask(latest)))
    return stored_movies(lake, store, members).sort_by(MOVIES_ORDER)


def stored_movies(lake: Lake, store: DetailsStore, versions: pa.Table) -> pa.Table:
    """The stored versions named by ``versions`` (a `DetailsStore.latest`-shaped table, one version per movie) as
    rows of the lake's `movies` schema, with its image base and languages; in no particular order."""
    reference = load_reference(lake)
    languages = translated(lake_languages(lake))
    parts = store.latest_versions(versions, "typed", lambda v: movies_from_typed(
        v, image_base_url=reference["image_base_url"], languages=languages))
    return pa.concat_tables([movies_schema(languages).empty_table(), *parts])


def versions_relation(store: DetailsStore) -> str:
    """A DuckDB relation (SQL) over every stored observation, with ``shard`` and ``file_row_number``: the columns
    of the one order of versions (observation time, then shard, then row)."""
    shards = path_literal(store.directory, store.shard_glob.name)
    # union_by_name: shards of a schema-1 store lack ``typed``
    return (f"(SELECT *, CAST(regexp_extract(filename, 'versions-([0-9]+)[.]parquet$', 1) AS BIGINT) AS shard "
            f"FROM read_parquet({shards}, filename = true, file_row_number = true, union_by_name = true))")


def create_history_views(lake: Lake, connection: duckdb.DuckDBPyConnection) -> bool:
    """``movie_versions`` (every stored observation, without payloads, 404s included) and the table
    macro ``movie_details_as_of(ts)`` (each movie's details JSON as known at ``ts``; a movie whose latest
    version then was a 404 or a deletion, or whose flags the lake's adult/video policy excludes, is left out,
    as in `movies_as_of`) over the details store, in the one order of versions:
    observation time, then the shard's number, then the row in it (a later append wins a tie). Returns False,
    creating nothing, while the store is empty."""
    store = DetailsStore(lake.details_store_dir)
    if not store.shard_paths():
        return False
    policy = resolve_policy(lake, record=False)
    excluded = [f"json_extract_string(payloads.payload, '$.{flag}') = 'true'"
                for flag, included in (("adult", policy.include_adult), ("video", policy.include_video))
                if not included]
    shards = path_literal(store.directory, store.shard_glob.name)
    versions = versions_relation(store)
    connection.execute(
        "CREATE OR REPLACE VIEW movie_versions AS SELECT movie_id, observed_at, status, content_hash, "
        f"release_year FROM {versions} ORDER BY movie_id, observed_at, shard, file_row_number"
    )
    connection.execute(
        f"""CREATE OR REPLACE MACRO movie_details_as_of(ts) AS TABLE
        WITH known AS (
            SELECT * FROM {versions} WHERE observed_at <= ts
            QUALIFY row_number() OVER (PARTITION BY movie_id
                                       ORDER BY observed_at DESC, shard DESC, file_row_number DESC) = 1
        ), payloads AS (
            SELECT DISTINCT ON (movie_id, content_hash) movie_id, content_hash, payload
            FROM read_parquet({shards}, union_by_name = true) WHERE payload IS NOT NULL
        )
        SELECT known.movie_id, known.observed_at, known.release_year, payloads.payload AS details
        FROM known JOIN payloads USING (movie_id, content_hash)
        WHERE known.status = 'ok'""" + "".join(f" AND NOT coalesce({e}, false)" for e in excluded)
    )
    return True
