"""An adaptive token bucket shared by every call of one client (AIMD: additive increase, multiplicative
decrease).

Requests are spaced ``1 / rate`` seconds apart (a bucket of depth one, so the client never bursts above
the server's limit). A 429 halves the rate and can pause every caller until a ``Retry-After`` deadline.
A burst of 429s answering requests that were already in flight counts as one signal: the rate is halved
at most once per `cooldown` seconds (otherwise twenty concurrent 429s would divide it by a million).

Once the 429s stop, the rate climbs back *additively*: each success adds ``target / recovery_seconds``
per second elapsed since the previous increase (at most `max_credit` seconds of it, so an idle spell is
no evidence the server would take more). From any rate the target is back within `recovery_seconds` of
successful traffic, whatever the request rate — the old multiplicative "10 % per 50 successes" needed
~18 minutes from 0.5 to 35 requests/s. The climb stops at the target, so a server whose limit equals the
configured rate sees no more than it did before the 429s.

With a `SharedRateSchedule` (``TMDB_RATE_SHARE_FILE``) every process calling the same API also takes its
slot from one schedule in a file: a request waits for its own slot (this process's adaptive spacing), then
reserves the next shared slot and waits for that, so the processes together never exceed the configured
rate. A 429's ``Retry-After`` pauses the shared schedule too, holding back every process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from .shared_rate import SharedRateSchedule

# Shared slots a request may give up for waking too late (see `AdaptiveRateLimiter.acquire`) before it goes
# anyway: a process too busy to keep any slot still makes progress.
MAX_MISSED = 3


class AdaptiveRateLimiter:
    """Token bucket of depth one whose rate halves on 429 and recovers linearly in time."""

    def __init__(
        self,
        rate: float,
        *,
        min_rate: float = 0.5,
        recovery_seconds: float = 20.0,
        cooldown: float = 1.0,
        max_credit: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedRateSchedule | None = None,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        if recovery_seconds <= 0:
            raise ValueError("recovery_seconds must be positive")
        self.target_rate = float(rate)
        self.rate = float(rate)
        self.min_rate = min(min_rate, rate)
        self.recovery_seconds = recovery_seconds
        self.cooldown = cooldown
        self.max_credit = max_credit
        self.clock = clock
        self.shared = shared
        self.missed_shared_slots = 0  # shared slots given up because this process woke too late for them
        self._next_slot = 0.0
        self._last_penalty = float("-inf")
        self._last_increase = float("-inf")

    @property
    def step_per_second(self) -> float:
        """How much the rate climbs per second of successful traffic after a 429."""
        return self.target_rate / self.recovery_seconds

    async def acquire(self) -> None:
        """Wait for this caller's slot. Slots are reserved in call order, so waiting is fair.

        With a shared schedule, a caller whose own slot has come reserves the next shared slot (at this
        process's current rate) and waits for it too: the later of the two. The shared slot is taken only
        when the request is otherwise ready, and a process reserves at its own pace, at most one slot per
        request in flight. A caller that wakes more than half a shared interval after its slot (its event
        loop was busy: a Parquet write, say) gives the slot up and takes a new one (at most `MAX_MISSED`
        times): sent late, it would land next to the following slot's request, and a server that allows
        little burst answers 429. The file operations take microseconds and are done inline."""
        now = self.clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)
        if self.shared is None:
            return
        for missed in range(MAX_MISSED + 1):
            shared_slot = self.shared.reserve(self.rate)
            wait = shared_slot - self.shared.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.shared.clock() - shared_slot <= self.shared.late_tolerance or missed == MAX_MISSED:
                return
            self.missed_shared_slots += 1

    def penalize(self, retry_after: float | None = None) -> None:
        """A 429 arrived: halve the rate (once per cooldown), and hold every caller back until
        ``retry_after`` seconds have passed (the caller caps it) — every process sharing the schedule too."""
        now = self.clock()
        if now - self._last_penalty >= self.cooldown:
            self._last_penalty = now
            self.rate = max(self.min_rate, self.rate / 2)
        self._last_increase = now  # recovery credit starts again after the latest 429
        if retry_after:
            self._next_slot = max(self._next_slot, now + retry_after)
            if self.shared is not None:
                self.shared.pause_until(self.shared.clock() + retry_after)

    def record_success(self) -> None:
        """A request succeeded: add ``step_per_second`` per second since the last increase (credited up
        to `max_credit` seconds), up to the target."""
        now = self.clock()
        if self.rate >= self.target_rate:
            self._last_increase = now
            return
        credit = min(self.max_credit, max(0.0, now - self._last_increase))
        self._last_increase = now
        self.rate = min(self.target_rate, self.rate + self.step_per_second * credit)
