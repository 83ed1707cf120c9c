"""The discover queries a year is cut into: `Window` (what is asked for) and `Ordering` (how it is paged).

A `Window` is a date range, optionally narrowed by a ``vote_count`` range; one above TMDb's 10,000-result
cap is split (`Window.split`) into movies without votes and movies with votes, then by date down to one
day (`movie_assets.tmdb.paging`), then by vote_count. An `Ordering` says how a window is paged: multi-day
windows by ``primary_release_date.asc``, one-day windows by ``original_title.asc`` (TMDb's documented
title sort; ``vote_count.asc`` where a server refuses it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from movie_assets.tmdb.client import MAX_PAGE
from movie_assets.tmdb.paging import DateRange

PAGE_SIZE = 20
RESULT_CAP = MAX_PAGE * PAGE_SIZE
VOTE_COUNT_MAX = 10**9


@dataclasses.dataclass(frozen=True, order=True)
class Window(DateRange):
    """A discover query: primary release dates ``gte..lte`` and an optional ``vote_count`` range."""

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
        Then dates are bisected down to one day, then vote_count (`narrow`).
        """
        if self.votes is None:
            return Window(self.gte, self.lte, (0, 0)), Window(self.gte, self.lte, (1, VOTE_COUNT_MAX))
        return super().split()

    def narrow(self) -> tuple[Window, Window] | None:
        """A one-day window's vote_count range bisected on a log scale (counts are skewed)."""
        assert self.votes is not None  # `split` cuts an unfiltered window by votes first
        lo, hi = self.votes
        if lo >= hi:
            return None
        mid = min(hi - 1, max(lo, math.isqrt((lo + 1) * (hi + 1)) - 1))
        return Window(self.gte, self.lte, (lo, mid)), Window(self.gte, self.lte, (mid + 1, hi))


TITLE_SORT = "original_title.asc"
VOTE_SORT = "vote_count.asc"


@dataclasses.dataclass(frozen=True)
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
