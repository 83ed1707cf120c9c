"""One request rate shared by every process that calls the same API: a slot schedule in a small file.

TMDb limits requests per IP, not per client. Several processes (Dagster runs of different years with the
``tmdb`` pool raised, a sync, a `tmdb check`) each pacing themselves at ``TMDB_REQUESTS_PER_SECOND`` would
send that rate several times over. Instead each request takes the next free slot of one schedule kept in a
file: the file holds ``next_slot`` (wall-clock seconds, `time.time`); a reservation takes an exclusive
``fcntl.flock``, reads it, takes ``slot = max(now, next_slot)``, writes ``slot + 1 / rate`` and unlocks. The
caller then waits until its slot. So the requests of every process together are spaced ``1 / rate`` apart
(a bucket of depth one, as each client's own), whoever sends them, and nobody divides the rate by hand.
`pause_until` moves ``next_slot`` forward: a 429 with ``Retry-After`` seen by one process holds back all.

The lock is held for a read and a write of 16 bytes (microseconds on a local disk); nobody sleeps under it.
A caller that wakes more than `late_tolerance` (half an interval) after its slot should give it up and
reserve again, so no request lands next to another one's slot.

Where it works: across processes on one machine; across machines only on a shared filesystem whose locks
work (NFSv4, not every NFSv3 setup; not most FUSE filesystems) with clocks kept in step by NTP (a slot is
a wall-clock time). TMDb's limit is per IP, so every process behind one egress IP must use the same file
— and processes behind different IPs need not. An empty or garbled file, or a ``next_slot`` further ahead
than `max_ahead` (a file from elsewhere), or written at a time well after now (a wall clock stepped back),
starts the schedule afresh.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

MAGIC = b"tmdbrt02"
# magic, next_slot, and when it was written (both time.time() seconds): a reader whose clock is well before
# the writer's (a wall clock stepped back) starts afresh instead of waiting out the step.
RECORD = struct.Struct("<8sdd")
CLOCK_STEP_TOLERANCE = 5.0
# The furthest a legitimate next_slot can lie ahead: the longest honoured Retry-After (TMDB_RETRY_AFTER_MAX is
# at most 3600 s) plus a queue of waiting requests.
DEFAULT_MAX_AHEAD = 3600.0 + 600.0


def rate_share_key(base_url: str) -> str:
    """A short name for the API host of ``base_url``: 12 hex digits of the SHA-256 of ``host:port`` (the
    port implied by the scheme when absent), so two APIs (the emulator and real TMDb) never share a budget,
    and no credentials or paths enter the name."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return hashlib.sha256(f"{(parts.hostname or '').lower()}:{port}".encode()).hexdigest()[:12]


class SharedRateSchedule:
    """The slot schedule in file ``path`` for requests at ``rate`` per second in all (see the module doc).

    `open` creates the file (``0666`` less the umask; parent directories made) and keeps it open; `close`
    closes it. `reserve` and `pause_until` open it on first use."""

    def __init__(
        self,
        path: str | os.PathLike,
        rate: float,
        *,
        max_ahead: float = DEFAULT_MAX_AHEAD,
        clock: Callable[[], float] = time.time,
    ):
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError("rate must be a positive number")
        self.path = Path(path)
        self.rate = float(rate)
        self.max_ahead = max_ahead
        self.clock = clock
        # A request sent later than this after its slot should take a new one: it would land next to the
        # following slot's request (see `AdaptiveRateLimiter.acquire`).
        self.late_tolerance = 0.5 / self.rate
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"SharedRateSchedule({str(self.path)!r}, rate={self.rate:g})"

    def open(self) -> SharedRateSchedule:
        """Create (if needed) and open the file; `OSError` when it cannot be used for reading and writing."""
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                with _locked(fd):  # a filesystem without working locks fails here, not on the first request
                    # ... and one that cannot be written (a full disk, a device, a /proc file): the record is
                    # written back as it is, or a fresh one (no slot taken) where there is none yet
                    raw = os.pread(fd, RECORD.size, 0)
                    os.pwrite(fd, raw if len(raw) == RECORD.size else RECORD.pack(MAGIC, -math.inf, -math.inf), 0)
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        return self

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SharedRateSchedule:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def reserve(self, rate: float | None = None) -> float:
        """Take the next free slot (``time.time()`` seconds, never before now) and return it; the slot after
        it is ``1 / rate`` later, ``rate`` being the schedule's own or a caller's lower one (a caller slowed
        down by 429s takes more of the shared budget with each request)."""
        interval = 1.0 / min(rate or self.rate, self.rate)
        fd = self.open()._fd
        assert fd is not None
        with _locked(fd):
            now = self.clock()
            slot = max(now, self._read(fd, now))
            os.pwrite(fd, RECORD.pack(MAGIC, slot + interval, now), 0)
        return slot

    def pause_until(self, when: float) -> None:
        """No slot before ``when`` (``time.time()`` seconds) for anyone sharing the file."""
        fd = self.open()._fd
        assert fd is not None
        with _locked(fd):
            now = self.clock()
            if when > self._read(fd, now):
                os.pwrite(fd, RECORD.pack(MAGIC, min(when, now + self.max_ahead), now), 0)

    def next_slot(self) -> float:
        """The schedule's next free slot as stored (or now, for a new or garbled file)."""
        fd = self.open()._fd
        assert fd is not None
        with _locked(fd):
            now = self.clock()
            return max(now, self._read(fd, now))

    def _read(self, fd: int, now: float) -> float:
        """``next_slot`` from the file; ``-inf`` (start afresh) for an empty, short or garbled record, one
        further ahead than `max_ahead`, or one written at a time well after ``now`` (the clock went back)."""
        raw = os.pread(fd, RECORD.size, 0)
        if len(raw) != RECORD.size:
            return -math.inf
        magic, next_slot, written = RECORD.unpack(raw)
        if magic != MAGIC or not math.isfinite(next_slot) or next_slot > now + self.max_ahead:
            return -math.inf
        if written > now + CLOCK_STEP_TOLERANCE:
            return -math.inf
        return next_slot


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
