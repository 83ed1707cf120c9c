"""The ingest stages as plain functions over a `Lake`: discover → details → typed year.

Each function reads what the previous stage wrote, does its work through the TMDb client, writes its
outputs atomically and returns a small summary. The Dagster assets in `movie_assets.defs.ingest` are
thin wrappers around these.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.harvest.columnar import movies_from_typed, typed_fields
from movie_assets.harvest.discover import DiscoverHarvester, DiscoverSnapshot
from movie_assets.harvest.enrich import BatchProgress, EnrichResult, enrich
from movie_assets.harvest.records import MOVIES_ORDER, discover_row
from movie_assets.harvest.store import NOT_FOUND, OK, DetailsStore
from movie_assets.harvest.tombstones import tombstoned_ids
from movie_assets.lake import Lake, remove_dir_atomic, write_json_atomic, write_parquet_atomic
from movie_assets.lake.locks import partitions_lock
from movie_assets.lake.schema import DISCOVER_SCHEMA, MOVIES_SCHEMA
from movie_assets.lake.state import MapOf, StateFileError, is_corrupt_parquet_error, read_state_json, read_state_parquet
from movie_assets.tmdb.client import TMDbClient

log = logging.getLogger(__name__)

class IngestError(RuntimeError):
    """A stage cannot run or finish; the message says what to fix."""


def read_parquet(path: Path, **kwargs: Any) -> pa.Table:
    """Read one lake file; one whose content is corrupt is an `IngestError` that says how to rebuild it (an
    error of the machine — too many open files, a failing disk — propagates as it is: deleting would not help)."""
    try:
        return pq.read_table(path, **kwargs)
    except (OSError, pa.ArrowException) as exc:
        if not is_corrupt_parquet_error(exc):
            raise
        raise IngestError(
            f"{path} is unreadable ({exc}); delete it and re-materialize the asset that writes it"
        ) from None


WINDOWS_SHAPE = {"totals": MapOf(int), "children": MapOf([str])}
REFERENCE_SHAPE = {"image_base_url": (str, None), "genres": MapOf(str)}


def _rediscover(year: int) -> str:
    return f"delete it and re-materialize the partition {year} of discover_movies (which writes it again)"


def read_discover(lake: Lake, year: int, columns: list[str] | None = None) -> pa.Table:
    """The discover snapshot of ``year`` (``columns`` of it); `StateFileError` when it is corrupt."""
    return read_state_parquet(lake.discover_file(year), f"the discover snapshot of {year}", columns=columns,
                              required={"movie_id": pa.int64()}, fix=_rediscover(year))


def _reference(data: dict[str, Any]) -> dict[str, Any]:
    for key in data["genres"]:
        int(key)  # genre ids
    return data


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
        table = read_state_parquet(data_path, f"the discover snapshot of {year}", fix=_rediscover(year),
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
    configuration = await client.configuration()
    genres = await client.movie_genres()
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
    reference = {
        "image_base_url": configuration.get("images", {}).get("secure_base_url"),
        "genres": {str(k): v for k, v in sorted(genres.items())},
    }
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
    from movie_assets.harvest.sync import SyncCursor, listed_ids  # the sync builds on these stages

    if not lake.sync_cursor_file.exists():
        return False
    today = (await client.server_time()).astimezone(dt.UTC).date()
    cursor = SyncCursor.read(lake, today)
    if cursor is None or cursor.changes_through != today or not lake.export_snapshot_file(cursor.export_day).exists():
        return False
    view = StoreView.load(lake)
    latest = view.latest
    in_year = latest.filter(pc.and_(pc.equal(latest.column("status"), OK),
                                    pc.fill_null(pc.equal(latest.column("release_year"), year), False)))
    members = set(in_year.column("movie_id").to_pylist()) - set(view.gone.to_pylist())
    members &= listed_ids(lake, cursor.export_day, include_adult, include_video)
    return members == set(previous.items)


def discover_ids(lake: Lake, year: int) -> list[int]:
    path = lake.discover_file(year)
    if not path.exists():
        raise IngestError(f"no discover output for {year} at {path}; materialize discover_movies for {year} first")
    return read_discover(lake, year, ["movie_id"]).column("movie_id").to_pylist()


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
) -> DetailsSummary:
    """Fetch the details of ``year``'s discovered movies that the details store lacks (plus ``refetch``);
    raise if any movie still failed (what succeeded is stored, and a failure never replaces a good version)."""
    ids = discover_ids(lake, year)
    store = DetailsStore(lake.details_store_dir, logger=logger)
    # Each flushed batch takes the store's lock for its append only, so other years' runs write meanwhile.
    result: EnrichResult = await enrich(
        client,
        ids,
        store,
        batch_size=batch_size,
        concurrency=concurrency,
        refetch=set(ids) if refetch_all else (refetch or set()),
        progress=progress,
    )
    store.compact_unless_busy()  # a sync holding the store must not fail a run whose versions are all stored
    summary = DetailsSummary(
        year=year,
        movies=len(ids),
        requested=result.requested,
        ok=result.count(OK),
        not_found=result.count(NOT_FOUND),
        failed=len(result.failed),
        discarded_shards=result.discarded_shards,
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


# -- typed year ---------------------------------------------------------------------------------------
async def fetch_reference(client: TMDbClient, lake: Lake) -> dict[str, Any]:
    """Read TMDb's image base URL and genre names (two requests) into the lake-wide reference file."""
    configuration = await client.configuration()
    genres = await client.movie_genres()
    reference = {
        "image_base_url": configuration.get("images", {}).get("secure_base_url"),
        "genres": {str(k): v for k, v in sorted(genres.items())},
    }
    write_json_atomic(reference, lake.reference_file)
    return reference


def load_reference(lake: Lake, year: int | None = None) -> dict[str, Any]:
    """The image base URL and genre names to build rows with: the year's own (from its discover run) when
    there is one, else the lake-wide one."""
    if year is not None and lake.discover_reference_file(year).exists():
        return read_state_json(lake.discover_reference_file(year), f"the reference data of {year}",
                               shape=REFERENCE_SHAPE, parse=_reference, fix=_rediscover(year))
    if lake.reference_file.exists():
        return read_state_json(lake.reference_file, "the reference data", shape=REFERENCE_SHAPE, parse=_reference,
                               fix="delete it and run movie-assets sync (or materialize any discover_movies "
                                   "partition), which writes it again")
    raise IngestError(f"no reference data under {lake.root}; materialize discover_movies or run movie-assets sync")


@dataclass
class StoreView:
    """The details store's latest observations and tombstones, read once for several partition builds."""

    store: DetailsStore
    latest: pa.Table
    gone: pa.Array  # tombstoned ids

    @classmethod
    def load(cls, lake: Lake) -> StoreView:
        store = DetailsStore(lake.details_store_dir)
        latest = store.latest()
        return cls(store, latest, pa.array(sorted(tombstoned_ids(lake, store, latest)), pa.int64()))


def build_movies_year(
    lake: Lake,
    year: int,
    *,
    require_discover: bool = True,
    view: StoreView | None = None,
    poster_size: str = "w500",
    backdrop_size: str = "w780",
) -> pa.Table:
    """Build ``year=Y/`` from the details store and replace it atomically.

    The year holds the latest good version of every movie whose current release date is in ``year``,
    wherever it was discovered: a movie whose date moved leaves its old year and joins its new one (both
    years' builds see it), and a movie TMDb answers 404 for is not a row at all. Every movie discovered in
    ``year`` must have been fetched first (``require_discover=False``: a year the catalog sync rebuilds,
    discovered or not).
    """
    discover_path = lake.discover_file(year)
    if require_discover and not discover_path.exists():
        raise IngestError(f"no discover output for {year}; materialize discover_movies for {year} first")
    with partitions_lock(lake):  # the store is read under the lock, so the last writer wrote the newest view
        return _build_year(lake, year, discover_path, view or StoreView.load(lake), poster_size, backdrop_size)


def _build_year(
    lake: Lake, year: int, discover_path: Path, view: StoreView, poster_size: str, backdrop_size: str
) -> pa.Table:
    fetched = set(view.latest.column("movie_id").to_pylist()) if discover_path.exists() else set()
    missing = [i for i in discover_ids(lake, year) if i not in fetched] if discover_path.exists() else []
    if missing:
        raise IngestError(
            f"{len(missing)} movies of {year} have no details yet (e.g. {missing[:5]}); "
            f"materialize movie_details for {year} first"
        )
    in_year = pc.equal(view.latest.column("release_year"), year)
    return _build_partition(lake, year, view, in_year, poster_size, backdrop_size)


def build_movies_undated(
    lake: Lake, *, view: StoreView | None = None, poster_size: str = "w500", backdrop_size: str = "w780"
) -> pa.Table:
    """Build the undated partition (``year=__HIVE_DEFAULT_PARTITION__/``, read as a NULL year) from the latest
    good version of every stored movie that has no release date, and replace it atomically."""
    with partitions_lock(lake):
        view = view or StoreView.load(lake)
        undated = pc.is_null(view.latest.column("release_year"))
        return _build_partition(lake, None, view, undated, poster_size, backdrop_size)


def _build_partition(
    lake: Lake,
    year: int | None,
    view: StoreView,
    member: pa.ChunkedArray,
    poster_size: str,
    backdrop_size: str,
) -> pa.Table:
    reference = load_reference(lake, year)
    latest = view.latest
    selected = latest.filter(pc.and_(pc.equal(latest.column("status"), OK), pc.fill_null(member, False)))
    selected = selected.filter(pc.invert(pc.is_in(selected.column("movie_id"), value_set=view.gone)))
    def typed(versions: pa.Table) -> pa.Table:
        unreadable = versions.filter(pc.is_null(versions.column("typed")))
        if unreadable.num_rows:  # a payload movie_row cannot read: its own error, as the row-by-row build gave
            records = view.store.records(selected.filter(pc.is_in(selected.column("movie_id"),
                                                                   value_set=unreadable.column("movie_id"))))
            typed_fields(pa.array([r.payload for r in records.values()], pa.string()))
        return movies_from_typed(versions, image_base_url=reference["image_base_url"], poster_size=poster_size,
                                 backdrop_size=backdrop_size)

    parts = view.store.latest_versions(selected, "typed", typed)  # one shard in memory at a time
    found = sum(part.num_rows for part in parts)
    if found < selected.num_rows:
        raise IngestError(
            f"{selected.num_rows - found} movies lost their details to a corrupt store shard; "
            "materialize movie_details again to fetch them"
        )
    table = pa.concat_tables([MOVIES_SCHEMA.empty_table(), *parts]).sort_by(MOVIES_ORDER)
    if year is None and not table.num_rows:
        remove_dir_atomic(lake.movies_year_dir(None))  # no undated movies: no empty partition either
    else:
        write_year_partition(lake, year, table)
    return table


def write_year_partition(lake: Lake, year: int | None, table: pa.Table) -> Path:
    """Write ``year=Y/part-0.parquet`` (None: the undated partition; the partition column is dropped, as
    Hive layout implies). One rename replaces the file, so a reader globbing the dataset meanwhile finds
    the year's old file or its new one, never neither."""
    target = lake.movies_year_file(year)
    return write_parquet_atomic(table.drop_columns(["year"]), target)


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
    """What ``ingest_job`` runs for one year, in one call: discover → details → typed year."""
    discover = await run_discover(client, lake, year)
    details = await run_details(client, lake, year, batch_size=batch_size, concurrency=concurrency, refetch=refetch)
    return YearHarvest(discover, details, build_movies_year(lake, year))
