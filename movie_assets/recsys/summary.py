"""A built dataset in a few lines, for a person (the CLI and the demo print it)."""

from __future__ import annotations

import json
from pathlib import Path

from movie_assets.recsys.timeline import LABELS, SPLITS


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def describe(directory: Path) -> str:
    """Counts, cut-offs, split sizes, cold items and modality coverage, what the as-of features could see."""
    manifest = _read(directory / "manifest.json")
    split = _read(directory / "reports" / "split_summary.json")
    asof = _read(directory / "reports" / "feature_asof_coverage.json")
    bridge = _read(directory / "reports" / "bridge_coverage.json")
    counts, cut = manifest["counts"], manifest["cutoffs"]
    lines = [f"dataset {manifest['dataset']} ({directory})",
             f"  {counts['interactions']:,} interactions of {counts['users']:,} users on {counts['items']:,} items "
             f"(publishable: {'yes' if manifest['publishable'] else 'no'})",
             f"  cut-offs: val_start {cut['val_start']}, test_start {cut['test_start']}",
             "  per split: " + ", ".join(f"{k} {counts['per_split'].get(k, 0):,}" for k in LABELS)]
    if bridge:
        lines.append(f"  bridge: {bridge.get('events_kept_share', 0):.1%} of the source's events kept")
    for name in ("val", "test"):
        cold = split.get("cold_items", {}).get(name)
        if cold:
            poster = cold["poster_coverage"]
            lines.append(f"  cold items in {name}: {cold['items']:,} (text {cold['with_text']:,}, poster "
                         f"{'n/a' if poster is None else f'{poster:.0%}'})")
    coverage = split.get("modality_coverage", {})
    if coverage:
        lines.append(f"  modality coverage of the items: text {coverage['text'] or 0:.1%}, "
                     f"poster {coverage['poster'] or 0:.1%}")
    for name in SPLITS:
        found = asof.get("splits", {}).get(name)
        if found is None:
            continue
        lines.append(f"  features as of {found['as_of'][:10]} ({name}): {found['items_observed_by_cutoff']:,} of "
                     f"{found['items']:,} items observed by then, {found['items_from_after_cutoff']:,} editorial "
                     "from later (flagged)")
    for feature in manifest.get("features", []):
        lines.append(f"  {feature['file']}: {feature['rows']:,} x {feature['dimension']}, {feature['missing']:,} "
                     f"filled ({feature['fill']})")
    return "\n".join(lines)
