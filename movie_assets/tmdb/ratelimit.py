"""An adaptive token bucket shared by every call of one client.

Requests are spaced ``1 / rate`` seconds apart (a bucket of depth one, so the client never bursts above
the server's limit). A 429 halves the rate and can pause every caller until a ``Retry-After`` deadline;
the rate then climbs back by 10 % per `recover_every` successful requests until it reaches the target.
A burst of 429s answering requests that were already in flight counts as one signal: the rate is halved
at most once per `cooldown` seconds (otherwise twenty concurrent 429s would divide it by a million).
"""

from __future__ import annotations

import asyncio
import time


class AdaptiveRateLimiter:
    """Token bucket of depth one whose rate backs off on 429 and recovers gradually."""

    def __init__(self, rate: float, *, min_rate: float = 0.5, recover_every: int = 50, cooldown: float = 1.0):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.target_rate = float(rate)
        self.rate = float(rate)
        self.min_rate = min(min_rate, rate)
        self.recover_every = recover_every
        self.cooldown = cooldown
        self._next_slot = 0.0
        self._successes = 0
        self._last_penalty = float("-inf")

    async def acquire(self) -> None:
        """Wait for this caller's slot. Slots are reserved in call order, so waiting is fair."""
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    def penalize(self, retry_after: float | None = None) -> None:
        """A 429 arrived: halve the rate, and hold every caller back until ``retry_after`` has passed."""
        now = time.monotonic()
        if now - self._last_penalty >= self.cooldown:
            self._last_penalty = now
            self.rate = max(self.min_rate, self.rate / 2)
        self._successes = 0
        if retry_after:
            self._next_slot = max(self._next_slot, now + retry_after)

    def record_success(self) -> None:
        """A request succeeded: after enough of them, move the rate 10 % back towards the target."""
        if self.rate >= self.target_rate:
            return
        self._successes += 1
        if self._successes >= self.recover_every:
            self._successes = 0
            self.rate = min(self.target_rate, self.rate * 1.1)
