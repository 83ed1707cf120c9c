"""splitmix64, the one 64-bit mixer of the project: the emulator's deterministic catalog and the release's
seeded sample both derive their pseudo-random numbers from it.

`finalize` is splitmix64's output function (xor-shift, multiply, twice, xor-shift) over uint64 arrays with
wrapping arithmetic; `finalize_int` is the same on one Python int. `splitmix64(x)` is the classic
generator step ``finalize(x + golden gamma)``.
"""

from __future__ import annotations

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def finalize_int(z: int) -> int:
    """splitmix64's output function on one unsigned 64-bit integer."""
    z &= MASK64
    z ^= z >> 30
    z = z * _M1 & MASK64
    z ^= z >> 27
    z = z * _M2 & MASK64
    return z ^ (z >> 31)


def finalize(z: np.ndarray) -> np.ndarray:
    """splitmix64's output function, elementwise over a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.asarray(z, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
        return z ^ (z >> np.uint64(31))


def splitmix64(values: np.ndarray) -> np.ndarray:
    """One splitmix64 step per element: ``finalize(values + golden gamma)`` over uint64."""
    with np.errstate(over="ignore"):
        return finalize(np.asarray(values).astype(np.uint64) + np.uint64(GOLDEN_GAMMA))
