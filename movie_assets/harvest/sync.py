"""The catalog sync: keep the lake equal to TMDb, with TMDb's own list of ids as the source of truth.

One `sync` call:

1. reads today's daily ID export (`exports.fetch_export`): the ids that exist, with their adult/video flags;
2. reads ``/movie/changes`` since the cursor (≤ 14-day windows, every page, split past 500 pages);
3. fetches, into the details store, every changed movie, the newest releases discover lists that the export
   (made early today) cannot know yet, and — anti-entropy — every movie the export lists under the policy that
   the store does not hold as a good, policy-allowed version (never fetched, deleted or 404 before, a flag
   the export now gives differently), and every stored movie whose export flags now fall outside the policy;
4. asks TMDb once about every live movie of the lake that a whole export no longer lists
   (`movie_assets.harvest.deletions`: a partial export deletes nothing it alone omits): a 404 is stored as a
   version (the movie leaves ``movies``, is tombstoned, and history knows when), while one that still answers
   — an export can leave out a movie that exists — is kept with its fresh version;
5. reconciles the partitions with the store as sets (`movie_assets.harvest.reconcile`) and rebuilds exactly
   the years that differ, together, under the partitions lock;
6. moves the cursor, only now: a sync that fails retries the same ids next time.

Nothing depends on having seen every delta: steps 3-5 compare whole sets, so a lost or corrupt snapshot, a
kill at any point, or an older lake costs at most one more pass. The store's lock makes the sync the one
writer: two syncs (or a sync and a details run) cannot interleave.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest import exports
from movie_assets.harvest.changes import changed_ids_since
from movie_assets.harvest.cursor import SyncCursor, SyncError
from movie_assets.harvest.deletions import (
    DEFAULT_MIN_SHARE,
    DeletionVerdict,
    export_made_at,
    judge_export,
)
from movie_assets.harvest.discover import DiscoverHarvester
from movie_assets.harvest.enrich import BatchProgress, details_appends, enrich
from movie_assets.harvest.reconcile import Difference
from movie_assets.harvest.reference import fetch_reference
from movie_assets.harvest.store import OK, DetailsStore
from movie_assets.harvest.year_build import StoreView, reconcile_years
from movie_assets.lake import Lake
from movie_assets.lake.policy import CatalogPolicy, resolve_policy
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
    new: int  # listed movies the store held no good, policy-allowed version of (anti-entropy included)
    changed: int  # movies /movie/changes listed since the cursor (that the lake cares about)
    vanished: int  # movies deleted because the export no longer lists them
    deletions: DeletionVerdict | None = None
    repaired: Difference | None = None  # how the partitions differed from the store before the rebuild
    excluded_by_policy: int = 0  # good versions the policy keeps out of movies (e.g. a flag that flipped)
    requests: int = 0
    changes_window: tuple[dt.date, dt.date] | None = None
    years_rebuilt: list[int | None] = field(default_factory=list)  # None: the undated partition
    seconds: float = 0.0

    def describe(self) -> str:
        kind = "full" if self.full else "incremental"
        rebuilt = ", ".join("undated" if y is None else str(y) for y in self.years_rebuilt) or "none"
        text = (
            f"{kind} sync against the export of {self.export_day}: {self.listed:,} movies listed, "
            f"{self.new:,} new, {self.changed:,} changed, {self.vanished:,} gone; {self.requests:,} requests "
            f"in {self.seconds:.1f}s; partitions rebuilt: {rebuilt}"
        )
        if self.deletions is not None and not self.deletions.trusted:
            text += f"; {self.deletions.describe()}"
        return text


async def sync(
    client: TMDbClient,
    lake: Lake,
    *,
    include_adult: bool = False,
    include_video: bool = False,
    min_export_share: float = DEFAULT_MIN_SHARE,
    batch_size: int = 500,
    concurrency: int = 20,
    progress: Callable[[BatchProgress], None] | None = None,
    logger: logging.Logger | None = None,
) -> SyncReport:
    """Bring the lake to TMDb's state of today (see the module docstring)."""
    logger = logger or log
    policy = resolve_policy(lake, CatalogPolicy(include_adult, include_video))  # before the first request
    started, requests_before = time.monotonic(), client.stats.requests
    lake.ensure_writable()
    lake.remove_stale_temporaries()
    now = await client.server_time()
    cursor = SyncCursor.read(lake, now.date())
    store = DetailsStore(lake.details_store_dir, logger=logger)
    with store.writer():  # held until the cursor moves: one sync (or details run) at a time
        export = await exports.fetch_export(client, lake, now=now, include_adult=include_adult, logger=logger)
        listing = exports.read_snapshot(lake, export.day, ["id", "adult", "video"])
        listed = listing.filter(policy.mask(listing)).column("id").combine_chunks()
        excluded_now = listing.filter(pc.invert(policy.mask(listing))).column("id").combine_chunks()
        latest = store.latest()
        readable = store.held(latest)  # versions whose payload a shard still holds (all in Arrow: 1.2M ids)
        good = readable.filter(pc.equal(readable.column("status"), OK))
        held = good.filter(policy.mask(good)).column("movie_id").combine_chunks()
        # What the store saw after the export was made decides over the export: a 404 or a flag that changed
        # since is not fetched again on every sync of the day.
        made = pa.scalar(export_made_at(export.day), readable.schema.field("observed_at").type)
        newer = readable.filter(pc.fill_null(pc.greater_equal(readable.column("observed_at"), made), False))
        settled = newer.column("movie_id").combine_chunks()
        # Anti-entropy: listed under the policy, but not held as a good, allowed version of its payload.
        missing = listed.filter(pc.invert(pc.is_in(listed, value_set=held)))
        new = set(missing.filter(pc.invert(pc.is_in(missing, value_set=settled))).to_pylist())
        # The export says a held movie's flags now fall outside the policy: its stored payload is stale.
        stale = held.filter(pc.and_(pc.is_in(held, value_set=excluded_now),
                                    pc.invert(pc.is_in(held, value_set=settled))))
        flipped = set(stale.to_pylist())
        changed: set[int] = set()
        window = None
        since = cursor.changes_through if cursor is not None else _first_observation(latest)
        if since is not None:  # an incremental sync, or a full one resumed after a kill: what changed since
            changes = await changed_ids_since(client, since, now.date())
            known = pa.concat_arrays([listing.column("id").combine_chunks(),
                                      latest.column("movie_id").combine_chunks()])
            ids = pa.array(changes.ids, pa.int64())
            changed = set(ids.filter(pc.is_in(ids, value_set=known)).to_pylist())
            window = (changes.start, changes.end)
        # The newest releases through discover: movies created after the export was made are not in it yet.
        newest = await DiscoverHarvester(client, include_adult=include_adult, include_video=include_video
                                         ).harvest_dates(now.date() - NEWEST_DAYS, now.date() + NEWEST_DAYS)
        found = pa.array(sorted(newest.items), pa.int64())
        new |= set(found.filter(pc.invert(pc.is_in(found, value_set=good.column("movie_id")))).to_pylist())
        await fetch_reference(client, lake)
        wanted = pa.array(sorted(new | changed | flipped), pa.int64())
        refetch = set(wanted.filter(pc.is_in(wanted, value_set=readable.column("movie_id"))).to_pylist())
        appends = details_appends(lake)
        result = await enrich(client, wanted.to_pylist(), store, batch_size=batch_size, concurrency=concurrency,
                              refetch=refetch, progress=progress, appends=appends)
        if result.failed:
            raise SyncError(
                f"{len(result.failed)} of {len(wanted)} movies still failed after retries (e.g. "
                f"{result.failed[:10]}; first error: {result.errors[result.failed[0]]}). What succeeded is "
                "stored and the cursor did not move: run the sync again to fetch the rest"
            )
        verdict, gone = judge_export(lake, store.latest(), export.day, with_adult=include_adult,
                                     min_share=min_export_share, logger=logger)
        gone = await _confirmed_gone(client, store, gone, batch_size=batch_size, concurrency=concurrency,
                                     appends=appends)
        verdict.applied = len(gone)
        if not verdict.trusted:
            logger.warning("%s", verdict.describe())
        store.compact()
        difference, view = reconcile_years(lake, policy)
        SyncCursor(now.date(), export.day, export_whole=verdict.trusted).write(lake)
    report = SyncReport(
        export_day=export.day,
        full=cursor is None,
        listed=len(listed),
        new=len(new),
        changed=len(changed),
        vanished=verdict.applied,
        deletions=verdict,
        repaired=difference,
        excluded_by_policy=_excluded(view),
        requests=client.stats.requests - requests_before,
        changes_window=window,
        years_rebuilt=difference.years,
        seconds=round(time.monotonic() - started, 2),
    )
    logger.info("%s", report.describe())
    return report


async def _confirmed_gone(client: TMDbClient, store: DetailsStore, gone: pa.Array, *, batch_size: int,
                          concurrency: int, appends: tuple[str, ...]) -> pa.Array:
    """The deletion candidates whose details no longer answer (404, stored as such): a movie that an export
    omits by mistake still answers, and its refetched good version keeps it (and keeps it fresh)."""
    ids = set(gone.to_pylist())
    if not ids:
        return gone
    result = await enrich(client, ids, store, batch_size=batch_size, concurrency=concurrency, refetch=ids,
                          appends=appends)
    if result.failed:
        raise SyncError(
            f"{len(result.failed)} of {len(ids)} movies the export no longer lists could not be checked (e.g. "
            f"{result.failed[:10]}; first error: {result.errors[result.failed[0]]}); nothing was deleted and the "
            "cursor did not move: run the sync again"
        )
    alive = pa.array(sorted(i for i in ids if result.statuses.get(i) == OK), pa.int64())
    return gone.filter(pc.invert(pc.is_in(gone, value_set=alive)))


def _excluded(view: StoreView) -> int:
    latest = view.latest
    good = pc.equal(latest.column("status"), OK)
    return int(pc.sum(pc.and_(good, pc.invert(view.policy.mask(latest)))).as_py() or 0)


def _first_observation(latest: pa.Table) -> dt.date | None:
    """The day of the oldest latest observation (None for an empty store): where a full sync resumed after
    a kill must read the changes from, so that movies fetched back then are not left stale."""
    observed = latest.column("observed_at")
    first = pc.min(observed).as_py() if len(observed) else None
    return first.astimezone(dt.UTC).date() if first is not None else None
