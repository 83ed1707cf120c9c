"""One observation of one movie: what a details call gave (`DetailsRecord`) and the row the store keeps of it.

The statuses (ok, not_found), where its time comes from (the answer's ``Date``, this machine's clock, or the
clock rule's adjustment) and the columns derived from its payload (content hash, release year, adult/video
flags) are decided here; `movie_assets.harvest.store` writes and reads the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

# ok: a good answer; not_found: TMDb answered 404 (also how a movie that left the daily export is recorded,
# once the sync has asked about it); failed: never stored.
OK, NOT_FOUND, FAILED = "ok", "not_found", "failed"
DONE_STATUSES = frozenset({OK, NOT_FOUND})
# Where ``observed_at`` comes from: the answer's Date header, this machine's clock (no Date header), or the
# stored latest observation of the movie plus 1 µs (the server's clock stepped back: see `DetailsStore.append`).
SERVER_CLOCK, LOCAL_CLOCK, ADJUSTED_CLOCK = "server", "local", "adjusted"
TICK = dt.timedelta(microseconds=1)
@dataclass(frozen=True)
class DetailsRecord:
    """The outcome of one details call (``payload``: the canonical details JSON, for ``ok``)."""

    movie_id: int
    status: str
    harvested_at: dt.datetime | None
    payload: str | None
    error: str | None = None
    clock: str = SERVER_CLOCK  # LOCAL_CLOCK: the answer had no Date header, harvested_at is this machine's
    fetched_at: dt.datetime | None = None  # this machine's clock when the answer arrived

    def details(self) -> dict[str, Any] | None:
        return json.loads(self.payload) if self.payload else None


def content_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def release_year(payload: str | dict[str, Any]) -> int | None:
    """The year of the payload's ``release_date`` (None when TMDb has no date)."""
    details = json.loads(payload) if isinstance(payload, str) else payload
    value = details.get("release_date") or ""
    try:
        return dt.date.fromisoformat(str(value)[:10]).year
    except ValueError:
        return None


def ordered_time(record: DetailsRecord, stored: tuple[dt.datetime, dt.datetime | None] | None, *,
                 changed: bool = False) -> tuple[dt.datetime, str]:
    """``record``'s observation time and clock under the clock rule of `DetailsStore.append`, given the stored
    latest version's (observed, fetched) times and whether its content differs from that version's."""
    if changed and stored is not None and record.harvested_at == stored[0]:
        if stored[1] is None or record.fetched_at is None or record.fetched_at >= stored[1]:
            # New content in the same second (a refetch right after a fetch): later, so every reader that
            # compares observation times — the reconciliation included — sees the change.
            return stored[0] + TICK, ADJUSTED_CLOCK
        return stored[0] - TICK, ADJUSTED_CLOCK  # received before the stored one: it stays older
    if stored is None or record.harvested_at >= stored[0] or record.fetched_at is None:  # a tie: later append wins
        return record.harvested_at, record.clock
    if stored[1] is None or record.fetched_at > stored[1]:
        return stored[0] + TICK, ADJUSTED_CLOCK
    return record.harvested_at, record.clock


def payload_flag(details: dict[str, Any] | None, name: str) -> bool | None:
    """A boolean flag of the payload (None without one)."""
    return bool(details.get(name)) if isinstance(details, dict) else None


def version_row(record: DetailsRecord, known_hashes: dict[int, str],
                times: dict[int, tuple[dt.datetime, dt.datetime | None]]) -> dict[str, Any]:
    """The store's row for ``record`` (its payload kept only when its content is new for the movie), updating
    ``known_hashes`` and ``times`` (see `DetailsStore.append`)."""
    digest = content_hash(record.payload) if record.payload else None
    changed = known_hashes.get(record.movie_id) not in (None, digest)
    latest = times.get(record.movie_id)
    observed, clock = ordered_time(record, latest, changed=changed)
    stored = digest is not None and known_hashes.get(record.movie_id) != digest
    details = json.loads(record.payload) if record.payload else None
    if latest is None or observed >= latest[0]:  # the new latest version: what the next record is ordered against
        times[record.movie_id] = (observed, record.fetched_at)
        if digest is not None:
            known_hashes[record.movie_id] = digest
    return {
        "movie_id": record.movie_id,
        "observed_at": observed,
        "fetched_at": record.fetched_at,
        "status": record.status,
        "content_hash": digest,
        "release_year": release_year(details) if details is not None else None,
        "adult": payload_flag(details, "adult"),
        "video": payload_flag(details, "video"),
        "clock": clock,
        "has_payload": stored,
        "payload": record.payload if stored else None,
    }
