"""The reports of a dataset (``reports/*.json`` in its folder): the split, the items' availability, what the
as-of features could see. Counts are exact; shares are rounded to 4 places."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import Lake
from movie_assets.recsys import asof, timeline
from movie_assets.recsys.indexes import Indexed


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def per_split(indexed: Indexed) -> dict[str, int]:
    """Interactions per split label (train, val, test, held_out)."""
    counts = np.bincount(indexed.codes, minlength=len(timeline.LABELS))
    return {label: int(counts[code]) for code, label in enumerate(timeline.LABELS)}


def split_summary(indexed: Indexed, items: pa.Table, users: pa.Table, cutoffs: timeline.Cutoffs) -> dict[str, Any]:
    """Cut-offs; interactions, users and items per split; cold items per split and their modality coverage; users
    first seen after each cut-off."""
    out: dict[str, Any] = {"cutoffs": cutoffs.as_dict(), "interactions": per_split(indexed), "users": {},
                           "items": {}}
    for label in timeline.LABELS:
        out["users"][label] = int(pc.sum(pc.greater(users.column(f"n_{label}"), 0)).as_py() or 0)
        out["items"][label] = int(pc.sum(pc.greater(items.column(f"n_{label}"), 0)).as_py() or 0)
    has_text = items.column("has_text").to_numpy(zero_copy_only=False)
    has_poster = items.column("has_poster").to_numpy(zero_copy_only=False)
    out["cold_items"] = {}
    for split in ("val", "test"):
        cold = items.column(f"cold_in_{split}").to_numpy(zero_copy_only=False)
        out["cold_items"][split] = {"items": int(cold.sum()), "with_text": int((cold & has_text).sum()),
                                    "with_poster": int((cold & has_poster).sum()),
                                    "poster_coverage": _share(int((cold & has_poster).sum()), int(cold.sum()))}
    out["users_first_seen_after"] = {
        "val_start": int(pc.sum(users.column("first_seen_after_val_start")).as_py() or 0),
        "test_start": int(pc.sum(users.column("first_seen_after_test_start")).as_py() or 0)}
    out["modality_coverage"] = {"items": items.num_rows, "text": _share(int(has_text.sum()), items.num_rows),
                                "poster": _share(int(has_poster.sum()), items.num_rows)}
    return out


def availability(lake: Lake, indexed: Indexed, items: pa.Table) -> dict[str, Any]:
    """Interactions before their movie's earliest availability: the first of its harvested release events
    when it has any, else its release date. Counted and reported (previews and festival screenings are real),
    never dropped."""
    ids = items.column("movie_id").combine_chunks()
    now = asof.current_movies(lake, ids, ["release_date", "release_events"])
    release = asof.values_for(now, ids.to_numpy(), "release_date", pa.date32())
    events = asof.values_for(now, ids.to_numpy(), "release_events", now.schema.field("release_events").type) \
        if "release_events" in now.column_names else pa.nulls(len(ids), pa.list_(pa.struct([("date", pa.date32())])))
    earliest = []
    for date, evs in zip(release.to_pylist(), events.to_pylist(), strict=True):
        dates = [e["date"] for e in evs or [] if e.get("date") is not None]
        earliest.append(min(dates) if dates else date)
    day = pa.array(earliest, pa.date32())
    source = ["release_events" if evs and any(e.get("date") for e in evs) else "release_date"
              for evs in events.to_pylist()]
    start = timeline.epoch_seconds(day)
    known = pc.is_valid(day).to_numpy(zero_copy_only=False)
    item = indexed.interactions.column("item_index").to_numpy()
    seconds = timeline.epoch_seconds(indexed.interactions.column("timestamp"))
    early = known[item] & (seconds < np.where(known, start, 0)[item])
    per_label = np.bincount(indexed.codes[early], minlength=len(timeline.LABELS))
    return {
        "rule": "earliest availability = the first harvested release event's date, else release_date",
        "items_by_source": {s: source.count(s) for s in ("release_events", "release_date")},
        "items_without_date": int((~known).sum()),
        "interactions_before_availability": int(early.sum()),
        "share": _share(int(early.sum()), len(item)),
        "by_split": {label: int(per_label[code]) for code, label in enumerate(timeline.LABELS)},
        "items_with_early_interactions": int(len(np.unique(item[early]))),
    }


def interactions_observed(indexed: Indexed, split: str, features: pa.Table) -> dict[str, Any]:
    """The share of ``split``'s interactions whose item had a version observed by its features' cut-off."""
    seen = pc.is_valid(features.column("source_observed_at")).to_numpy(zero_copy_only=False)
    mask = indexed.codes == timeline.LABELS.index(split)
    item = indexed.interactions.column("item_index").to_numpy()[mask]
    return {"interactions": int(mask.sum()), "interactions_observed_by_cutoff": int(seen[item].sum()),
            "interactions_observed_share": _share(int(seen[item].sum()), int(mask.sum()))}
