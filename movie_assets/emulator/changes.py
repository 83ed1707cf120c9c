"""Which movies change on which day, and how many times a movie has changed as of a date.

Movie ``m`` changes on day ``d`` iff ``mix64(seed, S, d, m) < probability * 2**64``; its revision as of a
date is the number of such days since 2012-10-05. The per-day scan hashes all ids at once and the
per-movie count hashes all days at once (`mix_round`), over the same hash, so the two always agree.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from .hashing import mix64, mix_round

CHANGES_START = dt.date(2012, 10, 5)
_S_CHANGE = 104  # salt of the change stream (the catalog's streams are salted 101-108, one per purpose)


class ChangeCalendar:
    """Deterministic per-day change sets over the ids returned by ``all_ids`` (called once, lazily)."""

    def __init__(self, seed: int, probability: float, all_ids: Callable[[], np.ndarray]) -> None:
        self.seed = seed
        self._threshold = np.uint64(int(probability * (1 << 64)))
        self._all_ids = all_ids
        self._ids: np.ndarray | None = None
        self._days: OrderedDict[int, np.ndarray] = OrderedDict()  # LRU: day ordinal -> changed ids
        self._day_states: np.ndarray | None = None
        self._lock = threading.Lock()  # the caches may be touched from the server thread and the caller's

    def changed_on(self, day: dt.date) -> np.ndarray:
        """Ids changed on ``day``, in hash order (empty before 2012-10-05)."""
        with self._lock:
            key = day.toordinal()
            cached = self._days.get(key)
            if cached is not None:
                return cached
            if day < CHANGES_START:
                result = np.zeros(0, np.int64)
            else:
                if self._ids is None:
                    self._ids = self._all_ids()
                ids = self._ids
                h = mix_round(mix64(self.seed, _S_CHANGE, key), ids)  # == mix64(seed, S, day, id)
                hit = np.flatnonzero(h < self._threshold)
                result = ids[hit[np.argsort(h[hit], kind="stable")]]
            self._days[key] = result
            if len(self._days) > 64:
                self._days.popitem(last=False)
            return result

    def changed_ids(self, start: dt.date, end: dt.date) -> list[int]:
        """Ids changed on any day in ``[start, end]``, deduplicated, in first-change order."""
        seen: dict[int, None] = {}
        day = start
        while day <= end:
            for movie_id in self.changed_on(day).tolist():
                seen.setdefault(movie_id, None)
            day += dt.timedelta(days=1)
        return list(seen)

    def revision(self, movie_id: int, as_of: dt.date) -> int:
        """How many times ``movie_id`` changed between 2012-10-05 and ``as_of`` (inclusive)."""
        if as_of < CHANGES_START:
            return 0
        n_days = as_of.toordinal() - CHANGES_START.toordinal() + 1
        states = self._day_states
        if states is None or states.shape[0] < n_days:
            days = np.arange(CHANGES_START.toordinal(), CHANGES_START.toordinal() + max(n_days, 6000))
            states = self._day_states = mix_round(mix64(self.seed, _S_CHANGE), days)  # == mix64(seed, S, day)
        h = mix_round(states[:n_days], movie_id)  # == mix64(seed, S, day, id), as in `changed_on`
        return int(np.count_nonzero(h < self._threshold))
