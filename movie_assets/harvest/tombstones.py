"""Tombstones: the movies that left TMDb, with when and why, instead of rows in ``movies``.

A movie is tombstoned when its latest stored observation is a 404 (TMDb's status_code 34), or when TMDb's
newest daily ID export no longer lists it although it was observed before that export was made (and it is
not an adult title missing from an export read without the adult file). Either way it comes back as soon
as TMDb lists it again: a later good version, or a later export that holds it, lifts the tombstone.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest import exports
from movie_assets.harvest.store import NOT_FOUND, OK, DetailsStore
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
    rows += _left_the_export(lake, store, latest)
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["movie_id"]), schema=TOMBSTONE_SCHEMA)


def _left_the_export(lake: Lake, store: DetailsStore, latest: pa.Table) -> list[dict]:
    days = lake.export_days()
    if not days:
        return []
    day = days[-1]
    export = exports.read_snapshot(lake, day, ["id", "adult"])
    made = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    observed_before = pc.less(latest.column("observed_at"), pa.scalar(made, latest.schema.field("observed_at").type))
    candidates = latest.filter(
        pc.and_(
            pc.and_(pc.equal(latest.column("status"), OK), pc.fill_null(observed_before, False)),
            pc.invert(pc.is_in(latest.column("movie_id"), value_set=export.column("id"))),
        )
    )
    if candidates.num_rows == 0:
        return []
    with_adult = bool(pc.any(export.column("adult")).as_py())
    reason = f"not in TMDb's daily ID export of {day}"
    return [
        {"movie_id": movie_id, "since": made, "reason": reason}
        for movie_id, record in store.records(candidates).items()
        if with_adult or not (record.details() or {}).get("adult", False)
    ]


def tombstoned_ids(lake: Lake, store: DetailsStore, latest: pa.Table) -> set[int]:
    """The ids of `tombstones`."""
    return set(tombstones(lake, store, latest).column("movie_id").to_pylist())
