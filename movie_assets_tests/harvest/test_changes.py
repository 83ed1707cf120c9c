"""The plain-Python refresh core: windows, paging, cursor, id → year mapping (no Dagster)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from movie_assets.emulator import Catalog, running_emulator
from movie_assets.harvest import changes as refresh
from movie_assets.harvest import stages
from movie_assets.lake import Lake, readers
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings

D = dt.date


class PagingClient:
    """Stands in for TMDbClient.movie_changes: 250 ids per window over 3 pages, windows recorded."""

    def __init__(self, per_window: int = 250, page_size: int = 100):
        self.calls: list[tuple[dt.date, dt.date, int]] = []
        self.per_window, self.page_size = per_window, page_size

    async def movie_changes(self, start: dt.date, end: dt.date, page: int = 1) -> dict:
        assert (end - start).days <= 14
        self.calls.append((start, end, page))
        base = start.toordinal() * 1000
        ids = list(range(base, base + self.per_window))
        chunk = ids[(page - 1) * self.page_size : page * self.page_size]
        pages = -(-len(ids) // self.page_size)
        return {"page": page, "total_pages": pages, "total_results": len(ids), "results": [{"id": i} for i in chunk]}


def test_change_windows_cover_the_range_in_at_most_14_dates():
    windows = refresh.change_windows(D(2026, 1, 1), D(2026, 2, 15))
    assert windows[0][0] == D(2026, 1, 1) and windows[-1][1] == D(2026, 2, 15)
    assert all((end - start).days + 1 <= 14 for start, end in windows)
    assert all(b[0] == a[1] + dt.timedelta(days=1) for a, b in zip(windows, windows[1:], strict=False))
    assert refresh.change_windows(D(2026, 1, 2), D(2026, 1, 1)) == []
    assert refresh.change_windows(D(2026, 1, 1), D(2026, 1, 1)) == [(D(2026, 1, 1), D(2026, 1, 1))]


async def test_changed_ids_since_reads_every_page_of_every_window():
    client = PagingClient()
    changes = await refresh.changed_ids_since(client, D(2026, 1, 1), D(2026, 1, 30))
    windows = sorted({(s, e) for s, e, _ in client.calls})
    assert windows == refresh.change_windows(D(2026, 1, 1), D(2026, 1, 30)) and len(windows) == 3
    assert all((e - s).days < 14 for s, e in windows)
    assert changes.requests == len(client.calls) == 3 * 3  # 250 ids → 3 pages per window
    assert len(changes.ids) == 3 * 250 and changes.ids == sorted(changes.ids)


def test_cursor_round_trip_and_bad_cursor():
    cursor = refresh.RefreshCursor(D(2026, 10, 20))
    assert refresh.RefreshCursor.from_json(cursor.to_json()) == cursor
    assert refresh.RefreshCursor.from_json(None) is None
    with pytest.raises(ValueError, match="reset the cursor"):
        refresh.RefreshCursor.from_json('{"day": 3}')


def test_refresh_range_first_run_cursor_and_cap(tmp_path):
    lake = Lake.at(tmp_path / "data")
    today = D(2026, 11, 1)
    # nothing harvested, no cursor: yesterday..today
    assert refresh.refresh_range(None, today, lake, max_windows=6) == (D(2026, 10, 31), today)
    # with a cursor: from its day (re-read, it may have been partial) to today
    assert refresh.refresh_range(refresh.RefreshCursor(D(2026, 10, 1)), today, lake, max_windows=6) == (
        D(2026, 10, 1), today)
    # a long gap is capped to max_windows × 14 days; the next tick continues from there
    start, end = refresh.refresh_range(refresh.RefreshCursor(D(2025, 1, 1)), today, lake, max_windows=2)
    assert (start, end) == (D(2025, 1, 1), D(2025, 1, 28))


def test_run_key_is_stable_per_year_window_and_ids():
    a = refresh.refetch_run_key(2020, D(2026, 1, 1), D(2026, 1, 5), [3, 1, 2])
    assert a == refresh.refetch_run_key(2020, D(2026, 1, 1), D(2026, 1, 5), [1, 2, 3])
    assert a != refresh.refetch_run_key(2021, D(2026, 1, 1), D(2026, 1, 5), [1, 2, 3])
    assert a != refresh.refetch_run_key(2020, D(2026, 1, 1), D(2026, 1, 6), [1, 2, 3])


def test_affected_years_and_latest_harvest_against_the_emulator(tmp_path):
    catalog = Catalog(seed=5, movies_per_year=300)
    lake = Lake.at(tmp_path / "data")
    years = (1990, 1991)
    start, end = D(2026, 8, 1), D(2026, 11, 1)

    async def harvest_and_read_changes():
        async with TMDbClient(TMDbSettings(base_url=emu.base_url, requests_per_second=2000)) as client:
            for year in years:
                await stages.harvest_year(client, lake, year)
            today = await refresh.server_today(client)
            changes = await refresh.changed_ids_since(client, start, end)
        return today, changes

    with running_emulator(catalog=catalog) as emu:
        today, changes = asyncio.run(harvest_and_read_changes())
    assert today == D(2026, 11, 1)  # the emulator's frozen clock, from the Date header
    assert changes.ids == sorted(catalog.changed_ids(start, end))
    assert refresh.latest_harvest_date(lake) == today
    by_year = refresh.affected_years(lake, changes.ids)
    assert set(by_year) <= set(years) and by_year
    for year, ids in by_year.items():
        harvested = set(readers.discover_ids(lake, year))
        assert ids == sorted(set(changes.ids) & harvested)
    # ids of movies in no harvested year are ignored (new movies come through discover)
    assert refresh.affected_years(lake, [1, 2, 3]) == {}
    assert refresh.affected_years(Lake.at(tmp_path / "empty"), changes.ids) == {}


def _dense_feed(per_day: dict[dt.date, int]):
    """A /movie/changes handler over a feed with ``per_day[d]`` changed ids on day ``d`` (100 a page; pages
    past 500 refused, as TMDb pages out no further)."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        start = dt.date.fromisoformat(request.query["start_date"])
        end = dt.date.fromisoformat(request.query["end_date"])
        page = int(request.query.get("page", 1))
        ids = [d.toordinal() * 100_000 + k for d, n in sorted(per_day.items()) if start <= d <= end for k in range(n)]
        if page > 500:
            return web.json_response({"errors": ["page must be less than or equal to 500"], "success": False},
                                     status=422)
        results = [{"id": i, "adult": False} for i in ids[(page - 1) * 100: page * 100]]
        return web.json_response({"results": results, "page": page, "total_pages": max(1, -(-len(ids) // 100)),
                                  "total_results": len(ids)})

    return handler


async def test_a_window_past_500_pages_is_split_never_truncated():
    from movie_assets_tests.helpers import serve_handler

    days = {D(2026, 10, 1) + dt.timedelta(days=n): 4_000 for n in range(14)}  # 56,000 ids: 560 pages
    async with serve_handler(_dense_feed(days)) as base:
        async with TMDbClient(TMDbSettings(base_url=base, requests_per_second=5000, max_attempts=1)) as client:
            changes = await refresh.changed_ids_since(client, D(2026, 10, 1), D(2026, 10, 14))
    assert len(changes.ids) == 56_000 == len(set(changes.ids))
    assert changes.requests == 1 + 560  # the 14-day probe (560 pages: too many), then every page of two halves


async def test_a_single_day_past_500_pages_fails_loudly():
    from movie_assets_tests.helpers import serve_handler

    async with serve_handler(_dense_feed({D(2026, 10, 3): 60_000})) as base:
        async with TMDbClient(TMDbSettings(base_url=base, requests_per_second=5000, max_attempts=1)) as client:
            with pytest.raises(refresh.ChangesTooDense, match="2026-10-03 alone"):
                await refresh.changed_ids_since(client, D(2026, 10, 1), D(2026, 10, 5))
