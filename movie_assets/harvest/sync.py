"""The catalog sync: keep the lake equal to TMDb, with TMDb's own list of ids as the source of truth.

One `sync` call:

1. reads today's daily ID export (`exports.fetch_export`): the ids that exist, under the adult/video policy;
2. reads ``/movie/changes`` since the cursor (≤ 14-day windows, every page, split past 500 pages);
3. fetches, into the details store, every listed movie it holds no version of (on an empty lake: the whole
   catalog, resumable after a kill), every changed movie, and the newest releases discover lists that the
   export (made early today) cannot know yet;
4. rebuilds exactly the partitions whose membership or content changed: the old and the new year of every
   refetched movie, and the year of every movie that left the export (it becomes a tombstone);
5. moves the cursor, only now: a sync that fails retries the same ids next time.

The store's lock makes it the one writer: two syncs (or a sync and a details run) cannot interleave.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow.compute as pc

from movie_assets.harvest import exports
from movie_assets.harvest.changes import changed_ids_since
from movie_assets.harvest.cursor import SyncCursor, SyncError
from movie_assets.harvest.discover import DiscoverHarvester
from movie_assets.harvest.enrich import BatchProgress, enrich
from movie_assets.harvest.exports import listed_ids
from movie_assets.harvest.reference import fetch_reference
from movie_assets.harvest.store import OK, DetailsStore
from movie_assets.harvest.year_build import StoreView, build_movies_undated, build_movies_year
from movie_assets.lake import Lake, write_json_atomic
from movie_assets.lake.locks import partitions_lock
from movie_assets.lake.readers import read_parquet
from movie_assets.lake.state import read_state_json
from movie_assets.tmdb.client import TMDbClient

log = logging.getLogger(__name__)

# Discover's fast path: releases dated this close to today are read from discover too, not only the export.
NEWEST_DAYS = dt.timedelta(days=7)

@dataclass
class SyncReport:
    """What one sync did."""

    export_day: dt.date
    full: bool  # the first sync of this lake: every listed movie was fetched
    listed: int  # movies in the export under the policy
    new: int  # listed movies the store held no version of
    changed: int  # movies /movie/changes listed since the cursor (that the lake cares about)
    vanished: int  # movies the previous export listed and this one does not
    requests: int = 0
    changes_window: tuple[dt.date, dt.date] | None = None
    years_rebuilt: list[int | None] = field(default_factory=list)  # None: the undated partition
    seconds: float = 0.0

    def describe(self) -> str:
        kind = "full" if self.full else "incremental"
        rebuilt = ", ".join("undated" if y is None else str(y) for y in self.years_rebuilt) or "none"
        return (
            f"{kind} sync against the export of {self.export_day}: {self.listed:,} movies listed, "
            f"{self.new:,} new, {self.changed:,} changed, {self.vanished:,} gone; {self.requests:,} requests "
            f"in {self.seconds:.1f}s; partitions rebuilt: {rebuilt}"
        )


async def sync(
    client: TMDbClient,
    lake: Lake,
    *,
    include_adult: bool = False,
    include_video: bool = False,
    batch_size: int = 500,
    concurrency: int = 20,
    progress: Callable[[BatchProgress], None] | None = None,
    logger: logging.Logger | None = None,
) -> SyncReport:
    """Bring the lake to TMDb's state of today (see the module docstring)."""
    logger = logger or log
    started, requests_before = time.monotonic(), client.stats.requests
    lake.ensure_writable()
    lake.remove_stale_temporaries()
    now = await client.server_time()
    cursor = SyncCursor.read(lake, now.date())
    store = DetailsStore(lake.details_store_dir, logger=logger)
    with store.writer():  # held until the cursor moves: one sync (or details run) at a time
        export = await exports.fetch_export(client, lake, now=now, include_adult=include_adult, logger=logger)
        listed = listed_ids(lake, export.day, include_adult, include_video)
        state = store.state()
        statuses = dict(state.statuses)
        # Listed movies without a good version (never fetched, or a 404 TMDb lists again) are fetched.
        new = {i for i in listed if statuses.get(i) != OK}
        changed: set[int] = set()
        window = None
        since = cursor.changes_through if cursor is not None else _first_observation(store)
        if since is not None:  # an incremental sync, or a full one resumed after a kill: what changed since
            changes = await changed_ids_since(client, since, now.date())
            changed = {i for i in changes.ids if i in listed or i in statuses}
            window = (changes.start, changes.end)
        vanished: set[int] = set()
        if cursor is not None and lake.export_snapshot_file(cursor.export_day).exists():
            vanished = listed_ids(lake, cursor.export_day, include_adult, include_video) - listed
        # The newest releases through discover: movies created after the export was made are not in it yet.
        newest = await DiscoverHarvester(client, include_adult=include_adult, include_video=include_video
                                         ).harvest_dates(now.date() - NEWEST_DAYS, now.date() + NEWEST_DAYS)
        new |= {i for i in newest.items if statuses.get(i) != OK}
        # Written before fetching: a sync that fails or is killed rebuilds these partitions next time too.
        touched = new | changed | vanished | _read_pending(lake)
        write_json_atomic({"ids": sorted(touched)}, lake.sync_pending_file)
        await fetch_reference(client, lake)
        refetch = changed | (new & set(statuses))
        result = await enrich(client, new | changed, store, batch_size=batch_size, concurrency=concurrency,
                              refetch=refetch, progress=progress, state=state)
        if result.failed:
            raise SyncError(
                f"{len(result.failed)} of {len(new | changed)} movies still failed after retries (e.g. "
                f"{result.failed[:10]}; first error: {result.errors[result.failed[0]]}). What succeeded is "
                "stored and the cursor did not move: run the sync again to fetch the rest"
            )
        store.compact()
        with partitions_lock(lake):  # a moved movie leaves its old year and joins its new one together
            view = StoreView.load(lake)  # the store's index and the tombstones, read once for every rebuild
            years = _partitions_to_rebuild(lake, view, touched, full=cursor is None)
            for year in years:
                if year is None:
                    build_movies_undated(lake, view=view)
                else:
                    build_movies_year(lake, year, require_discover=False, view=view)
        SyncCursor(now.date(), export.day).write(lake)
        lake.sync_pending_file.unlink(missing_ok=True)
    report = SyncReport(
        export_day=export.day,
        full=cursor is None,
        listed=len(listed),
        new=len(new),
        changed=len(changed),
        vanished=len(vanished),
        requests=client.stats.requests - requests_before,
        changes_window=window,
        years_rebuilt=years,
        seconds=round(time.monotonic() - started, 2),
    )
    logger.info("%s", report.describe())
    return report


def _first_observation(store: DetailsStore) -> dt.date | None:
    """The day of the oldest stored observation (None for an empty store): where a full sync resumed after
    a kill must read the changes from, so that movies fetched back then are not left stale."""
    observed = store.latest().column("observed_at")
    first = pc.min(observed).as_py() if len(observed) else None
    return first.astimezone(dt.UTC).date() if first is not None else None


def _read_pending(lake: Lake) -> set[int]:
    if not lake.sync_pending_file.exists():
        return set()
    return set(read_state_json(
        lake.sync_pending_file, "the sync's journal of touched movies", shape={"ids": [int]},
        parse=lambda data: data["ids"],
        fix=f"its partitions must still be rebuilt: delete it and the cursor {lake.sync_cursor_file}, and the "
            "next sync fetches every listed movie again and rebuilds every partition",
    ))


def _partitions_to_rebuild(lake: Lake, view: StoreView, touched: set[int], *, full: bool) -> list[int | None]:
    """Every partition a touched movie is in now (read from the lake, not assumed) or belongs in, plus any
    partition holding a movie that is also in another one; all partitions the store fills on a full sync."""
    where: dict[int, set[int | None]] = {}
    for year, path in lake.movies_year_files():
        for movie_id in read_parquet(path, columns=["movie_id"]).column("movie_id").to_pylist():
            where.setdefault(movie_id, set()).add(year)
    latest = view.latest
    good = latest.filter(pc.and_(pc.equal(latest.column("status"), OK),
                                 pc.invert(pc.is_in(latest.column("movie_id"), value_set=view.gone))))
    belongs = dict(zip(good.column("movie_id").to_pylist(), good.column("release_year").to_pylist(), strict=True))
    affected: set[int | None] = set()
    for movie_id in touched:
        affected |= where.get(movie_id, set())
        if movie_id in belongs:
            affected.add(belongs[movie_id])
    for partitions in where.values():
        if len(partitions) > 1:
            affected |= partitions
    if full:
        affected |= set(belongs.values())
    return sorted(y for y in affected if y is not None) + ([None] if None in affected else [])
