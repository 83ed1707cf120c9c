"""Deterministic 64-bit mixing (a splitmix64-style finalizer) shared by the catalog and the server.

``mix64(a, b, c)`` folds its arguments one round at a time; `mix_round` is the same round vectorised
with numpy, so ``mix_round(mix64(a, b), array)[k] == mix64(a, b, array[k])``. A predicate evaluated per
movie and one evaluated over a whole id array therefore always agree.
"""

from __future__ import annotations

import numpy as np

MASK64 = (1 << 64) - 1
_INIT = 0x243F6A8885A308D3
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_GOLDEN = 0x9E3779B97F4A7C15


def mix64(*parts: int) -> int:
    """Hash any number of integers into one uniformly distributed 64-bit integer."""
    h = _INIT
    for part in parts:
        h = (h ^ (part & MASK64)) * _GOLDEN & MASK64
        h ^= h >> 30
        h = h * _M1 & MASK64
        h ^= h >> 27
        h = h * _M2 & MASK64
        h ^= h >> 31
    return h


def unit(*parts: int) -> float:
    """A deterministic float in [0, 1) derived from ``parts``."""
    return (mix64(*parts) >> 11) / float(1 << 53)


def mix_round(state: np.ndarray | int, value: np.ndarray | int) -> np.ndarray:
    """One vectorised mixing round: ``mix_round(mix64(*p), v) == mix64(*p, v)`` elementwise (uint64 array)."""
    s = np.atleast_1d(
        np.asarray(state, dtype=np.uint64) if not isinstance(state, int) else np.uint64(state)
    )
    v = np.atleast_1d(
        np.asarray(value).astype(np.uint64) if not isinstance(value, int) else np.uint64(value & MASK64)
    )
    h = (s ^ v) * np.uint64(_GOLDEN)
    h ^= h >> np.uint64(30)
    h *= np.uint64(_M1)
    h ^= h >> np.uint64(27)
    h *= np.uint64(_M2)
    h ^= h >> np.uint64(31)
    return h
