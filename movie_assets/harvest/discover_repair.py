"""Finding the movies a paged discover window lost between its pages, with as few requests as can find them.

Movies tying on a window's sort key come in popularity order, which may drift between requests, so a page
boundary inside a tie group can skip movies. The pages tile the window, so every tie group's size is known
from its offsets (`_group_offsets`), and only the boundaries that lost movies are re-read, each from a query
that puts it mid-page (`repair_groups`). What that cannot fix is re-read by days and vote cells
(`repair_parts`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from movie_assets.harvest.discover_windows import PAGE_SIZE, RESULT_CAP, VOTE_COUNT_MAX, Ordering, Window

Items = dict[int, dict[str, Any]]
Pages = dict[int, list[dict[str, Any]]]
# One discover request: (window, page, sort_by) → its answer.
PageFn = Callable[[Window, int, str], Awaitable[dict[str, Any]]]
# Every movie of a one-day window, given those of it already known → (items by id, total).
DayFn = Callable[[Window, Items], Awaitable[tuple[Items, int]]]


@dataclass
class GroupRepair:
    """What `repair_groups` knows about a paged window: its groups' offsets and sizes, how many movies each
    page boundary still owes, and the queries already asked."""

    groups: dict[str | int, tuple[int, int]]
    lost: Counter[int]
    tried: set[tuple[str, int, str]] = field(default_factory=set)
    widened: bool = False

    def widen(self, window: Window, ordering: Ordering, found: Items) -> None:
        """Owe one movie at every boundary of every group still short (once)."""
        have = Counter(ordering.key(window, item) for item in found.values() if window.holds(item))
        for start, count in (g for k, g in self.groups.items() if have[k] < g[1]):
            self.lost.update({b: 1 for b in range(start + 1, start + count) if b % PAGE_SIZE == 0})
        self.widened = True

    @classmethod
    def of(
        cls, window: Window, ordering: Ordering, results: Pages, total: int, skipped: dict[int, str | int]
    ) -> GroupRepair | None:
        groups = _group_offsets(window, ordering, results, total, skipped)
        return None if groups is None else cls(groups, _straddled_boundaries(results))


async def repair_groups(
    page: PageFn, window: Window, ordering: Ordering, found: Items, plan: GroupRepair
) -> Items | None:
    """Re-read only the page boundaries that lost movies, each from the middle of a page.

    The pages tile the window, so each tie group's size is known exactly from where its first and last
    movie sat (`_group_offsets`), and a group with fewer unique ids than that lost movies at its page
    boundaries: one for every id shown on both sides of a boundary (it took a lost movie's place).
    A group that fits on one page is asked for alone (one request answers it atomically); otherwise
    one page is read per lossy boundary, from a query that puts the boundary mid-page
    (`_centered_slice`): the movies that slipped past it are within a few ranks of it. A boundary
    stays targeted until as many new movies of its group came back from around it as it lost.
    None when there is nothing left to aim at.
    """
    groups, tried = plan.groups, plan.tried
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
    responses = await asyncio.gather(*(page(sub, number, sort) for sub, number, sort in queries))
    repaired: Items = {}
    for (k, boundary), response in zip(aims, responses, strict=True):
        fresh = [item for item in response.get("results", []) if window.holds(item)]
        if boundary is not None:
            gained = {int(i["id"]) for i in fresh if ordering.key(window, i) == k}
            gained -= found.keys() | repaired.keys()
            plan.lost[boundary] = max(0, plan.lost[boundary] - len(gained))
        repaired.update((int(item["id"]), item) for item in fresh)
    return repaired


async def repair_parts(day: DayFn, window: Window, results: Pages, found: Items) -> Items | None:
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

    async def exact(part: Window) -> Items:
        known = {i: item for i, item in found.items() if part.holds(item)}
        part_items, _ = await day(part, known)
        return part_items

    repaired: Items = {}
    for part_items in await asyncio.gather(*(exact(part) for part in parts)):
        repaired.update(part_items)
    return repaired


def _group_offsets(
    window: Window, ordering: Ordering, results: Pages, total: int, skipped: dict[int, str | int] | None = None
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


def _straddled_boundaries(results: Pages) -> Counter[int]:
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


def _dates_shared_by_pages(results: Pages) -> set[str]:
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
