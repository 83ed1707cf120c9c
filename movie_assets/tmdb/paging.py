"""One page loop for every paged TMDb list (discover, ``/movie/changes``): TMDb serves no page past `MAX_PAGE`.

`paginate` reads a query's page 1 first. A query that fits under the cap is handed to its `Paginator` to
read the rest of its pages, its own way (``/movie/changes`` page after page; discover sampling, then
repairing what drifted between pages). A query past the cap is never paged up to the limit and cut short:
it is split in two (`DateRange.split`: by date, down to one day, then by the list's own second filter) and
each half is read the same way; one that cannot be split further is the paginator's error to raise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any, Protocol, Self, TypeVar

from .client import MAX_PAGE

Page = dict[str, Any]


@dataclasses.dataclass(frozen=True, order=True)
class DateRange:
    """A query on the inclusive dates ``gte..lte``: TMDb filters every paged list this code reads by date."""

    gte: dt.date
    lte: dt.date

    def split(self) -> tuple[Self, Self] | None:
        """The halves of a query past the cap: by date down to one day, then `narrow`; None when indivisible."""
        if self.gte < self.lte:
            mid = self.gte + (self.lte - self.gte) // 2
            return dataclasses.replace(self, lte=mid), dataclasses.replace(self, gte=mid + dt.timedelta(days=1))
        return self.narrow()

    def narrow(self) -> tuple[Self, Self] | None:
        """The halves of a one-day query by the list's second filter; None (the default) where it has none."""
        return None


W = TypeVar("W", bound=DateRange)


class Paginator(Protocol[W]):
    """How `paginate` reads one paged list: what a request is, how many pages an answer says there are,
    what to do with page 1, with a split and with a query too dense to split, and how to read the rest."""

    # Read a split query's halves at once (concurrently), or one after the other.
    halves_at_once: bool = False

    async def first_page(self, query: W) -> Page:
        """Page 1 of ``query``."""
        ...

    def page_count(self, query: W, first: Page) -> int:
        """How many pages ``query`` has, by its page 1."""
        ...

    def settled(self, query: W, first: Page) -> bool:
        """Take in page 1; True when ``query`` needs nothing more (e.g. it is known unchanged)."""
        return False

    def too_dense(self, query: W, first: Page) -> Exception:
        """The error for a query past the cap that cannot be split (`DateRange.split` is None)."""
        ...

    def on_split(self, query: W, halves: tuple[W, W]) -> None:
        """``query`` was past the cap and is read as ``halves`` instead."""

    async def read_rest(self, query: W, first: Page, reads: int) -> bool:
        """Read the pages after ``first`` of a query under the cap (its ``reads``-th read from page 1);
        False when it changed while it was read and must be read again from page 1."""
        ...


async def paginate(paginator: Paginator[W], query: W) -> None:
    """Read every page of ``query`` with ``paginator``, splitting it wherever it is past the cap."""
    reads = 1
    while True:
        first = await paginator.first_page(query)
        if paginator.settled(query, first):
            return
        if paginator.page_count(query, first) > MAX_PAGE:
            halves = query.split()
            if halves is None:
                raise paginator.too_dense(query, first)
            paginator.on_split(query, halves)
            if paginator.halves_at_once:
                await asyncio.gather(*(paginate(paginator, half) for half in halves))
            else:
                for half in halves:
                    await paginate(paginator, half)
            return
        if await paginator.read_rest(query, first, reads):
            return
        reads += 1
