"""Fetching again the movies whose stored payload predates an append of the details call.

A movie harvested before the call asked for ``release_dates``, ``videos``, … keeps null in the columns read
from them (its typed reading names them in ``missing_appends``) until it is fetched again: with its next
change, or at once through `refetch_missing` (``movie-assets refetch --missing …``, or the ``refetch_missing``
option of ``movie_details``). The store is read for what it holds, one shard at a time: no request is made
for a movie whose payload already has the append.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.enrich import BatchProgress, details_appends, enrich
from movie_assets.harvest.observations import OK
from movie_assets.harvest.payload_fields import ALL_APPENDS
from movie_assets.harvest.store import DetailsStore
from movie_assets.harvest.year_build import reconcile_years
from movie_assets.lake import Lake
from movie_assets.lake.languages import LANGUAGES_ENV
from movie_assets.tmdb.client import TMDbClient

log = logging.getLogger(__name__)


def parse_appends(names: str | Iterable[str], setting: str = "--missing") -> tuple[str, ...]:
    """``release_dates,videos`` (or a list) → the appends, each once; an unknown name raises ValueError naming
    ``setting`` and the known ones."""
    items = names.split(",") if isinstance(names, str) else list(names)
    appends = tuple(dict.fromkeys(n.strip() for n in items if n.strip()))
    unknown = [n for n in appends if n not in ALL_APPENDS]
    if unknown or not appends:
        raise ValueError(f"{setting}: {', '.join(unknown) or 'nothing'} is not an append of the details call; "
                         f"use some of {','.join(ALL_APPENDS)}")
    return appends


def refetchable(lake: Lake, appends: tuple[str, ...]) -> tuple[str, ...]:
    """What the details call of ``lake`` asks for (`details_appends`), which must include ``appends``: a lake
    without translated languages has no use for ``translations``, and its next refetch would drop them."""
    asked = details_appends(lake)
    unwanted = [name for name in appends if name not in asked]
    if unwanted:
        raise ValueError(f"{','.join(unwanted)}: this lake does not keep them; set {LANGUAGES_ENV} to the languages "
                         "wanted besides English (e.g. de,fr) to keep translations")
    return asked


def movies_missing(store: DetailsStore, appends: tuple[str, ...], ids: pa.Array | None = None) -> pa.Array:
    """The ids (of ``ids``, default all) whose latest good version's payload lacks any of ``appends``."""
    latest = store.latest()
    good = latest.filter(pc.equal(latest.column("status"), OK))
    if ids is not None:
        good = good.filter(pc.is_in(good.column("movie_id"), value_set=ids))
    wanted = pa.array(appends, pa.string())

    def lacking(versions: pa.Table) -> pa.Table:
        missing = pc.struct_field(versions.column("typed").combine_chunks(), "missing_appends")
        flat = pc.list_flatten(missing)
        rows = pc.list_parent_indices(missing).filter(pc.is_in(flat, value_set=wanted))
        return versions.select(["movie_id"]).take(pc.unique(rows))

    parts = store.latest_versions(good, "typed", lacking)
    found = np.concatenate([p.column("movie_id").to_numpy() for p in parts]) if parts else np.array([], np.int64)
    return pa.array(np.sort(found), pa.int64())


def duration(requests: int, requests_per_second: float) -> str:
    """How long ``requests`` take at the rate, in words (``about 2 h 05 min``)."""
    seconds = requests / requests_per_second if requests_per_second > 0 else float("inf")
    if seconds == float("inf"):
        return "an unknown time"
    minutes = round(seconds / 60)
    return f"about {minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else \
        f"about {max(1, minutes)} min" if seconds >= 30 else f"about {seconds:.0f} s"


@dataclass
class RefetchReport:
    """What `refetch_missing` did."""

    appends: tuple[str, ...]
    lacking: int  # movies whose payload lacked any of the appends
    requested: int
    failed: list[int]
    years_rebuilt: list[int | None]
    still_lacking: int = 0  # answered without the append (a server that does not serve it)

    def describe(self) -> str:
        still = (f"; {self.still_lacking:,} answered without it (the server does not serve it for them)"
                 if self.still_lacking else "")
        return (f"{self.lacking:,} movies lacked {','.join(self.appends)}: {self.requested:,} requests, "
                f"{len(self.failed):,} failed; {len(self.years_rebuilt)} years rebuilt{still}")


async def refetch_missing(
    client: TMDbClient,
    lake: Lake,
    appends: tuple[str, ...],
    *,
    batch_size: int = 500,
    concurrency: int = 20,
    progress: Callable[[BatchProgress], None] | None = None,
    announce: Callable[[int], None] | None = None,
) -> RefetchReport:
    """Fetch again every movie whose stored payload lacks any of ``appends`` (``announce`` hears how many
    before the first request), then rebuild the years whose rows changed. A failed call keeps the old version
    (retried by running this again); what succeeded is stored."""
    asked = refetchable(lake, appends)
    store = DetailsStore(lake.details_store_dir)
    ids = movies_missing(store, appends).to_pylist()
    if announce is not None:
        announce(len(ids))
    result = await enrich(client, ids, store, batch_size=batch_size, concurrency=concurrency, refetch=ids,
                          progress=progress, appends=asked)
    store.compact_unless_busy()
    difference, _ = reconcile_years(lake)
    still = movies_missing(store, appends, pa.array(ids, pa.int64()))
    still = pc.filter(still, pc.invert(pc.is_in(still, value_set=pa.array(result.failed, pa.int64()))))
    if len(still):
        log.warning("%s of %s refetched movies still lack %s: the server answered without it", len(still),
                    len(ids), ",".join(appends))
    return RefetchReport(appends, len(ids), result.requested, result.failed, difference.years, len(still))
