"""Discover queries over the per-year arrays: which movies match a date window and filters, in what order.

Ties on the sort key are broken by popularity desc, then id, so every query has one exact order. Title
sorts (TMDb's ``original_title`` and ``title``) order by code point, as Python compares strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .years import YearData

SORT_KEYS = (
    "popularity.desc",
    "popularity.asc",
    "primary_release_date.asc",
    "primary_release_date.desc",
    "vote_count.desc",
    "vote_count.asc",
    "vote_average.desc",
    "vote_average.asc",
    "original_title.asc",
    "original_title.desc",
    "title.asc",
    "title.desc",
)
TITLE_FIELDS = ("original_title", "title")
# (ids, field) -> the movies' titles, aligned with ids.
TitlesFn = Callable[[np.ndarray, str], list[str]]


@dataclass(frozen=True)
class Selection:
    """The ordered result of one discover query (without paging)."""

    ids: np.ndarray  # int64, in result order
    pop: np.ndarray  # float64, aligned with ids
    primary: np.ndarray | None  # int64 primary sort key made ascending (None for popularity sorts)

    @property
    def total(self) -> int:
        """Number of matching movies."""
        return int(self.ids.shape[0])


def matching(
    years: Iterable[YearData],
    gte: dt.date,
    lte: dt.date,
    include_adult: bool,
    include_video: bool,
    vote_count_gte: int | None,
    vote_count_lte: int | None,
) -> list[tuple[YearData, np.ndarray]]:
    """Per year (of ``years``, oldest first), the sorted positions of movies passing the filters."""
    out = []
    for data in years:
        year = data.year
        lo_day = (max(gte, dt.date(year, 1, 1)) - dt.date(year, 1, 1)).days
        hi_day = (min(lte, dt.date(year, 12, 31)) - dt.date(year, 1, 1)).days
        a = int(np.searchsorted(data.day, lo_day, "left"))
        b = int(np.searchsorted(data.day, hi_day, "right"))
        if a >= b:
            continue
        mask = np.ones(b - a, dtype=bool)
        flags = data.flags[a:b]
        if not include_adult:
            mask &= (flags & 1) == 0
        if not include_video:
            mask &= (flags & 2) == 0
        if vote_count_gte is not None:
            mask &= data.vote_count[a:b] >= vote_count_gte
        if vote_count_lte is not None:
            mask &= data.vote_count[a:b] <= vote_count_lte
        idx = a + np.flatnonzero(mask)
        if idx.size:
            out.append((data, idx))
    return out


def ordered(parts: list[tuple[YearData, np.ndarray]], sort_by: str, titles: TitlesFn | None = None) -> Selection:
    """The matches of `matching` in ``sort_by`` order (one of `SORT_KEYS`); title sorts need ``titles``."""
    if parts:
        ids = np.concatenate([d.ids[i] for d, i in parts]).astype(np.int64)
        pop = np.concatenate([d.pop[i] for d, i in parts])
        ordinal = np.concatenate(
            [d.day[i].astype(np.int64) + dt.date(d.year, 1, 1).toordinal() for d, i in parts]
        )
        votes = np.concatenate([d.vote_count[i] for d, i in parts]).astype(np.int64)
        avg = np.concatenate([d.vote_avg_milli[i] for d, i in parts]).astype(np.int64)
    else:
        ids = np.zeros(0, np.int64)
        pop = np.zeros(0, np.float64)
        ordinal = votes = avg = np.zeros(0, np.int64)
    field, direction = sort_by.rsplit(".", 1)
    primary = {"primary_release_date": ordinal, "vote_count": votes, "vote_average": avg}.get(field)
    if field in TITLE_FIELDS:
        if titles is None:
            raise ValueError(f"sort_by {sort_by!r} needs the movies' titles")
        # Each title's rank among the distinct titles: an integer key that sorts as the strings do.
        names = np.array(titles(ids, field), dtype=str) if ids.size else np.zeros(0, dtype=str)
        primary = np.unique(names, return_inverse=True)[1].astype(np.int64).reshape(-1)
    if primary is None:
        order = np.lexsort((ids, pop if direction == "asc" else -pop))
    else:
        primary = primary if direction == "asc" else -primary
        order = np.lexsort((ids, -pop, primary))
        primary = primary[order]
    return Selection(ids[order], pop[order], primary)
