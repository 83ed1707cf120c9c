"""Every movie released in a year, from discover pages, never passing TMDb's 10,000-result cap.

A `Window` is a date range, optionally narrowed by a ``vote_count`` range. For each window page 1 is read
first; above the cap the window is split *before* any further paging — movies without votes apart from
movies with votes, then by date down to one day, then by vote_count. An `Ordering` says how a window is
paged: multi-day windows by ``primary_release_date.asc``, one-day windows by ``original_title.asc`` (TMDb's
documented title sort; ``vote_count.asc`` where a server refuses it). Movies tying on the sort key come in
popularity order, which may drift between requests, so a page boundary inside a tie group can skip movies:
within one day the date ties every movie and the vote count ties most (a dense day's unvoted films are one
group of thousands), while a title ties a handful at most. After paging, the set of unique ids must reach
``total_results``. A shortfall is repaired where it is: the pages tile the window, so every tie group's
size is known from its offsets, and only the boundaries that lost movies are re-read, each from a query
that puts it mid-page. What that cannot fix is re-read by days and vote cells as before, and if it
persists the harvest fails instead of returning a short window.

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
from movie_assets.tmdb.errors import TMDbError, TMDbPageLimitError, TMDbRequestError

PAGE_SIZE = 20
# Multi-day windows are first read every SAMPLE_EVERY pages, to find days that fill several pages.
SAMPLE_EVERY = 6
RESULT_CAP = MAX_PAGE * PAGE_SIZE
VOTE_COUNT_MAX = 10**9


class DiscoverShortfall(TMDbError):
    """A window's unique ids stayed below ``total_results`` after every re-read."""


class _TitleSortRefused(Exception):
    """The server answered a title-sorted discover request with a validation error."""


# TMDb's documented validation codes that say nothing about sort_by: 20 date range, 22 page, 23 date format.
_NOT_A_SORT_ERROR = frozenset({20, 22, 23})


class _WindowChanged(Exception):
    """A window's unique ids exceed its ``total_results``: the catalog changed while it was read."""


# How often a leaf window is read from page 1 when its ids and its total disagree (a changing catalog).
WINDOW_READS = 3


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

    def between(self, lo: str | int, hi: str | int) -> Window:
        """This window restricted to release dates ``lo..hi``, or (one day) to vote counts ``lo..hi``."""
        if self.gte == self.lte:
            return Window(self.gte, self.lte, (int(lo), int(hi)))
        return Window(dt.date.fromisoformat(str(lo)), dt.date.fromisoformat(str(hi)), self.votes)

    def split(self) -> tuple[Window, Window] | None:
        """Halve a window above the cap; None when indivisible (one day, one vote_count).

        An unfiltered window is first cut into movies without votes and movies with votes: the former are
        most movies and tie densely in popularity, so keeping them apart shrinks every day's tie group.
        Then dates are bisected down to one day, then vote_count (on a log scale: counts are skewed).
        """
        if self.votes is None:
            return Window(self.gte, self.lte, (0, 0)), Window(self.gte, self.lte, (1, VOTE_COUNT_MAX))
        if self.gte < self.lte:
            mid = self.gte + (self.lte - self.gte) // 2
            return Window(self.gte, mid, self.votes), Window(mid + dt.timedelta(days=1), self.lte, self.votes)
        lo, hi = self.votes
        if lo >= hi:
            return None
        mid = min(hi - 1, max(lo, math.isqrt((lo + 1) * (hi + 1)) - 1))
        return Window(self.gte, self.lte, (lo, mid)), Window(self.gte, self.lte, (mid + 1, hi))


TITLE_SORT = "original_title.asc"
VOTE_SORT = "vote_count.asc"


@dataclass(frozen=True)
class Ordering:
    """How windows are paged: multi-day windows by release date, one-day windows by ``day_sort``.

    Only the sort key is ordered; movies that tie on it come in popularity order, which drifts between
    requests, so a page boundary inside a tie group can skip or repeat movies. Within one day the date
    ties everything, so the day is sorted by title (groups of a few same-titled films) or, where a
    server refuses title sorts, by vote_count. A key is *narrowable* when discover can filter on it
    (dates, vote counts), so a repair can ask for a range of groups; titles cannot be filtered.
    """

    day_sort: str = TITLE_SORT

    def sort_by(self, window: Window) -> str:
        return self.day_sort if window.gte == window.lte else "primary_release_date.asc"

    def key(self, window: Window, item: dict[str, Any]) -> str | int:
        """The value ``sort_by(window)`` orders a result item by."""
        if window.gte != window.lte:
            return str(item.get("release_date") or "")
        if self.day_sort == TITLE_SORT:
            return str(item.get("original_title") or "")
        return int(item.get("vote_count") or 0)

    def narrowable(self, window: Window) -> bool:
        """Whether `Window.between` can ask for a range of this window's sort keys."""
        return window.gte != window.lte or self.day_sort == VOTE_SORT


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
        self.ordering = Ordering()

    async def harvest_year(self, year: int) -> DiscoverSnapshot:
        return await self.harvest_dates(dt.date(year, 1, 1), dt.date(year, 12, 31))

    async def harvest_dates(self, gte: dt.date, lte: dt.date) -> DiscoverSnapshot:
        """Every movie released in ``gte..lte``, with the same windowing (e.g. the newest releases)."""
        await self._harvest(Window(gte, lte))
        return self.snapshot

    def _refuse_titles(self, refused: _TitleSortRefused) -> None:
        """TMDb documents the title sorts; a server that refuses them gets every later day sorted by vote count.

        Only the one-day read that met the refusal is read again (by its caller): every window already
        verified stays valid, and no abandoned task keeps paging (a restart of the whole harvest did both)."""
        if self.ordering.day_sort == TITLE_SORT:
            self.progress(f"the server refused sort_by={TITLE_SORT} ({refused.__cause__}); sorting days by {VOTE_SORT}")
            self.ordering = Ordering(VOTE_SORT)

    async def _first_page(self, window: Window) -> dict[str, Any]:
        """Page 1 of ``window`` in its ordering, switching days to vote_count where titles are refused."""
        try:
            return await self._page(window, 1)
        except _TitleSortRefused as refused:
            self._refuse_titles(refused)
            return await self._page(window, 1)

    async def _day(
        self, part: Window, known: dict[int, dict[str, Any]] | None = None
    ) -> tuple[dict[int, dict[str, Any]], int]:
        """Every movie of the one-day window ``part`` (see `_collect`), read again by vote_count if the server
        refuses the title sort part-way."""
        first = await self._first_page(part)
        try:
            return await self._collect(part, first, int(first["total_results"]), known)
        except _TitleSortRefused as refused:
            self._refuse_titles(refused)
            first = await self._page(part, 1)
            return await self._collect(part, first, int(first["total_results"]), known)

    async def _page(self, window: Window, page: int, sort_by: str | None = None) -> dict[str, Any]:
        sort_by = sort_by or self.ordering.sort_by(window)
        for attempt in (1, 2):
            self.snapshot.requests += 1
            try:
                return await self.client.discover_movies(
                    gte=window.gte,
                    lte=window.lte,
                    page=page,
                    sort_by=sort_by,
                    include_adult=self.include_adult,
                    include_video=self.include_video,
                    extra=window.params(),
                )
            except TMDbRequestError as error:
                refused = (
                    sort_by.startswith("original_title.")
                    and error.http_status in (400, 422)
                    and not isinstance(error, TMDbPageLimitError)
                    and error.status_code not in _NOT_A_SORT_ERROR
                )
                if not refused:
                    raise
                if attempt == 2:  # asked twice: the server does refuse the title sort (one 422 is not a verdict)
                    raise _TitleSortRefused() from error
        raise AssertionError("unreachable")  # pragma: no cover

    async def _harvest(self, window: Window, reads: int = 1) -> None:
        first = await self._first_page(window)
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
        await self._page_window(window, first, total, reads)

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

    async def _page_window(self, window: Window, first: dict[str, Any], total: int, reads: int = 1) -> None:
        """Page a leaf window; read it again from page 1 (at most `WINDOW_READS` times) when its ids do not add
        up to ``total_results``: TMDb changed it while it was read (a movie added, deleted or re-dated)."""
        try:
            try:
                found, total = await self._collect(window, first, total)
            except _TitleSortRefused as refused:  # only a one-day window sorts by title itself
                self._refuse_titles(refused)
                found, total = await self._day(window)
        except (_WindowChanged, DiscoverShortfall) as changed:
            if reads >= WINDOW_READS:
                raise DiscoverShortfall(f"{changed}; read {reads} times, the window never added up") from None
            self.progress(f"{changed}; the window changed while it was read: reading it again")
            await self._harvest(window, reads + 1)
            return
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
        skipped: dict[int, str | int] = {}
        if pages > 1 and len(found) < total and not (known and window.gte == window.lte):
            if window.gte == window.lte or pages < 2 * SAMPLE_EVERY:
                await self._read_pages(window, range(2, pages + 1), results)
            else:  # sample first: a dense day is paged on its own, by title, instead of inside the window
                await self._read_pages(window, range(1 + SAMPLE_EVERY, pages + 1, SAMPLE_EVERY), results)
                skipped = _inside_dense_days(window, self.ordering, results)
                unread = [p for p in range(2, pages + 1) if p not in results and p not in skipped]
                await self._read_pages(window, unread, results)
                for day in sorted(set(skipped.values())):
                    found.update(await self._dense_day(window, str(day)))
            found.update((int(item["id"]), item) for items in results.values() for item in items)
        plan = _GroupRepair.of(window, self.ordering, results, total, skipped)
        passes = 0
        while len(found) < total:
            self.progress(f"window {window.key}: {len(found)} unique ids < total_results {total}; repairing")
            if plan is not None:  # aimed re-reads, for as long as they find movies
                repaired = await self._repair_groups(window, found, plan)
                if repaired is not None and repaired.keys() - found.keys():
                    found.update(repaired)
                    continue
                if repaired is not None and not plan.widened:  # the duplicates misled: aim at every boundary once
                    plan.widen(window, self.ordering, found)
                    continue
                plan = None  # nothing left to aim at, or aiming stopped paying: repair the old way
            if passes == self.max_passes:
                break
            passes += 1
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
        if len(found) > total:  # more movies than the window holds: some came and others left while it was read
            raise _WindowChanged(f"discover window {window.key}: {len(found)} unique ids, total_results says {total}")
        return found, total

    async def _read_pages(self, window: Window, pages: Iterable[int], results: dict[int, list[dict[str, Any]]]) -> None:
        pages = list(pages)
        responses = await asyncio.gather(*(self._page(window, p) for p in pages))
        results.update((p, r.get("results", [])) for p, r in zip(pages, responses, strict=True))

    async def _dense_day(self, window: Window, day: str) -> dict[int, dict[str, Any]]:
        """Every movie of ``window`` released on ``day``, read as a one-day window."""
        part = Window(dt.date.fromisoformat(day), dt.date.fromisoformat(day), window.votes)
        items, _ = await self._day(part)
        self.progress(f"window {window.key}: the dense day {day} read by {self.ordering.day_sort}: {len(items)} movies")
        return items

    async def _repair_groups(
        self,
        window: Window,
        found: dict[int, dict[str, Any]],
        plan: _GroupRepair,
    ) -> dict[int, dict[str, Any]] | None:
        """Re-read only the page boundaries that lost movies, each from the middle of a page.

        The pages tile the window, so each tie group's size is known exactly from where its first and last
        movie sat (`_groups`), and a group with fewer unique ids than that lost movies at its page
        boundaries: one for every id shown on both sides of a boundary (it took a lost movie's place).
        A group that fits on one page is asked for alone (one request answers it atomically); otherwise
        one page is read per lossy boundary, from a query that puts the boundary mid-page
        (`_centered_slice`): the movies that slipped past it are within a few ranks of it. A boundary
        stays targeted until as many new movies of its group came back from around it as it lost.
        None when there is nothing left to aim at.
        """
        groups, tried, ordering = plan.groups, plan.tried, self.ordering
        have = Counter(ordering.key(window, item) for item in found.values() if window.holds(item))
        short = [k for k, (_, count) in groups.items() if have[k] < count]
        if not short:
            return None
        keys = sorted(groups)
        index = {k: i for i, k in enumerate(keys)}
        queries: list[tuple[Window, int, str]] = []
        aims: list[tuple[str | int, int | None]] = []  # (group, boundary) each query aims at
        for k in short:
            start, count = groups[k]
            if count <= PAGE_SIZE and ordering.narrowable(window):
                query = (window.between(k, k), 1, ordering.sort_by(window))
                if (query[0].key, 1, query[2]) not in tried:
                    queries.append(query)
                    aims.append((k, None))
                    tried.add((query[0].key, 1, query[2]))
                continue
            inside = [b for b in range(start + 1, start + count) if b % PAGE_SIZE == 0]
            lossy = [b for b in inside if plan.lost[b] > 0]
            if not lossy:  # the duplicates do not account for the shortfall: aim at every boundary again
                plan.lost.update({b: 1 for b in inside})
                lossy = inside
            for boundary in lossy:
                best = _centered_slice(window, ordering, keys, index[k], groups, boundary, tried)
                if best is not None:
                    queries.append(best)
                    aims.append((k, boundary))
                    tried.add((best[0].key, best[1], best[2]))
        if not queries:
            return None
        responses = await asyncio.gather(*(self._page(sub, page, sort) for sub, page, sort in queries))
        repaired: dict[int, dict[str, Any]] = {}
        for (k, boundary), response in zip(aims, responses, strict=True):
            fresh = [item for item in response.get("results", []) if window.holds(item)]
            if boundary is not None:
                gained = {int(i["id"]) for i in fresh if ordering.key(window, i) == k}
                gained -= found.keys() | repaired.keys()
                plan.lost[boundary] = max(0, plan.lost[boundary] - len(gained))
            repaired.update((int(item["id"]), item) for item in fresh)
        return repaired

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
            known = {i: item for i, item in found.items() if part.holds(item)}
            part_items, _ = await self._day(part, known)
            return part_items

        repaired: dict[int, dict[str, Any]] = {}
        for part_items in await asyncio.gather(*(exact(part) for part in parts)):
            repaired.update(part_items)
        return repaired


@dataclass
class _GroupRepair:
    """What `DiscoverHarvester._repair_groups` knows about a paged window: its groups' offsets and sizes,
    how many movies each page boundary still owes, and the queries already asked."""

    groups: dict[str | int, tuple[int, int]]
    lost: Counter[int]
    tried: set[tuple[str, int, str]] = field(default_factory=set)
    widened: bool = False

    def widen(self, window: Window, ordering: Ordering, found: dict[int, dict[str, Any]]) -> None:
        """Owe one movie at every boundary of every group still short (once)."""
        have = Counter(ordering.key(window, item) for item in found.values() if window.holds(item))
        for start, count in (g for k, g in self.groups.items() if have[k] < g[1]):
            self.lost.update({b: 1 for b in range(start + 1, start + count) if b % PAGE_SIZE == 0})
        self.widened = True

    @classmethod
    def of(
        cls,
        window: Window,
        ordering: Ordering,
        results: dict[int, list[dict[str, Any]]],
        total: int,
        skipped: dict[int, str | int],
    ) -> _GroupRepair | None:
        groups = _groups(window, ordering, results, total, skipped)
        return None if groups is None else cls(groups, _straddled_boundaries(results))


def _groups(
    window: Window,
    ordering: Ordering,
    results: dict[int, list[dict[str, Any]]],
    total: int,
    skipped: dict[int, str | int] | None = None,
) -> dict[str | int, tuple[int, int]] | None:
    """Each sort-key group's (first offset, size) in a fully paged window, from where its movies sat.

    The sort key never drifts, so a group occupies the same offsets on every page whatever order its
    movies come in. ``skipped`` pages (inside a dense day, never read) hold a full page of their key.
    None when the pages do not tile the window (a page short of movies, a page missing, keys out of
    order, a title's movies apart): then offsets prove nothing and the repair falls back to re-asking
    whole days.
    """
    skipped = skipped or {}
    # Titles are compared as the server collates them (TMDb does not say how: code points, a locale, case
    # folded), so only each title's movies being side by side is required; dates and counts must ascend.
    titles = not ordering.narrowable(window)
    pages = math.ceil(total / PAGE_SIZE)
    if total > RESULT_CAP or sorted([*results, *skipped]) != list(range(1, pages + 1)):
        return None
    spans: dict[str | int, list[int]] = {}
    previous: str | int | None = None
    for page in range(1, pages + 1):
        items = results.get(page)
        if items is None:
            items = [None] * PAGE_SIZE  # a skipped page: a full page of its dense day
        if len(items) != (PAGE_SIZE if page < pages else total - PAGE_SIZE * (pages - 1)):
            return None
        for i, item in enumerate(items):
            key = skipped[page] if item is None else ordering.key(window, item)
            if previous is not None and key != previous and (
                key in spans if titles else key < previous  # type: ignore[operator]
            ):
                return None
            previous = key
            offset = PAGE_SIZE * (page - 1) + i
            spans.setdefault(key, [offset, offset])[1] = offset
    return {key: (first, last - first + 1) for key, (first, last) in spans.items()}


def _inside_dense_days(
    window: Window, ordering: Ordering, sampled: dict[int, list[dict[str, Any]]]
) -> dict[int, str | int]:
    """Pages of a sampled multi-day window that lie inside one day: those between two sampled pages
    holding only that day (the window is sorted by date). A day that spans pages is a tie group of
    hundreds of movies whose order drifts; it is cheaper read on its own, sorted by title."""
    only = {p: {ordering.key(window, item) for item in items} for p, items in sampled.items() if items}
    inside: dict[int, str | int] = {}
    pages = sorted(only)
    for p, q in zip(pages, pages[1:], strict=False):
        if len(only[p]) == 1 and only[p] == only[q]:
            (day,) = only[p]
            inside.update(dict.fromkeys(range(p + 1, q), day))
    return inside


def _centered_slice(
    window: Window,
    ordering: Ordering,
    keys: list[str | int],
    i: int,
    groups: dict[str | int, tuple[int, int]],
    boundary: int,
    tried: set[tuple[str, int, str]],
    reach: int = 40,
) -> tuple[Window, int, str] | None:
    """The untried (window, page, sort) that puts ``boundary`` (an offset inside group ``keys[i]``) nearest
    the middle of a page: the group is read after some of the groups before it (ascending sort), after
    some of the groups after it (descending sort: the same order within the group), or alone and
    reversed (popularity ascending). The sizes of the groups in between are known, so is the offset.
    Where the key cannot be filtered (titles), only the whole window can be read, ascending or descending."""
    key = keys[i]
    start, count = groups[key]
    rank = boundary - start  # the boundary lies between ranks rank-1 and rank of the group
    ascending = ordering.sort_by(window)
    descending = ascending.replace(".asc", ".desc")
    if not ordering.narrowable(window):
        total = sum(size for _, size in groups.values())
        candidates = [(window, boundary, ascending), (window, total - start - count + rank, descending)]
    else:
        candidates = [(window.between(key, key), count - rank, "popularity.asc")]
        for j in range(i, max(-1, i - reach), -1):
            candidates.append((window.between(keys[j], key), boundary - groups[keys[j]][0], ascending))
        for j in range(i, min(len(keys), i + reach)):
            last_start, last_count = groups[keys[j]]
            candidates.append(
                (window.between(key, keys[j]), last_start + last_count - start - count + rank, descending)
            )
    best: tuple[int, tuple[Window, int, str]] | None = None
    for sub, offset, sort in candidates:
        page = offset // PAGE_SIZE + 1
        if offset >= RESULT_CAP or (sub.key, page, sort) in tried:
            continue
        score = abs(offset % PAGE_SIZE - PAGE_SIZE // 2)
        if best is None or score < best[0]:
            best = (score, (sub, page, sort))
    return None if best is None else best[1]


def _straddled_boundaries(results: dict[int, list[dict[str, Any]]]) -> Counter[int]:
    """Page boundary offset → how many movies shown on two pages straddle it (as many were lost there)."""
    pages_of: dict[int, list[int]] = {}
    for page, items in results.items():
        for item in items:
            pages_of.setdefault(int(item["id"]), []).append(page)
    boundaries: Counter[int] = Counter()
    for pages in pages_of.values():
        pages.sort()
        for p, q in zip(pages, pages[1:], strict=False):
            boundaries.update(PAGE_SIZE * b for b in range(p, q))
    return boundaries


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
