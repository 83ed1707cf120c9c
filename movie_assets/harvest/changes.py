"""Incremental refresh, plain Python (no Dagster): which harvested movies changed on TMDb, and in which year.

TMDb's ``/movie/changes`` lists the ids of movies edited in a date range of at most 14 days, 100 per page.
`changed_ids_since` reads every page of every window between two dates; `affected_years` maps those ids
onto the years already harvested into the lake (ids found in no harvested year are ignored: new movies
arrive through discover; a corrupt discover snapshot is a `StateFileError`, never a year left out).
`movie_assets.defs.ingest.sensors.changes_sensor` wraps these for Dagster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import Lake
from movie_assets.lake.readers import read_discover, read_parquet
from movie_assets.tmdb.client import MAX_PAGE, TMDbClient
from movie_assets.tmdb.paging import DateRange, Paginator, paginate

# TMDb: "You can query up to 14 days in a single query". A window [start, end] spans end-start+1 dates.
MAX_WINDOW_DAYS = 14


def change_windows(start: dt.date, end: dt.date, days: int = MAX_WINDOW_DAYS) -> list[tuple[dt.date, dt.date]]:
    """Consecutive inclusive windows of at most ``days`` dates covering ``[start, end]`` (empty if start > end)."""
    if days < 1:
        raise ValueError("days must be >= 1")
    windows = []
    cursor = start
    while cursor <= end:
        last = min(end, cursor + dt.timedelta(days=days - 1))
        windows.append((cursor, last))
        cursor = last + dt.timedelta(days=1)
    return windows


@dataclass
class ChangeSet:
    """The ids changed in ``[start, end]`` and what reading them cost."""

    start: dt.date
    end: dt.date
    ids: list[int] = field(default_factory=list)
    windows: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    requests: int = 0


class ChangesTooDense(RuntimeError):
    """One day lists more changed ids than TMDb pages out (500 pages × 100); reading it would truncate."""


class _ChangedIds(Paginator[DateRange]):
    """The `Paginator` of ``/movie/changes``: pages read in order, ids kept in the order first seen."""

    def __init__(self, client: TMDbClient):
        self.client = client
        self.ids: dict[int, None] = {}
        self.requests = 0

    async def first_page(self, query: DateRange) -> dict[str, Any]:
        return await self._page(query, 1)

    async def _page(self, query: DateRange, page: int) -> dict[str, Any]:
        self.requests += 1
        return await self.client.movie_changes(query.gte, query.lte, page)

    def page_count(self, query: DateRange, first: dict[str, Any]) -> int:
        return int(first.get("total_pages") or 1)

    def too_dense(self, query: DateRange, first: dict[str, Any]) -> Exception:
        return ChangesTooDense(
            f"/movie/changes lists {self.page_count(query, first)} pages for {query.gte} alone, more than TMDb "
            f"pages out ({MAX_PAGE}); the day cannot be read completely"
        )

    async def read_rest(self, query: DateRange, first: dict[str, Any], reads: int) -> bool:
        self._take(first)
        for page in range(2, self.page_count(query, first) + 1):
            self._take(await self._page(query, page))
        return True

    def _take(self, body: dict[str, Any]) -> None:
        for item in body.get("results") or []:
            if isinstance(item, dict) and item.get("id") is not None:
                self.ids.setdefault(int(item["id"]), None)


async def changed_ids_in_window(client: TMDbClient, start: dt.date, end: dt.date) -> tuple[list[int], int]:
    """Every id on every page of ``/movie/changes`` for one window (≤ 14 days); returns (ids, requests).

    TMDb pages out at most 500 pages: a window with more is split in two by date (down to one day) and
    each half read in full (`movie_assets.tmdb.paging`), so the list is never cut short; a single day past
    the cap raises `ChangesTooDense`.
    """
    changed = _ChangedIds(client)
    await paginate(changed, DateRange(start, end))
    return list(changed.ids), changed.requests


async def changed_ids_since(
    client: TMDbClient, start: dt.date, end: dt.date, *, window_days: int = MAX_WINDOW_DAYS
) -> ChangeSet:
    """Ids changed on TMDb between ``start`` and ``end`` (inclusive), paging ≤14-day windows; sorted, unique."""
    result = ChangeSet(start=start, end=end, windows=change_windows(start, end, window_days))
    seen: set[int] = set()
    for window_start, window_end in result.windows:
        ids, requests = await changed_ids_in_window(client, window_start, window_end)
        result.requests += requests
        seen.update(ids)
    result.ids = sorted(seen)
    return result


async def server_today(client: TMDbClient) -> dt.date:
    """"Today" as the API sees it (one request): the date of the server's ``Date`` header (the emulator's
    frozen clock), or UTC today when the header is missing."""
    return (await client.server_time()).astimezone(dt.UTC).date()


# -- the lake side ---------------------------------------------------------------------------------------
def affected_years(lake: Lake, ids: Iterable[int]) -> dict[int, list[int]]:
    """``{year: sorted changed ids}`` for the harvested years whose discover list holds any of ``ids``."""
    wanted = pa.array(sorted(set(int(i) for i in ids)), pa.int64())
    if len(wanted) == 0:
        return {}
    result: dict[int, list[int]] = {}
    for year in lake.discover_years():
        column = read_discover(lake, year, ["movie_id"]).column("movie_id")
        hits = pc.filter(column, pc.is_in(column, value_set=wanted))
        if len(hits):
            result[year] = sorted(set(hits.to_pylist()))
    return result


def latest_harvest_date(lake: Lake) -> dt.date | None:
    """The newest ``harvested_at`` in the typed lake (the server date of the last details call), or None."""
    latest: dt.datetime | None = None
    for _, path in lake.movies_year_files():
        value = pc.max(read_parquet(path, columns=["harvested_at"]).column("harvested_at")).as_py()
        if value is not None and (latest is None or value > latest):
            latest = value
    return latest.astimezone(dt.UTC).date() if latest is not None else None


# -- the cursor ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefreshCursor:
    """What the changes sensor has processed: every change up to and including ``last_processed_date``
    as far as it was known when read (that day is read again next time, since it may have been partial)."""

    last_processed_date: dt.date

    def to_json(self) -> str:
        return json.dumps({"last_processed_date": self.last_processed_date.isoformat()})

    @classmethod
    def from_json(cls, raw: str | None) -> RefreshCursor | None:
        if not raw:
            return None
        try:
            return cls(dt.date.fromisoformat(json.loads(raw)["last_processed_date"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"changes sensor cursor {raw!r} is not valid ({exc}); reset the cursor") from None


def refresh_range(
    cursor: RefreshCursor | None,
    today: dt.date,
    lake: Lake,
    *,
    max_windows: int,
    window_days: int = MAX_WINDOW_DAYS,
) -> tuple[dt.date, dt.date]:
    """The dates to read this time: from the cursor's day (or, on a first run, the newest harvest date, or
    yesterday when nothing is harvested) to ``today``, capped at ``max_windows`` windows."""
    if cursor is not None:
        start = cursor.last_processed_date
    else:
        start = latest_harvest_date(lake) or today - dt.timedelta(days=1)
    start = min(start, today)
    end = min(today, start + dt.timedelta(days=max_windows * window_days - 1))
    return start, end


def refetch_run_key(year: int, start: dt.date, end: dt.date, ids: list[int]) -> str:
    """Idempotent per (year, window, ids): the same changes never launch the same refetch twice."""
    digest = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:12]
    return f"changes-{year}-{start.isoformat()}-{end.isoformat()}-{digest}"
