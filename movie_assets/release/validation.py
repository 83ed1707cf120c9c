"""Pure logic of the asset checks on movies_db and the release; `movie_assets.defs` wraps each in ``@asset_check``.

Each function returns a `CheckOutcome` (passed, a one-line description, plain-data metadata) so tests can
feed it bad data directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .common import list_lengths

# Thresholds; change here (the checks read them at run time).
MAX_ROW_DROP = 0.05  # fail when movies_db loses more than 5 % of its rows against the previous materialization
CREDITS_COVERAGE_THRESHOLD = 0.5  # fail when fewer than half of the movies have at least one cast member
NULL_SPIKE_THRESHOLD = 0.05  # warn when a column's missing rate rises by more than 5 percentage points
EXAMPLES = 10


@dataclass
class CheckOutcome:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def check_unique_ids(movie_ids: pa.Array | pa.ChunkedArray) -> CheckOutcome:
    counts = pc.value_counts(movie_ids).to_pylist()
    duplicated = sorted((c["values"], c["counts"]) for c in counts if c["counts"] > 1)
    nulls = movie_ids.null_count
    passed = not duplicated and nulls == 0
    description = (
        f"all {len(movie_ids)} movie_id values are unique" if passed
        else f"{len(duplicated)} movie_id values occur more than once, {nulls} are null"
    )
    return CheckOutcome(passed, description, {
        "rows": len(movie_ids),
        "duplicated_ids": len(duplicated),
        "null_ids": nulls,
        "examples": [v for v, _ in duplicated[:EXAMPLES]],
    })


def check_row_drop(current: int, previous: int | None, max_drop: float = MAX_ROW_DROP) -> CheckOutcome:
    if previous is None:
        return CheckOutcome(True, f"{current} rows; no previous materialization to compare with",
                            {"rows": current, "max_drop": max_drop})
    drop = (previous - current) / previous if previous > 0 else 0.0
    passed = drop <= max_drop
    verb = "dropped" if drop > 0 else "changed"
    return CheckOutcome(
        passed,
        f"rows {verb} from {previous} to {current} ({-drop:+.2%}); allowed drop {max_drop:.0%}",
        {"rows": current, "previous_rows": previous, "drop": round(drop, 6), "max_drop": max_drop},
    )


def check_image_urls(table: pa.Table) -> CheckOutcome:
    """``poster_url`` is null exactly when ``poster_path`` is (same for backdrops)."""
    metadata: dict[str, Any] = {}
    problems = []
    for kind in ("poster", "backdrop"):
        path_null = pc.is_null(table.column(f"{kind}_path"))
        url_null = pc.is_null(table.column(f"{kind}_url"))
        mismatch = pc.not_equal(path_null, url_null)
        count = int(pc.sum(mismatch).as_py() or 0) if table.num_rows else 0
        metadata[f"{kind}_mismatches"] = count
        if count:
            ids = table.column("movie_id").filter(mismatch).to_pylist()[:EXAMPLES]
            metadata[f"{kind}_examples"] = ids
            problems.append(f"{count} rows with {kind}_url null != {kind}_path null")
    passed = not problems
    return CheckOutcome(passed, "URLs are null exactly when paths are" if passed else "; ".join(problems), metadata)


def check_credits_coverage(table: pa.Table, threshold: float = CREDITS_COVERAGE_THRESHOLD) -> CheckOutcome:
    rows = table.num_rows
    with_cast = int(pc.sum(pc.greater(list_lengths(table, "cast"), 0)).as_py() or 0) if rows else 0
    with_director = int(pc.sum(pc.greater(list_lengths(table, "directors"), 0)).as_py() or 0) if rows else 0
    share = with_cast / rows if rows else 0.0
    passed = share >= threshold
    return CheckOutcome(
        passed,
        f"{share:.1%} of {rows} movies have at least one cast member (threshold {threshold:.0%})",
        {
            "rows": rows,
            "with_cast_share": round(share, 6),
            "with_director_share": round(with_director / rows, 6) if rows else 0.0,
            "threshold": threshold,
        },
    )


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
