"""Deterministic 64-bit mixing (splitmix64's finalizer, `movie_assets.common.hashing`) shared by the
catalog and the server.

``mix64(a, b, c)`` folds its arguments one round at a time; `mix_round` is the same round vectorised
with numpy, so ``mix_round(mix64(a, b), array)[k] == mix64(a, b, array[k])``. A predicate evaluated per
movie and one evaluated over a whole id array therefore always agree.
"""

from __future__ import annotations

import numpy as np

from movie_assets.common.hashing import GOLDEN_GAMMA, MASK64, finalize, finalize_int

_INIT = 0x243F6A8885A308D3


def mix64(*parts: int) -> int:
    """Hash any number of integers into one uniformly distributed 64-bit integer."""
    h = _INIT
    for part in parts:
        h = finalize_int((h ^ (part & MASK64)) * GOLDEN_GAMMA)
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
    with np.errstate(over="ignore"):
        return finalize((s ^ v) * np.uint64(GOLDEN_GAMMA))
