"""Tombstones: the movies that left TMDb, with when and why, instead of rows in ``movies``.

A movie is tombstoned when its latest stored observation says it is gone: a 404 (TMDb's status_code 34), or
a ``deleted`` version the catalog sync wrote when a whole daily ID export no longer listed it
(`movie_assets.harvest.deletions`). Both are versions in the details store, so history knows them too, and
either way the movie comes back as soon as TMDb lists it again: a later good version lifts the tombstone.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.store import DELETED, GONE_STATUSES, DetailsStore
from movie_assets.lake import Lake
from movie_assets.lake.schema import TOMBSTONE_SCHEMA

NOT_FOUND_REASON = "not_found: TMDb answers 404 (status_code 34)"


def deleted_reason(day: object) -> str:
    """The reason recorded for a movie that the catalog sync of ``day`` found missing from a whole export."""
    return f"not in TMDb's daily ID export as of {day}"


def tombstones(lake: Lake, store: DetailsStore | None = None, latest: pa.Table | None = None) -> pa.Table:
    """The tombstones of the lake as of now (`TOMBSTONE_SCHEMA`, by movie id)."""
    store = store or DetailsStore(lake.details_store_dir)
    latest = latest if latest is not None else store.latest()
    gone = latest.filter(pc.is_in(latest.column("status"), value_set=pa.array(sorted(GONE_STATUSES))))
    rows = [
        {"movie_id": i, "since": when,
         "reason": deleted_reason(when.date()) if status == DELETED else NOT_FOUND_REASON}
        for i, when, status in zip(*(gone.column(c).to_pylist() for c in ("movie_id", "observed_at", "status")),
                                   strict=True)
    ]
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["movie_id"]), schema=TOMBSTONE_SCHEMA)


def tombstoned_ids(lake: Lake, store: DetailsStore, latest: pa.Table) -> set[int]:
    """The ids of `tombstones`."""
    return set(tombstones(lake, store, latest).column("movie_id").to_pylist())
