"""Every movie released in a year, from discover pages, never passing TMDb's 10,000-result cap.

A `Window` is a date range, optionally narrowed by a ``vote_count`` range. For each window page 1 is read
first; above the cap the window is bisected *before* any further paging — by date down to one day, then
by vote_count. Pages are sorted by ``primary_release_date.asc``. After paging, the set of unique ids must
reach ``total_results``; a shortfall (pages shifting underneath) is re-read, and if it persists the
harvest fails instead of returning a short window.

Re-harvesting with a previous snapshot (which the caller passes only when the year's membership is known
to be unchanged) reuses every window whose ``total_results`` is unchanged, so such a year costs one request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from movie_assets.tmdb.client import MAX_PAGE, TMDbClient
from movie_assets.tmdb.errors import TMDbError

PAGE_SIZE = 20
RESULT_CAP = MAX_PAGE * PAGE_SIZE
VOTE_COUNT_MAX = 10**9


class DiscoverShortfall(TMDbError):
    """A window's unique ids stayed below ``total_results`` after every re-read."""


class WindowTooDense(TMDbError):
    """One day and one vote_count value still hold more than 10,000 movies: cannot page without truncating."""


@dataclass(frozen=True, order=True)
class Window:
    """A discover query: primary release dates ``gte..lte`` and an optional ``vote_count`` range."""

    gte: dt.date
    lte: dt.date
    votes: tuple[int, int] | None = None

    @classmethod
    def for_year(cls, year: int) -> Window:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @property
    def key(self) -> str:
        base = f"{self.gte.isoformat()}..{self.lte.isoformat()}"
        return base if self.votes is None else f"{base}|votes={self.votes[0]}..{self.votes[1]}"

    @classmethod
    def from_key(cls, key: str) -> Window:
        dates, _, votes = key.partition("|votes=")
        gte, lte = (dt.date.fromisoformat(d) for d in dates.split(".."))
        vote_range = tuple(int(v) for v in votes.split("..")) if votes else None
        return cls(gte, lte, vote_range)  # type: ignore[arg-type]

    def holds(self, item: dict[str, Any]) -> bool:
        """Whether a discover result item falls inside this window."""
        released = item.get("release_date") or ""
        if not self.gte.isoformat() <= released <= self.lte.isoformat():
            return False
        return self.votes is None or self.votes[0] <= (item.get("vote_count") or 0) <= self.votes[1]

    def params(self) -> dict[str, Any]:
        if self.votes is None:
            return {}
        return {"vote_count.gte": self.votes[0], "vote_count.lte": self.votes[1]}

    def split(self) -> tuple[Window, Window] | None:
        """Bisect by date while the window spans days, then by vote_count; None when indivisible."""
        if self.gte < self.lte:
            mid = self.gte + (self.lte - self.gte) // 2
            return Window(self.gte, mid), Window(mid + dt.timedelta(days=1), self.lte)
        lo, hi = self.votes or (0, VOTE_COUNT_MAX)
        if lo >= hi:
            return None
        mid = (lo + hi) // 2
        return Window(self.gte, self.lte, (lo, mid)), Window(self.gte, self.lte, (mid + 1, hi))


@dataclass
class DiscoverSnapshot:
    """The outcome of one year's discover harvest.

    ``items`` maps movie id → its discover result item (plus the key of the leaf window that found it);
    ``totals`` maps every window visited → its ``total_results``; ``children`` maps split windows to
    their halves. The last two let a later harvest skip unchanged windows.
    """

    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    requests: int = 0
    reused_windows: int = 0
    repaged_windows: int = 0

    def leaf_keys_under(self, key: str) -> set[str]:
        stack, leaves = [key], set()
        while stack:
            k = stack.pop()
            kids = self.children.get(k)
            if kids:
                stack.extend(kids)
            else:
                leaves.add(k)
        return leaves

    def windows_state(self) -> dict[str, Any]:
        return {"totals": dict(sorted(self.totals.items())), "children": dict(sorted(self.children.items()))}

    @classmethod
    def from_state(cls, state: dict[str, Any], items: Iterable[dict[str, Any]]) -> DiscoverSnapshot:
        return cls(
            items={int(i["id"]): dict(i) for i in items},
            totals={k: int(v) for k, v in state.get("totals", {}).items()},
            children={k: list(v) for k, v in state.get("children", {}).items()},
        )


ProgressFn = Callable[[str], None]


class DiscoverHarvester:
    """Harvest one year's discover results with `client`, reusing `previous` where totals are unchanged."""

    def __init__(
        self,
        client: TMDbClient,
        *,
        include_adult: bool = False,
        include_video: bool = False,
        max_passes: int = 10,
        previous: DiscoverSnapshot | None = None,
        progress: ProgressFn | None = None,
    ):
        self.client = client
        self.include_adult = include_adult
        self.include_video = include_video
        self.max_passes = max_passes
        self.previous = previous
        self.progress = progress or (lambda message: None)
        self.snapshot = DiscoverSnapshot()

    async def harvest_year(self, year: int) -> DiscoverSnapshot:
        await self._harvest(Window.for_year(year))
        return self.snapshot

    async def harvest_dates(self, gte: dt.date, lte: dt.date) -> DiscoverSnapshot:
        """Every movie released in ``gte..lte``, with the same windowing (e.g. the newest releases)."""
        await self._harvest(Window(gte, lte))
        return self.snapshot

    async def _page(self, window: Window, page: int) -> dict[str, Any]:
        self.snapshot.requests += 1
        return await self.client.discover_movies(
            gte=window.gte,
            lte=window.lte,
            page=page,
            include_adult=self.include_adult,
            include_video=self.include_video,
            extra=window.params(),
        )

    async def _harvest(self, window: Window) -> None:
        first = await self._page(window, 1)
        total = int(first["total_results"])
        self.snapshot.totals[window.key] = total
        if self._reuse(window, total):
            return
        if total > RESULT_CAP:
            halves = window.split()
            if halves is None:
                raise WindowTooDense(
                    f"discover window {window.key} still has {total} results (> {RESULT_CAP}) after splitting "
                    "on date and vote_count; refusing to truncate it"
                )
            self.snapshot.children[window.key] = [h.key for h in halves]
            await asyncio.gather(*(self._harvest(h) for h in halves))
            return
        await self._page_window(window, first, total)

    def _reuse(self, window: Window, total: int) -> bool:
        prev = self.previous
        if prev is None or prev.totals.get(window.key) != total:
            return False
        leaves = prev.leaf_keys_under(window.key)
        reused = {i: item for i, item in prev.items.items() if item.get("_window") in leaves}
        if len(reused) < min(total, RESULT_CAP) and not prev.children.get(window.key):
            return False  # the old snapshot of this window is itself incomplete
        for leaf in leaves:
            self.snapshot.totals.setdefault(leaf, prev.totals.get(leaf, 0))
        for key in prev.totals:
            if key in prev.children and prev.leaf_keys_under(key) <= leaves:
                self.snapshot.children[key] = prev.children[key]
                self.snapshot.totals.setdefault(key, prev.totals[key])
        self.snapshot.items.update(reused)
        self.snapshot.reused_windows += 1
        return True

    async def _page_window(self, window: Window, first: dict[str, Any], total: int) -> None:
        found, total = await self._collect(window, first, total)
        self.snapshot.totals[window.key] = total
        self.snapshot.items.update((i, {**item, "_window": window.key}) for i, item in found.items())
        self.snapshot.repaged_windows += 1
        self.progress(f"window {window.key}: {len(found)} movies")

    async def _collect(
        self, window: Window, first: dict[str, Any], total: int, known: dict[int, dict[str, Any]] | None = None
    ) -> tuple[dict[int, dict[str, Any]], int]:
        """Page a window that fits under the cap; repair a shortfall; return (items by id, total).

        ``known`` holds movies of this window already seen elsewhere: when they and page 1 account for
        ``total_results``, the window needs no further pages.
        """
        pages = min(math.ceil(total / PAGE_SIZE), MAX_PAGE)
        results = {1: first.get("results", [])}
        found = {**(known or {}), **{int(item["id"]): item for item in results[1]}}
        if pages > 1 and len(found) < total and not (known and window.gte == window.lte):
            later = await asyncio.gather(*(self._page(window, p) for p in range(2, pages + 1)))
            results.update((p, r.get("results", [])) for p, r in zip(range(2, pages + 1), later, strict=True))
            found.update((int(item["id"]), item) for items in results.values() for item in items)
        for _ in range(self.max_passes):
            if len(found) >= total:
                return found, total
            self.progress(f"window {window.key}: {len(found)} unique ids < total_results {total}; repairing")
            repaired = await self._repair(window, results, found)
            if repaired is not None:
                found.update(repaired)
                continue
            # Nothing narrower to ask for (one day, one vote count): read the whole window again.
            fresh = await asyncio.gather(*(self._page(window, p) for p in range(1, pages + 1)))
            total = int(fresh[0]["total_results"])  # the API may change underneath
            results = {p: r.get("results", []) for p, r in enumerate(fresh, start=1)}
            found.update((int(item["id"]), item) for items in results.values() for item in items)
        if len(found) < total:
            raise DiscoverShortfall(
                f"discover window {window.key}: {len(found)} unique ids after {self.max_passes} passes, "
                f"total_results says {total}; refusing to continue with a short window"
            )
        return found, total

    async def _repair(
        self, window: Window, results: dict[int, list[dict[str, Any]]], found: dict[int, dict[str, Any]]
    ) -> dict[int, dict[str, Any]] | None:
        """Re-ask for the movies that can have slipped between pages, in queries small enough to be exact.

        The sort is by date and ties may reorder between page reads, so only dates shared by adjacent
        pages can lose movies. Those dates are re-queried as one-day windows; within one day, movies are
        cut into ``vote_count`` cells of at most a page each, which one request answers atomically.
        """
        if window.gte == window.lte:
            parts = _vote_cells(window, [item.get("vote_count") or 0 for item in found.values()])
            if len(parts) < 2:
                return None
        else:
            shared = sorted(_dates_shared_by_pages(results))
            parts = [Window(d, d, window.votes) for d in map(dt.date.fromisoformat, shared)]
            if not parts:
                return None

        async def exact(part: Window) -> dict[int, dict[str, Any]]:
            first = await self._page(part, 1)
            known = {i: item for i, item in found.items() if part.holds(item)}
            part_items, _ = await self._collect(part, first, int(first["total_results"]), known)
            return part_items

        repaired: dict[int, dict[str, Any]] = {}
        for part_items in await asyncio.gather(*(exact(part) for part in parts)):
            repaired.update(part_items)
        return repaired


def _dates_shared_by_pages(results: dict[int, list[dict[str, Any]]]) -> set[str]:
    """Release dates that appear at the end of one page and the start of the next."""
    pages = sorted(p for p, items in results.items() if items)
    return {
        results[p][-1].get("release_date")
        for p, q in zip(pages, pages[1:], strict=False)
        if q == p + 1 and results[p][-1].get("release_date") == results[q][0].get("release_date")
    }


def _vote_cells(window: Window, vote_counts: list[int], per_cell: int = PAGE_SIZE * 3 // 4) -> list[Window]:
    """Cut a one-day window into vote_count ranges holding at most ``per_cell`` of the known movies."""
    lo, hi = window.votes or (0, VOTE_COUNT_MAX)
    counts = Counter(v for v in vote_counts if lo <= v <= hi)
    cells: list[Window] = []
    start, in_cell = lo, 0
    for value in sorted(counts):
        if in_cell and in_cell + counts[value] > per_cell:
            cells.append(Window(window.gte, window.lte, (start, value - 1)))
            start, in_cell = value, 0
        in_cell += counts[value]
    cells.append(Window(window.gte, window.lte, (start, hi)))
    return cells
