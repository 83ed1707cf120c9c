"""Per-app mutable state of the emulator (catalog, options, counters, fault-stream position, caches)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import threading
import time
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .catalog import Catalog
from .options import EmulatorOptions

if TYPE_CHECKING:
    from .faults import TokenBucket

FAULT_KINDS = ("rate_limited", "unauthorized", "error", "hang", "drop", "truncate")
IMAGE_OUTCOMES = ("requests", "served", "not_found", "rate_limited", "other")
PER_SECOND_KEPT = 3600  # seconds of per-second request counts kept (the oldest are dropped)


class EmulatorStats:
    """Thread-safe request counters (read from any thread via `snapshot`). ``per_second`` counts the requests
    that arrived in each wall-clock second (``int(time.time())``, the last `PER_SECOND_KEPT` seconds), and
    ``first_at`` / ``last_at`` are the arrival times of the first and the latest: the rate the server saw,
    whoever sent it. ``images`` counts the image host's requests (``/t/p/``) by outcome: served (200), not
    found (404) and rate limited (429, `EmulatorOptions.image_rate_limit`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.requests_total = 0
            self.by_path: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.images: Counter[str] = Counter()
            self.per_second: Counter[int] = Counter()
            self.first_at: float | None = None  # time.time() of the first and the latest request
            self.last_at: float | None = None

    def request(self, kind: str) -> None:
        """Count one incoming request of endpoint family ``kind``."""
        now = time.time()
        second = int(now)
        with self._lock:
            if self.first_at is None:
                self.first_at = now
            self.last_at = now
            self.requests_total += 1
            self.by_path[kind] += 1
            if second not in self.per_second and len(self.per_second) >= PER_SECOND_KEPT:
                del self.per_second[min(self.per_second)]
            self.per_second[second] += 1

    def status(self, status: int) -> None:
        """Count one response status."""
        with self._lock:
            self.by_status[str(status)] += 1

    def image(self, status: int) -> None:
        """Count one answer of the image host."""
        outcome = {200: "served", 404: "not_found", 429: "rate_limited"}.get(status, "other")
        with self._lock:
            self.images["requests"] += 1
            self.images[outcome] += 1

    def fault(self, kind: str) -> None:
        """Count one injected fault."""
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self, per_second: bool = False) -> dict[str, Any]:
        """A JSON-ready copy of the counters (reproducible for a given seed and request order), with
        ``per_second`` ({second: requests}, wall-clock and so not reproducible) when asked."""
        with self._lock:
            extra = {
                "per_second": {str(k): v for k, v in sorted(self.per_second.items())},
                "first_at": self.first_at,
                "last_at": self.last_at,
            } if per_second else {}
            return {
                "requests_total": self.requests_total,
                "by_path": dict(sorted(self.by_path.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "faults": {k: self.faults.get(k, 0) for k in FAULT_KINDS},
                "images": {k: self.images.get(k, 0) for k in IMAGE_OUTCOMES},
                **extra,
            }


class AppState:
    """Mutable per-app state: counters, the fault stream, caches."""

    def __init__(self, catalog: Catalog, options: EmulatorOptions) -> None:
        self.catalog = catalog
        self.options = options
        self.stats = EmulatorStats()
        self.request_seq = 0  # sequence number of the last API request (keys the fault stream)
        self.discover_epoch = 0  # number of discover pages served (keys the popularity drift)
        self.bucket: TokenBucket | None = None  # the rate limiter, created by the first API request
        self.image_bucket: TokenBucket | None = None  # the image host's, created by the first image request
        self.changes_cache: OrderedDict[tuple[dt.date, dt.date, dt.date], list[int]] = OrderedDict()
        self.date_header = ""
        self.set_clock(options.as_of)

    def set_clock(self, as_of: dt.datetime) -> None:
        """Move the emulator's clock: the ``Date`` header, "today" of the changes feed and the exports, the
        details' revision date, and the day of the living catalog."""
        as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
        self.options.as_of = as_of
        self.date_header = email.utils.format_datetime(as_of.astimezone(dt.UTC), usegmt=True)
        self.catalog.set_day(as_of.astimezone(dt.UTC).date())

    def configure(self, **changes: Any) -> EmulatorOptions:
        """Change options of the running emulator in place (validated as a new `EmulatorOptions` would be):
        e.g. ``date_header=False``. A new ``as_of`` moves the clock; new rate limits start a new bucket."""
        names = {f.name for f in dataclasses.fields(EmulatorOptions)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise TypeError(f"unknown emulator options: {', '.join(unknown)}")
        updated = dataclasses.replace(self.options, **changes)
        for name in names:
            setattr(self.options, name, getattr(updated, name))
        if "as_of" in changes:
            self.set_clock(self.options.as_of)
        if {"rate_limit", "rate_limit_burst"} & set(changes):
            self.bucket = None
        if "image_rate_limit" in changes:
            self.image_bucket = None
        return self.options


STATE_KEY: web.AppKey[AppState] = web.AppKey("emulator_state", AppState)


def app_state(app: web.Application) -> AppState:
    """The emulator state of an app made by `build_app` (catalog, options, stats)."""
    return app[STATE_KEY]
