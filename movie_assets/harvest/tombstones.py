"""Tombstones: the movies that left TMDb, with when and why, instead of rows in ``movies``.

A movie is tombstoned when its latest stored observation is a 404 (TMDb's status_code 34): asked about
because a changes feed, a discover list or a whole daily ID export that no longer lists it
(`movie_assets.harvest.deletions`) sent the sync to it. The 404 is a version in the details store, so
history knows it too, and the movie comes back as soon as TMDb lists it again: a later good version lifts
the tombstone.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.store import NOT_FOUND, DetailsStore
from movie_assets.lake import Lake
from movie_assets.lake.schema import TOMBSTONE_SCHEMA

NOT_FOUND_REASON = "not_found: TMDb answers 404 (status_code 34)"


def tombstones(lake: Lake, store: DetailsStore | None = None, latest: pa.Table | None = None) -> pa.Table:
    """The tombstones of the lake as of now (`TOMBSTONE_SCHEMA`, by movie id)."""
    store = store or DetailsStore(lake.details_store_dir)
    latest = latest if latest is not None else store.latest()
    gone = latest.filter(pc.equal(latest.column("status"), NOT_FOUND))
    rows = [
        {"movie_id": i, "since": when, "reason": NOT_FOUND_REASON}
        for i, when in zip(gone.column("movie_id").to_pylist(), gone.column("observed_at").to_pylist(), strict=True)
    ]
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["movie_id"]), schema=TOMBSTONE_SCHEMA)
