"""Details for a list of movies — one call each, stored in batches in the details store.

Only movies the store holds no ``ok``/``not_found`` version of (plus any ids in ``refetch``) are requested.
Calls run concurrently through the shared client; finished records are appended to the store as one shard
per batch, so a killed run loses at most the batch in flight. A movie whose call still fails after the
client's retries is not stored (its previous version, if any, stays the latest); the caller decides to fail
the step (`EnrichResult.failed`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from movie_assets.common.concurrency import gather_or_cancel
from movie_assets.harvest.observations import (
    DONE_STATUSES,
    FAILED,
    LOCAL_CLOCK,
    NOT_FOUND,
    OK,
    SERVER_CLOCK,
    DetailsRecord,
)
from movie_assets.harvest.store import DetailsStore, StoreState
from movie_assets.lake import Lake
from movie_assets.lake.languages import lake_languages, translated
from movie_assets.lake.schema import DETAILS_APPENDS, wanted_appends
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.errors import TMDbAuthError, TMDbError, TMDbNotFound


@dataclass
class BatchProgress:
    """What a progress callback receives after each batch."""

    batch: int
    batches: int
    done: int
    total: int
    elapsed: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float:
        return (self.total - self.done) / self.rate if self.rate > 0 else float("inf")

    def describe(self) -> str:
        eta = f"{self.eta_seconds:.0f}s" if self.eta_seconds != float("inf") else "?"
        return (
            f"batch {self.batch}/{self.batches}: {self.done}/{self.total} movies, "
            f"{self.rate:.1f} movies/s, ETA {eta}"
        )


@dataclass
class EnrichResult:
    """The latest status of each wanted movie after the run, and the calls that failed."""

    statuses: dict[int, str]
    requested: int = 0
    errors: dict[int, str] = field(default_factory=dict)  # movie id -> why its call failed
    discarded_shards: list[str] = field(default_factory=list)
    fetched: frozenset[int] = frozenset()  # the movies this run requested

    @property
    def failed(self) -> list[int]:
        return sorted(self.errors)

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses.values() if s == status)


def chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def details_appends(lake: Lake) -> tuple[str, ...]:
    """What the details call appends for ``lake``: `DETAILS_APPENDS`, and ``translations`` when the lake
    keeps text in more languages than the primary one (`movie_assets.lake.languages`)."""
    return wanted_appends(with_translations=bool(translated(lake_languages(lake))))


async def fetch_one(client: TMDbClient, movie_id: int, appends: tuple[str, ...] = DETAILS_APPENDS) -> DetailsRecord:
    """One details call (with ``appends``) → one record. Auth errors propagate: no point continuing with a
    bad key."""
    try:
        response = await client.movie_details(movie_id, appends)
    except TMDbNotFound as exc:  # observed at the server's Date, as a good answer is
        when, clock = _observed_at(exc.server_time)
        return DetailsRecord(movie_id, NOT_FOUND, when, None, clock=clock, fetched_at=_now())
    except TMDbAuthError:
        raise
    except TMDbError as exc:
        return DetailsRecord(movie_id, FAILED, None, None, str(exc)[:500])
    if not isinstance(response.data, dict):  # e.g. a body of `null`: never stored as a movie
        return DetailsRecord(movie_id, FAILED, None, None, f"the answer is not a JSON object but {response.data!r:.80}")
    payload = json.dumps(response.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    when, clock = _observed_at(response.server_time)
    return DetailsRecord(movie_id, OK, when, payload, clock=clock, fetched_at=_now())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _observed_at(server_time: dt.datetime | None) -> tuple[dt.datetime, str]:
    """When an answer was observed: the server's ``Date``, else this machine's clock, marked as such."""
    if server_time is not None:
        return server_time, SERVER_CLOCK
    return _now().replace(microsecond=0), LOCAL_CLOCK


async def enrich(
    client: TMDbClient,
    movie_ids: Iterable[int],
    store: DetailsStore,
    *,
    batch_size: int = 500,
    concurrency: int = 20,
    refetch: Iterable[int] = (),
    progress: Callable[[BatchProgress], None] | None = None,
    state: StoreState | None = None,
    appends: tuple[str, ...] = DETAILS_APPENDS,
) -> EnrichResult:
    """Fetch details (with ``appends``: `details_appends` of the lake) for every id in ``movie_ids`` that the
    store does not already hold (each flush appends a shard under the store's lock; other processes may
    append between them).

    ``concurrency`` workers pull ids without pausing between batches (a batch barrier would drain the
    pipeline and waste rate); finished records are flushed as a shard whenever ``batch_size -
    concurrency`` have piled up, and a worker starts a request only while fewer than ``batch_size`` movies
    are unsaved (in flight, waiting in the buffer, or in a shard still being appended), so a kill loses at
    most ``batch_size`` movies even while an append is slow or waits for another writer.
    """
    wanted = sorted(set(movie_ids))
    state = state or store.state(wanted)  # the caller may have read it already
    statuses, hashes = state.statuses, state.hashes
    refetch_ids = set(refetch)
    todo = [i for i in wanted if i in refetch_ids or statuses.get(i) not in DONE_STATUSES]
    errors: dict[int, str] = {}
    concurrency = max(1, min(concurrency, len(todo)))
    flush_at = max(1, batch_size - concurrency)
    pending = iter(todo)
    buffer: list[DetailsRecord] = []
    started = time.monotonic()
    batches = max(1, -(-len(todo) // flush_at))
    flushed = {"shards": 0, "done": 0}

    flushing = asyncio.Lock()  # one append at a time per run: the store's own lock is per process
    # One permit per movie fetched but not yet in a shard: what a kill would lose is never more than a batch.
    unsaved = asyncio.Semaphore(max(1, batch_size))

    async def flush() -> None:
        async with flushing:
            if not buffer:
                return
            batch = buffer[:]
            buffer.clear()
            # In a thread: the append may wait for another process's writer, and the other workers keep
            # fetching (and the shared rate's slots keep being used) meanwhile.
            await asyncio.to_thread(store.append, batch, hashes, state.times)
            for _ in batch:
                unsaved.release()
            for record in batch:
                if record.status == FAILED:
                    errors[record.movie_id] = record.error or "failed"
                else:
                    statuses[record.movie_id] = record.status
                    errors.pop(record.movie_id, None)
            flushed["shards"] += 1
            flushed["done"] += len(batch)
        if progress:
            elapsed = time.monotonic() - started
            progress(BatchProgress(flushed["shards"], batches, flushed["done"], len(todo), elapsed))

    async def worker() -> None:
        for movie_id in pending:  # a shared iterator: each id goes to exactly one worker
            await unsaved.acquire()
            buffer.append(await fetch_one(client, movie_id, appends))
            if len(buffer) >= flush_at:
                await flush()

    if todo:
        await gather_or_cancel(worker() for _ in range(concurrency))
        await flush()
    return EnrichResult(
        statuses={i: statuses[i] for i in wanted if i in statuses},
        requested=len(todo),
        fetched=frozenset(todo),
        errors=errors,
        discarded_shards=store.discarded_shards,
    )
