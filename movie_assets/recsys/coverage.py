"""The bridge's report (``reports/bridge_coverage.json``) and a bridged source put together as `SourceEvents`.

The report says how many source movies (bridge rows) and events each reason took, the share of events kept
(a warning below `WARN_SHARE`, an error below the source's floor), the most-rated movies that were dropped,
coverage by decade, and the reconciliation of `movie_assets.recsys.bridge.reconcile_bridge`: a source whose
events do not add up is an error, so the builder writes no dataset from it.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.recsys.bridge import KEPT_REASONS, NOT_IN_LAKE, NOT_IN_LAKE_DETAILS, REASONS, reconcile_bridge
from movie_assets.recsys.events import InputFile, SourceError, SourceEvents

WARN_SHARE = 0.95  # below this share of events kept, the source carries a warning
TOP_UNMATCHED = 20


def check_floor(floor: float, setting: str = "floor") -> float:
    """``floor`` as a share of events (0 to 1); `SourceError` naming ``setting`` otherwise."""
    try:
        value = float(floor)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise SourceError(f"{setting}={floor!r} is not a share of events between 0 and 1 (such as 0.5)")
    return value


def _counts(bridge: pa.Table) -> dict[str, Any]:
    return {"movies": bridge.num_rows, "events": int(pc.sum(bridge.column("events")).as_py() or 0)}


def _decades(bridge: pa.Table) -> list[dict[str, Any]]:
    rows: dict[int | None, dict[str, int]] = {}
    for year, events, kept in zip(*(bridge.column(c).to_pylist() for c in ("year", "events", "kept")), strict=True):
        row = rows.setdefault(None if year is None else year // 10 * 10, {"movies": 0, "events": 0, "events_kept": 0})
        row["movies"] += 1
        row["events"] += events
        row["events_kept"] += events if kept else 0
    return [{"decade": "unknown" if decade is None else f"{decade}s", **row,
             "events_kept_share": round(row["events_kept"] / row["events"], 6) if row["events"] else None}
            for decade, row in sorted(rows.items(), key=lambda item: (item[0] is None, item[0] or 0))]


def _top_unmatched(bridge: pa.Table) -> list[dict[str, Any]]:
    dropped = bridge.filter(pc.and_(pc.invert(bridge.column("kept")), pc.greater(bridge.column("events"), 0)))
    order = pc.sort_indices(dropped, sort_keys=[("events", "descending")])  # stable: ties keep the bridge's order
    top = dropped.take(order[:TOP_UNMATCHED])
    return [{"source_item_id": r["source_item_id"], "title": r["title"], "events": r["events"],
             "reason": r["reason"], "detail": r["detail"]}
            for r in top.select(["source_item_id", "title", "events", "reason", "detail"]).to_pylist()]


def coverage_report(bridge: pa.Table, events_read: int, events_kept: int,
                    floor: float) -> tuple[dict[str, Any], list[str], list[str]]:
    """The ``bridge_coverage`` report of ``bridge``, and the warnings and errors it gives rise to."""
    share = events_kept / events_read if events_read else 0.0
    passed, description, metadata = reconcile_bridge(bridge, events_read, events_kept)
    reasons = {}
    for reason in REASONS:
        rows = bridge.filter(pc.equal(bridge.column("reason"), reason))
        reasons[reason] = {**_counts(rows), "kept": reason in KEPT_REASONS}
        if reason == NOT_IN_LAKE:
            reasons[reason]["details"] = {detail: _counts(rows.filter(pc.equal(rows.column("detail"), detail)))
                                          for detail in NOT_IN_LAKE_DETAILS}
    kept_items = int(pc.sum(pc.cast(bridge.column("kept"), pa.int64())).as_py() or 0)
    report = {
        "movies": bridge.num_rows, "movies_kept": kept_items,
        "events_read": events_read, "events_kept": events_kept, "events_dropped": events_read - events_kept,
        "events_kept_share": round(share, 6), "floor": floor, "warn_below": WARN_SHARE,
        "events_without_bridge_row": 0,  # every item read has its row (MovieLens: rated ids links.csv lacks too)
        "reasons": reasons, "top_unmatched": _top_unmatched(bridge), "by_decade": _decades(bridge),
        "reconciliation": {"passed": passed, "description": description, **metadata},
    }
    warnings, errors = [], []
    summary = f"{events_kept} of {events_read} events ({share:.1%}) reached a lake movie"
    if not passed:
        errors.append(f"bridge reconciliation failed: {description}")
    if share < floor:
        errors.append(f"{summary}, under the floor of {floor:.0%}: the bridge drops too much (see "
                      "reports/bridge_coverage.json for why); lower the floor only if that is expected")
    elif share < WARN_SHARE:
        warnings.append(f"{summary}, under {WARN_SHARE:.0%}: see reports/bridge_coverage.json for the reasons")
    return report, warnings, errors


def bridged_source(kind: str, events: pa.Table, bridge: pa.Table, events_read: int, floor: float,
                   inputs: list[InputFile], **fields: Any) -> SourceEvents:
    """``events`` (already restricted to the kept items) and ``bridge`` as `SourceEvents`, with the bridge's report,
    warnings and errors; ``fields``: the other `SourceEvents` fields (policies, publishable, licence)."""
    report, warnings, errors = coverage_report(bridge, events_read, events.num_rows, floor)
    return SourceEvents(kind=kind, events=events, inputs=inputs, bridge=bridge,
                        reports={"bridge_coverage": report}, warnings=warnings, errors=errors, **fields)
