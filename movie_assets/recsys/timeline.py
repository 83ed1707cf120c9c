"""One global timeline for every user: ``train < val_start <= val < test_start <= test``.

Per-user splits (each user's last items as test) put one user's 2019 test next to another's 2021 training
events, so a model is trained on the future of what it is tested on. Here every interaction is split by its own
time against two cut-offs shared by all users. Cut-offs are configured (an ISO date or time) or taken as the
quantiles of the interactions' times by the rule the movie splits use (`release.splits.lower_quantiles`: 0.8 and
0.9 by default, ties on a cut-off going to the later split).

Optional strict item hold-out: all interactions of a seeded ``share`` of the items (``holdout="items"``) or of the
items released on or after ``val_start`` (``holdout="released_after_val"``) that fall before ``val_start`` are
labelled ``held_out`` instead of ``train`` (kept in the file, never trained on), so those items are cold in val and
test. Their later interactions stay in val/test: moving them would put an event on the wrong side of a cut-off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.common.hashing import finalize
from movie_assets.release.splits import lower_quantiles

TRAIN, VAL, TEST, HELD_OUT = "train", "val", "test", "held_out"
SPLITS = (TRAIN, VAL, TEST)
LABELS = (*SPLITS, HELD_OUT)
HOLDOUTS = ("none", "items", "released_after_val")
DEFAULT_QUANTILES = (0.8, 0.9)
TIME_TYPE = pa.timestamp("s", tz="UTC")


class SplitConfigError(ValueError):
    """A split setting is unusable; the message names it."""


@dataclass(frozen=True)
class SplitPolicy:
    """How a dataset's interactions are split (recorded in its manifest)."""

    val_start: str | None = None  # ISO date or time; None: the val quantile of the interactions' times
    test_start: str | None = None
    val_quantile: float = DEFAULT_QUANTILES[0]
    test_quantile: float = DEFAULT_QUANTILES[1]
    holdout: str = "none"
    holdout_share: float = 0.1  # of the items, for holdout="items"
    holdout_seed: int = 0

    def __post_init__(self) -> None:
        if self.holdout not in HOLDOUTS:
            raise SplitConfigError(f"holdout={self.holdout!r} is not one of {', '.join(HOLDOUTS)}")
        if not 0.0 < self.val_quantile <= self.test_quantile < 1.0:
            raise SplitConfigError(f"val_quantile={self.val_quantile} and test_quantile={self.test_quantile} must "
                                   "satisfy 0 < val_quantile <= test_quantile < 1")
        if not 0.0 < self.holdout_share < 1.0:
            raise SplitConfigError(f"holdout_share={self.holdout_share} must be between 0 and 1 (exclusive)")


def parse_time(value: str | None, setting: str) -> dt.datetime | None:
    """``"2024-01-31"`` (midnight UTC) or an ISO time (naive: UTC) → aware datetime, up to the whole second;
    blank → None."""
    if value is None or not str(value).strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise SplitConfigError(f"{setting}={value!r} is not an ISO date or time (2024-01-31 or "
                               "2024-01-31T12:00:00+00:00)") from None
    parsed = parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    # Interactions are whole seconds: a cut-off inside a second splits them as the next whole second does, and
    # that is the cut-off recorded (truncating it would put an event before the cut-off on its later side).
    return parsed.replace(microsecond=0) + dt.timedelta(seconds=1) if parsed.microsecond else parsed


@dataclass(frozen=True)
class Cutoffs:
    val_start: dt.datetime
    test_start: dt.datetime
    source: str  # "config", or which quantile each came from

    def as_dict(self) -> dict[str, str]:
        return {"val_start": self.val_start.isoformat(), "test_start": self.test_start.isoformat(),
                "source": self.source}


def resolve_cutoffs(timestamps: pa.ChunkedArray | pa.Array, policy: SplitPolicy) -> Cutoffs:
    """The configured cut-offs, or the policy's quantiles of ``timestamps``; validated (val_start <= test_start)."""
    val = parse_time(policy.val_start, "val_start")
    test = parse_time(policy.test_start, "test_start")
    sources = []
    if val is None or test is None:
        found = lower_quantiles(timestamps, (policy.val_quantile, policy.test_quantile))
        if not found:
            raise SplitConfigError("the dataset has no interactions, so no cut-off can be derived from them")
        if val is None:
            val = found[0]
            sources.append(f"val_start = {policy.val_quantile} quantile of the interactions' times")
        if test is None:
            test = max(found[1], val)
            sources.append(f"test_start = {policy.test_quantile} quantile of the interactions' times")
    if val > test:
        raise SplitConfigError(f"val_start={val.isoformat()} is after test_start={test.isoformat()}")
    return Cutoffs(val, test, "; ".join(sources) or "config")


def epoch_seconds(timestamps: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Whole seconds since the epoch of UTC timestamps of any unit (Parquet stores ``s`` as ``ms``)."""
    return pc.cast(pc.cast(timestamps, TIME_TYPE), pa.int64()).to_numpy(zero_copy_only=False)


def split_codes(timestamps: pa.ChunkedArray | pa.Array, cutoffs: Cutoffs) -> np.ndarray:
    """The split of each interaction by its time alone, as int8 codes into `LABELS` (0 train, 1 val, 2 test)."""
    seconds = epoch_seconds(timestamps)
    val, test = (int(c.timestamp()) for c in (cutoffs.val_start, cutoffs.test_start))
    return (seconds >= val).astype(np.int8) + (seconds >= test).astype(np.int8)


def held_out_items(movie_ids: np.ndarray, release_dates: pa.Array, policy: SplitPolicy, cutoffs: Cutoffs) -> np.ndarray:
    """The movie ids held out by ``policy`` among ``movie_ids`` (sorted), given each one's release date."""
    if policy.holdout == "none":
        return np.zeros(0, np.int64)
    if policy.holdout == "items":
        # A seeded hash of the id, not a shuffle: an item's fate does not depend on which other items exist.
        draws = finalize(movie_ids.astype(np.uint64) ^ np.uint64(policy.holdout_seed * 0x9E3779B97F4A7C15 % 2**64))
        return np.sort(movie_ids[draws < np.uint64(int(policy.holdout_share * 2**64))])
    dates = pc.fill_null(release_dates, dt.date(1, 1, 1))
    released_late = pc.greater_equal(dates, pa.scalar(cutoffs.val_start.date(), pa.date32())).to_numpy(
        zero_copy_only=False)
    return np.sort(movie_ids[released_late])
