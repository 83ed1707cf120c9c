"""Every movie released in a year, from discover pages, never passing TMDb's 10,000-result cap.

The year is read with the page loop every paged TMDb list uses (`movie_assets.tmdb.paging`), the
`DiscoverHarvester` being its `Paginator`: for each `Window` page 1 is read first; above the cap the window
is split *before* any further paging (`Window.split`: movies without votes apart from movies with votes,
then by date down to one day, then by vote_count). A window under the cap is paged in its `Ordering`;
multi-day windows are sampled first, so that a dense day is paged on its own, by title. Movies tying on the
sort key come in popularity order, which may drift between requests, so a page boundary inside a tie group
can skip movies. After paging, the set of unique ids must reach ``total_results``; a shortfall is repaired
where it is (`movie_assets.harvest.discover_repair`), and if it persists the harvest fails instead of
returning a short window.

Re-harvesting with a previous snapshot (which the caller passes only when the year's membership is known
to be unchanged) reuses every window whose ``total_results`` is unchanged, so such a year costs one request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from movie_assets.harvest.discover_repair import GroupRepair, repair_groups, repair_parts
from movie_assets.harvest.discover_windows import PAGE_SIZE, RESULT_CAP, TITLE_SORT, VOTE_SORT, Ordering, Window
from movie_assets.tmdb.client import MAX_PAGE, TMDbClient
from movie_assets.tmdb.errors import TMDbError, TMDbPageLimitError, TMDbRequestError
from movie_assets.tmdb.paging import Paginator, paginate

# Multi-day windows are first read every SAMPLE_EVERY pages, to find days that fill several pages.
SAMPLE_EVERY = 6


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


class DiscoverHarvester(Paginator[Window]):
    """Harvest one year's discover results with `client`, reusing `previous` where totals are unchanged.

    It is the `Paginator` of discover windows: `paginate` reads each window's page 1 (`first_page`), splits
    those above the cap and hands the others to `read_rest`.
    """

    halves_at_once = True

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
        await paginate(self, Window(gte, lte))
        return self.snapshot

    def _refuse_titles(self, refused: _TitleSortRefused) -> None:
        """TMDb documents the title sorts; a server that refuses them gets every later day sorted by vote count.

        Only the one-day read that met the refusal is read again (by its caller): every window already
        verified stays valid, and no abandoned task keeps paging (a restart of the whole harvest did both)."""
        if self.ordering.day_sort == TITLE_SORT:
            self.progress(f"the server refused sort_by={TITLE_SORT} ({refused.__cause__}); sorting days by {VOTE_SORT}")
            self.ordering = Ordering(VOTE_SORT)

    async def first_page(self, window: Window) -> dict[str, Any]:
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
        first = await self.first_page(part)
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

    # -- the page loop's hooks (`Paginator`) ---------------------------------------------------------
    def page_count(self, window: Window, first: dict[str, Any]) -> int:
        return math.ceil(int(first["total_results"]) / PAGE_SIZE)

    def settled(self, window: Window, first: dict[str, Any]) -> bool:
        """Record the window's total; True when `previous` holds it unchanged (then it is reused)."""
        total = int(first["total_results"])
        self.snapshot.totals[window.key] = total
        return self._reuse(window, total)

    def too_dense(self, window: Window, first: dict[str, Any]) -> Exception:
        total = int(first["total_results"])
        return WindowTooDense(
            f"discover window {window.key} still has {total} results (> {RESULT_CAP}) after splitting "
            "on date and vote_count; refusing to truncate it"
        )

    def on_split(self, window: Window, halves: tuple[Window, Window]) -> None:
        self.snapshot.children[window.key] = [h.key for h in halves]

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

    async def read_rest(self, window: Window, first: dict[str, Any], reads: int) -> bool:
        """Page a leaf window; False (read it again from page 1, at most `WINDOW_READS` times) when its ids do
        not add up to ``total_results``: TMDb changed it while it was read (a movie added, deleted or re-dated)."""
        try:
            try:
                found, total = await self._collect(window, first, int(first["total_results"]))
            except _TitleSortRefused as refused:  # only a one-day window sorts by title itself
                self._refuse_titles(refused)
                found, total = await self._day(window)
        except (_WindowChanged, DiscoverShortfall) as changed:
            if reads >= WINDOW_READS:
                raise DiscoverShortfall(f"{changed}; read {reads} times, the window never added up") from None
            self.progress(f"{changed}; the window changed while it was read: reading it again")
            return False
        self.snapshot.totals[window.key] = total
        self.snapshot.items.update((i, {**item, "_window": window.key}) for i, item in found.items())
        self.snapshot.repaged_windows += 1
        self.progress(f"window {window.key}: {len(found)} movies")
        return True

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
        plan = GroupRepair.of(window, self.ordering, results, total, skipped)
        passes = 0
        while len(found) < total:
            self.progress(f"window {window.key}: {len(found)} unique ids < total_results {total}; repairing")
            if plan is not None:  # aimed re-reads, for as long as they find movies
                repaired = await repair_groups(self._page, window, self.ordering, found, plan)
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
            repaired = await repair_parts(self._day, window, results, found)
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
