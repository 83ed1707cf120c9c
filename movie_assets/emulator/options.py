"""`EmulatorOptions`: the emulator's behaviour knobs (frozen clock, auth, rate limits, latency, faults, drift)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal


@dataclass
class EmulatorOptions:
    """Behaviour knobs of the emulator (all reproducible for a given ``seed`` and request order).

    * ``rate_limit``: requests/second of a per-server token bucket (burst ``rate_limit_burst``, default
      ``max(1, rate_limit)``); excess requests get 429 / status_code 25, with ``Retry-After`` (whole
      seconds until a token is free) only when ``retry_after`` is true. None = unlimited.
    * ``image_rate_limit``: requests/second of a second token bucket (burst ``max(1, image_rate_limit)``) for
      the image host (``/t/p/`` only; the API's bucket never sees an image request): excess images get 429,
      with ``Retry-After`` as above. None = unlimited. The stats count image requests and their 429s.
    * ``latency`` (+ uniform ``latency_jitter``) seconds added to every API request.
    * ``error_rate``, ``hang_rate``, ``drop_rate``, ``truncate_rate``: disjoint fractions of API requests
      answered 500/502/503/504 (TMDb bodies), delayed ``hang_seconds`` before a normal answer, closed
      without a response, or answered 200 with a truncated (invalid) JSON body.
    * ``drift``: discover popularity is multiplied by ``1 + drift * U(-1, 1)`` drawn per request epoch
      (every discover request is a new epoch), reordering same-date ties and popularity pages.
    * ``page_error_style``: "live" (422 ``{"errors": [...]}``) or "documented" (400, status_code 22).
    * ``api_keys`` / ``tokens``: accepted ``api_key`` values / Bearer tokens; both empty = no auth.
    * ``as_of``: the frozen clock (``Date`` header, changes "today", details revision date).
    * ``date_header``: False = details answers (``/3/movie/{id}``) carry no ``Date`` header at all, as some
      proxies answer (every other answer keeps the frozen one, so "today" stays the emulator's).
      `RunningEmulator.configure` switches it on a running one.
    """

    seed: int = 0
    as_of: dt.datetime = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    rate_limit: float | None = None
    rate_limit_burst: float | None = None
    image_rate_limit: float | None = None
    retry_after: bool = True
    latency: float = 0.0
    latency_jitter: float = 0.0
    error_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    drift: float = 0.0
    page_error_style: Literal["live", "documented"] = "live"
    api_keys: frozenset[str] | set[str] = field(default_factory=frozenset)
    tokens: frozenset[str] | set[str] = field(default_factory=frozenset)
    date_header: bool = True

    def __post_init__(self) -> None:
        if self.page_error_style not in ("live", "documented"):
            raise ValueError("page_error_style must be 'live' or 'documented'")
        rates = (self.error_rate, self.hang_rate, self.drop_rate, self.truncate_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be >= 0 and sum to at most 1")
        if self.image_rate_limit is not None and self.image_rate_limit <= 0:
            raise ValueError("image_rate_limit must be > 0 (None: unlimited)")
        if self.as_of.tzinfo is None:
            self.as_of = self.as_of.replace(tzinfo=dt.UTC)
        self.api_keys = frozenset(self.api_keys)
        self.tokens = frozenset(self.tokens)
