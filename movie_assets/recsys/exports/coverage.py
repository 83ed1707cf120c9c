"""``reports/modality_coverage.json`` of an export: which items of each split have each modality, warm against
cold, and by release decade — a model's score on cold items depends on it, and a missing modality is data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc

from movie_assets.recsys.exports.inputs import ExportInputs
from movie_assets.recsys.timeline import SPLITS


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _coverage(mask: np.ndarray, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {"items": int(mask.sum())}
    for modality, present in arrays.items():
        out[modality] = _share(int((mask & present).sum()), int(mask.sum()))
    return out


def modality_coverage(inputs: ExportInputs) -> dict[str, Any]:
    items = inputs.items
    arrays = {a.modality: a.present for a in (inputs.text, inputs.image) if a is not None}
    report: dict[str, Any] = {"all_items": _coverage(np.ones(items.num_rows, bool), arrays), "splits": {},
                              "by_decade": {}}
    for split in SPLITS:
        used = items.column(f"n_{split}").to_numpy() > 0
        entry = _coverage(used, arrays)
        if split != "train":
            cold = pc.fill_null(items.column(f"cold_in_{split}"), False).to_numpy(zero_copy_only=False)
            entry["warm"] = _coverage(used & ~cold, arrays)
            entry["cold"] = _coverage(used & cold, arrays)
        report["splits"][split] = entry
    years = pc.year(items.column("release_date")).to_numpy(zero_copy_only=False)
    decades = np.where(np.isnan(years.astype(float)), -1, (np.nan_to_num(years.astype(float)) // 10 * 10)).astype(int)
    for decade in sorted(set(decades.tolist())):
        label = "undated" if decade < 0 else f"{decade}s"
        report["by_decade"][label] = _coverage(decades == decade, arrays)
    return report
