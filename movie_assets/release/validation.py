"""Pure logic of the asset checks on the release (splits, profile); `movie_assets.defs.release` wraps each in
``@asset_check``. Each returns a `movie_assets.warehouse.validation.CheckOutcome`, so tests can feed it bad data
directly; the checks on ``movies_db`` are in `movie_assets.warehouse.validation`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.warehouse.validation import EXAMPLES, CheckOutcome

# Thresholds; change here (the checks read them at run time).
NULL_SPIKE_THRESHOLD = 0.05  # warn when a column's missing rate rises by more than 5 percentage points


def check_splits(splits: Mapping[str, pa.Table], all_ids: pa.Array | pa.ChunkedArray,
                 val_start: Any = None, test_start: Any = None) -> CheckOutcome:
    """No movie in two splits, every movie in one, and each split inside its cut-offs (when given)."""
    seen: dict[int, str] = {}
    overlaps: list[tuple[int, str, str]] = []
    for name, table in splits.items():
        for movie_id in table.column("movie_id").to_pylist():
            if movie_id in seen:
                overlaps.append((movie_id, seen[movie_id], name))
            else:
                seen[movie_id] = name
    expected = set(all_ids.to_pylist())
    missing = sorted(expected - seen.keys())
    extra = sorted(seen.keys() - expected)
    misplaced = []
    if val_start is not None and test_start is not None:
        val, test = pa.scalar(val_start, pa.date32()), pa.scalar(test_start, pa.date32())
        rules = {
            "train": lambda d: pc.less(d, val),
            "val": lambda d: pc.and_(pc.greater_equal(d, val), pc.less(d, test)),
            "test": lambda d: pc.greater_equal(d, test),
        }
        for name, table in splits.items():
            dates = table.column("release_date")
            ok = pc.is_null(dates) if name == "undated" else pc.fill_null(rules[name](dates), False)
            bad = table.column("movie_id").filter(pc.invert(ok)).to_pylist()
            misplaced += [(i, name) for i in bad]
    passed = not (overlaps or missing or extra or misplaced)
    parts = []
    if overlaps:
        parts.append(f"{len(overlaps)} movies in two splits")
    if missing:
        parts.append(f"{len(missing)} movies in no split")
    if extra:
        parts.append(f"{len(extra)} split movies not in movies_db")
    if misplaced:
        parts.append(f"{len(misplaced)} movies outside their split's cut-offs")
    return CheckOutcome(
        passed,
        f"{len(seen)} movies in exactly one split each" if passed else "; ".join(parts),
        {
            "split_sizes": {name: t.num_rows for name, t in splits.items()},
            "overlaps": len(overlaps),
            "missing": len(missing),
            "extra": len(extra),
            "misplaced": len(misplaced),
            "overlap_examples": [list(o) for o in overlaps[:EXAMPLES]],
            "missing_examples": missing[:EXAMPLES],
        },
    )


def check_null_spikes(current: Mapping[str, float], previous: Mapping[str, float] | None,
                      threshold: float = NULL_SPIKE_THRESHOLD) -> CheckOutcome:
    """Columns whose missing rate rose by more than ``threshold`` (absolute) since the previous profile."""
    if not previous:
        return CheckOutcome(True, "no previous profile to compare with", {"threshold": threshold})
    spikes = {
        column: {"previous": previous[column], "current": rate, "increase": round(rate - previous[column], 6)}
        for column, rate in sorted(current.items())
        if column in previous and rate - previous[column] > threshold
    }
    passed = not spikes
    description = (
        f"no column's missing rate rose by more than {threshold:.0%}" if passed
        else "missing rate spiked in " + ", ".join(
            f"{c} ({v['previous']:.1%} → {v['current']:.1%})" for c, v in spikes.items())
    )
    return CheckOutcome(passed, description, {"threshold": threshold, "spikes": spikes})
