"""Pure logic of the checks on ``movies_db``: the blocking ones (unique ids, no row drop, image URLs, credits
coverage) and the warning about payloads that predate an append; `movie_assets.defs.warehouse.checks` wraps
each in ``@asset_check``.

Each function returns a `CheckOutcome` (passed, a one-line description, plain-data metadata) so tests can
feed it bad data directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.common.arrow import list_lengths
from movie_assets.warehouse.appends import missing_append_counts, movies_missing_any, refetch_command

# Thresholds; change here (the checks read them at run time).
MAX_ROW_DROP = 0.05  # fail when movies_db loses more than 5 % of its rows against the previous materialization
CREDITS_COVERAGE_THRESHOLD = 0.5  # fail when fewer than half of the movies have at least one cast member
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


def check_missing_appends(missing_appends: pa.Array | pa.ChunkedArray, appends: tuple[str, ...]) -> CheckOutcome:
    """Count the movies whose stored payload predates each of ``appends`` (`warehouse.appends`); fails (the
    check is a warning, never blocking) while any does: such movies are whole rows whose columns read from
    that append are null until a refetch, which the description names."""
    counts = missing_append_counts(missing_appends, appends)
    lacking = movies_missing_any(missing_appends, appends)
    command = refetch_command(counts)
    metadata: dict[str, Any] = {"rows": len(missing_appends), "movies_missing_any": lacking, "missing_appends": counts}
    if command is None:
        return CheckOutcome(True, f"every movie's payload has every append ({', '.join(appends)})", metadata)
    metadata["refetch_command"] = command
    missing = ", ".join(f"{append} ({count})" for append, count in counts.items() if count)
    return CheckOutcome(False, f"{lacking} of {len(missing_appends)} movies were fetched before an append of the "
                              f"details call: {missing}; their columns read from it are null (unknown) until "
                              f"fetched again: run `{command}`", metadata)
