"""The per-year ingest stages as plain functions over a `Lake`: discover → details → typed year.

Each function reads what the previous stage wrote, does its work through the TMDb client, writes its
outputs atomically and returns a small summary. The Dagster assets in `movie_assets.defs.ingest` are
thin wrappers around these; the year build itself is `movie_assets.harvest.year_build`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.cursor import SyncCursor
from movie_assets.harvest.discover import DiscoverHarvester, DiscoverSnapshot
from movie_assets.harvest.enrich import BatchProgress, EnrichResult, enrich
from movie_assets.harvest.errors import IngestError
from movie_assets.harvest.exports import listed_ids
from movie_assets.harvest.records import discover_row
from movie_assets.harvest.reference import read_reference
from movie_assets.harvest.refetch import movies_missing, refetchable
from movie_assets.harvest.store import NOT_FOUND, OK, DetailsStore
from movie_assets.harvest.year_build import StoreView, build_year_and_moves
from movie_assets.lake import Lake, write_json_atomic, write_parquet_atomic
from movie_assets.lake.policy import CatalogPolicy, resolve_policy
from movie_assets.lake.readers import discover_ids, rediscover_fix
from movie_assets.lake.schema import DISCOVER_SCHEMA
from movie_assets.lake.state import MapOf, StateFileError, read_state_json, read_state_parquet
from movie_assets.tmdb.client import TMDbClient

log = logging.getLogger(__name__)

WINDOWS_SHAPE = {"totals": MapOf(int), "children": MapOf([str])}


# -- discover ---------------------------------------------------------------------------------------
@dataclass
class DiscoverSummary:
    year: int
    movies: int
    requests: int
    windows: int
    reused_windows: int
    repaged_windows: int
    path: Path


def load_discover_snapshot(lake: Lake, year: int) -> DiscoverSnapshot | None:
    """The previous harvest of ``year``, or None when there is none (or it is unreadable)."""
    state_path, data_path = lake.discover_windows_file(year), lake.discover_file(year)
    if not (state_path.exists() and data_path.exists()):
        return None
    try:  # a reuse hint: a corrupt one costs a full discover pass, which rewrites both files; nothing is lost
        table = read_state_parquet(data_path, f"the discover snapshot of {year}", fix=rediscover_fix(year),
                                   required={"movie_id": pa.int64(), "discover_window": pa.string()})
        state = read_state_json(state_path, f"the discover windows of {year}", shape=WINDOWS_SHAPE,
                                fix="a discover run rewrites it")
    except (OSError, StateFileError) as exc:
        log.warning("previous discover snapshot of %s is unreadable (%s); harvesting from scratch", year, exc)
        return None
    items = [{**row, "id": row["movie_id"], "_window": row["discover_window"]} for row in table.to_pylist()]
    return DiscoverSnapshot.from_state(state, items)


async def run_discover(
    client: TMDbClient,
    lake: Lake,
    year: int,
    *,
    include_adult: bool = False,
    include_video: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DiscoverSummary:
    """Harvest the discover list of ``year`` into ``raw/discover/year=Y/``."""
    lake.ensure_writable()
    reference = await read_reference(client)
    previous = load_discover_snapshot(lake, year)
    if previous is not None and not await _membership_unchanged(client, lake, year, previous, include_adult,
                                                                include_video):
        previous = None  # an equal total proves nothing (one deletion plus one addition): page it all again
    harvester = DiscoverHarvester(
        client,
        include_adult=include_adult,
        include_video=include_video,
        previous=previous,
        progress=progress,
    )
    snapshot = await harvester.harvest_year(year)
    rows = []
    for movie_id in sorted(snapshot.items):
        item = snapshot.items[movie_id]
        rows.append({**discover_row(item), "discover_window": item["_window"]})
    schema = DISCOVER_SCHEMA.append(pa.field("discover_window", pa.string()))
    write_parquet_atomic(pa.Table.from_pylist(rows, schema=schema), lake.discover_file(year))
    write_json_atomic(snapshot.windows_state(), lake.discover_windows_file(year))
    write_json_atomic(reference, lake.discover_reference_file(year))
    write_json_atomic(reference, lake.reference_file)
    return DiscoverSummary(
        year=year,
        movies=len(rows),
        requests=snapshot.requests + 2,
        windows=len(snapshot.totals),
        reused_windows=snapshot.reused_windows,
        repaged_windows=snapshot.repaged_windows,
        path=lake.discover_file(year),
    )


async def _membership_unchanged(
    client: TMDbClient, lake: Lake, year: int, previous: DiscoverSnapshot, include_adult: bool, include_video: bool
) -> bool:
    """Whether the movies of ``year`` are known to be exactly those of the previous discover run: only after
    a catalog sync of today (TMDb's date), whose store holds the current release date of every movie the
    export lists. Without one, nothing vouches for the membership and the year is paged again."""
    if not lake.sync_cursor_file.exists():
        return False
    today = (await client.server_time()).astimezone(dt.UTC).date()
    cursor = SyncCursor.read(lake, today)
    if cursor is None or cursor.changes_through != today or not lake.export_snapshot_file(cursor.export_day).exists():
        return False
    view = StoreView.load(lake, CatalogPolicy(include_adult, include_video))
    members = view.members
    in_year = members.filter(pc.fill_null(pc.equal(members.column("release_year"), year), False))
    members = set(in_year.column("movie_id").to_pylist()) & listed_ids(lake, cursor.export_day, include_adult,
                                                                       include_video)
    return members == set(previous.items)


# -- details ----------------------------------------------------------------------------------------
@dataclass
class DetailsSummary:
    year: int
    movies: int
    requested: int
    ok: int
    not_found: int
    failed: int
    discarded_shards: list[str] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)  # discovered ids that answered 404 (`vanished_since_discover`)


async def run_details(
    client: TMDbClient,
    lake: Lake,
    year: int,
    *,
    batch_size: int = 500,
    concurrency: int = 20,
    refetch_all: bool = False,
    refetch: set[int] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    logger: logging.Logger | None = None,
    policy: CatalogPolicy | None = None,
    refetch_missing: tuple[str, ...] = (),
) -> DetailsSummary:
    """Fetch the details of ``year``'s discovered movies that the details store lacks, plus ``refetch``
    (changed movies, whatever year TMDb now gives them), every discovered movie whose stored version dates
    it in another year or says it is gone (discover lists it here now), and those whose stored payload lacks
    an append of ``refetch_missing`` (`movie_assets.harvest.refetch`); raise if any movie still failed (what
    succeeded is stored, and a failure never replaces a good version)."""
    store = DetailsStore(lake.details_store_dir, logger=logger)
    policy = resolve_policy(lake, policy)
    ids = discover_ids(lake, year)
    stale, gone = _stale_or_gone(store, ids, year)
    again = set(ids) if refetch_all else (refetch or set()) | stale | gone
    appends = refetchable(lake, refetch_missing)  # refused before any work when the lake keeps no such append
    if refetch_missing:  # payloads stored before the call asked for these appends
        lacking = movies_missing(store, refetch_missing, pa.array(ids, pa.int64())).to_pylist()
        (logger or log).info("%s movies of %s lack %s: fetching them again", len(lacking), year,
                             ",".join(refetch_missing))
        again |= set(lacking)
    # Each flushed batch takes the store's lock for its append only, so other years' runs write meanwhile.
    result = await enrich(client, set(ids) | again, store, batch_size=batch_size, concurrency=concurrency,
                          refetch=again, progress=progress, appends=appends)
    vanished = [] if result.failed else [i for i in vanished_since_discover(lake, year, result) if i not in gone]
    if vanished:  # discover counted movies that are gone: a live one may have shifted onto a page already read
        (logger or log).info("%s discovered movies of %s answer 404 (e.g. %s): reading the year's discover again",
                             len(vanished), year, vanished[:5])
        await run_discover(client, lake, year, include_adult=policy.include_adult,
                           include_video=policy.include_video)
        ids = discover_ids(lake, year)
        more = await enrich(client, ids, store, batch_size=batch_size, concurrency=concurrency, progress=progress,
                            appends=appends)
        result = _combined(result, more)
    store.compact_unless_busy()  # a sync holding the store must not fail a run whose versions are all stored
    summary = DetailsSummary(
        year=year,
        movies=len(ids),
        requested=result.requested,
        ok=result.count(OK),
        not_found=result.count(NOT_FOUND),
        failed=len(result.failed),
        discarded_shards=result.discarded_shards,
        vanished=vanished,
    )
    if result.failed:
        sample = ", ".join(str(i) for i in result.failed[:10])
        reason = result.errors[result.failed[0]]
        raise IngestError(
            f"{len(result.failed)} of {len(ids)} movies of {year} still failed after retries "
            f"(e.g. {sample}; first error: {reason}). What succeeded is stored; "
            "re-materialize to fetch only the failed ones."
        )
    return summary


def _stale_or_gone(store: DetailsStore, ids: list[int], year: int) -> tuple[set[int], set[int]]:
    """Of the discovered ids, those whose latest good version dates them in another year (discover says they
    moved here: that version is stale) and those stored as gone (a 404 or a deletion: discover lists them
    again, so TMDb may have restored them). Both are fetched again."""
    latest = store.latest(ids=ids)
    good = pc.equal(latest.column("status"), OK)
    elsewhere = pc.and_(good, pc.invert(pc.fill_null(pc.equal(latest.column("release_year"), year), False)))
    stale = set(latest.filter(elsewhere).column("movie_id").to_pylist())
    return stale, set(latest.filter(pc.invert(good)).column("movie_id").to_pylist())


def vanished_since_discover(lake: Lake, year: int, result: EnrichResult) -> list[int]:
    """Discovered ids of ``year`` that TMDb answered 404 for in this details run: discover counted them towards
    its ``total_results``, so a live movie may have shifted onto a page already read; the year's discover
    must be read again (sets, not counts, decide that a year is complete)."""
    listed = set(discover_ids(lake, year))
    return sorted(i for i in result.fetched if result.statuses.get(i) == NOT_FOUND and i in listed)


def _combined(first: EnrichResult, second: EnrichResult) -> EnrichResult:
    return EnrichResult(statuses={**first.statuses, **second.statuses}, requested=first.requested + second.requested,
                        errors=second.errors, discarded_shards=first.discarded_shards + second.discarded_shards,
                        fetched=first.fetched | second.fetched)


# -- one year, end to end ---------------------------------------------------------------------------------
@dataclass
class YearHarvest:
    """What `harvest_year` did: the discover and details summaries and the typed table it wrote."""

    discover: DiscoverSummary
    details: DetailsSummary
    table: pa.Table


async def harvest_year(
    client: TMDbClient,
    lake: Lake,
    year: int,
    *,
    batch_size: int = 500,
    concurrency: int = 20,
    refetch: set[int] | None = None,
) -> YearHarvest:
    """What ``ingest_job`` runs for one year, in one call: discover → details → typed year (and the other
    years its movies leave or join), under the lake's adult/video policy."""
    policy = resolve_policy(lake)
    discover = await run_discover(client, lake, year, include_adult=policy.include_adult,
                                  include_video=policy.include_video)
    details = await run_details(client, lake, year, batch_size=batch_size, concurrency=concurrency, refetch=refetch,
                                policy=policy)
    table, _ = build_year_and_moves(lake, year, policy)
    return YearHarvest(discover, details, table)
