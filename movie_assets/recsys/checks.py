"""The checks a dataset must pass before anyone trains on it, read from the files as written (the Dagster
checks are these, blocking): the indexes are dense, every feature array is aligned to them and holds the lake's
vectors, no interaction sits on the wrong side of a cut-off, no feature comes from after its cut-off, and the
bridge's counts reconcile."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.lake import Lake
from movie_assets.recsys import asof, features, timeline
from movie_assets.warehouse.history import movies_as_of
from movie_assets.warehouse.validation import CheckOutcome

SAMPLE_ROWS = 256


def read_manifest(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def dataset_schemas(directory: Path) -> dict[str, pa.Schema]:
    """The schema of each Parquet table of a dataset, by file stem (``interactions``, ``item_index``, …)."""
    return {path.stem: pq.read_schema(path) for path in sorted(directory.rglob("*.parquet"))}


def check_bridge(directory: Path) -> CheckOutcome:
    """The bridge's events per reason add up to the events the source read, and its kept events to the
    interactions written plus the exact repeats dropped (a source without a bridge passes)."""
    if not (directory / "bridge.parquet").exists():
        return CheckOutcome(True, "no bridge: the source's events are on the lake's movies already", {})
    manifest = read_manifest(directory)
    bridge = pq.read_table(directory / "bridge.parquet", columns=["kept", "events"])
    report = json.loads((directory / "reports" / "bridge_coverage.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    kept = int(pc.sum(bridge.filter(bridge.column("kept")).column("events")).as_py() or 0)
    total = int(pc.sum(bridge.column("events")).as_py() or 0)
    written = counts["interactions"] + counts["exact_repeats_dropped"]
    read = report.get("events_read")
    problems = []
    if read is not None and total + report.get("events_without_bridge_row", 0) != read:
        problems.append(f"the bridge accounts for {total:,} events, the source read {read:,}")
    if kept != written:
        problems.append(f"the bridge keeps {kept:,} events, the dataset holds {written:,} "
                        f"({counts['interactions']:,} interactions and {counts['exact_repeats_dropped']:,} repeats)")
    return CheckOutcome(not problems, "; ".join(problems) or f"{kept:,} of {total:,} events kept; counts reconcile",
                        {"events_read": read, "events_kept": kept, "interactions": counts["interactions"]})


def _dense(values: np.ndarray) -> bool:
    return bool(np.array_equal(values, np.arange(len(values))))


def check_indexes(directory: Path) -> CheckOutcome:
    """``item_index`` and ``user_index`` are 0..N-1 in order, movie and user ids unique, items with interactions
    first, and every interaction's indexes in range."""
    items = pq.read_table(directory / "item_index.parquet", columns=["item_index", "movie_id", "n_train", "n_val",
                                                                      "n_test", "n_held_out"])
    users = pq.read_table(directory / "user_index.parquet", columns=["user_index", "user_id"])
    interactions = pq.read_table(directory / "interactions.parquet", columns=["user_index", "item_index"])
    problems = []
    if not _dense(items.column("item_index").to_numpy()):
        problems.append("item_index is not 0..N-1 in order")
    if not _dense(users.column("user_index").to_numpy()):
        problems.append("user_index is not 0..U-1 in order")
    for table, column in ((items, "movie_id"), (users, "user_id")):
        if table.column(column).null_count or pc.count_distinct(table.column(column)).as_py() != table.num_rows:
            problems.append(f"{column} is not unique and non-null")
    used = sum(items.column(f"n_{label}").to_numpy() for label in timeline.LABELS) > 0
    if used.any() and not used[: int(used.sum())].all():
        problems.append("an item without interactions comes before one with")
    for column, size in (("item_index", items.num_rows), ("user_index", users.num_rows)):
        values = interactions.column(column)
        if interactions.num_rows and (pc.min(values).as_py() < 0 or pc.max(values).as_py() >= size):
            problems.append(f"interactions hold a {column} outside 0..{size - 1}")
    return CheckOutcome(not problems, "; ".join(problems) or
                        f"{items.num_rows} items and {users.num_rows} users densely indexed; interactions in range",
                        {"items": items.num_rows, "users": users.num_rows})


def _fill_rows_ok(rows: np.ndarray, sidecar: dict[str, Any]) -> bool:
    if not len(rows):
        return True
    if sidecar["fill"] == "none":
        return bool(np.isnan(rows).all())
    expected = np.zeros(rows.shape[1], np.float32) if sidecar["fill"] == "zeros" else np.asarray(
        sidecar["fill_value"], np.float32)
    return bool((rows.view(np.uint32) == expected.view(np.uint32)).all())


def check_feature_arrays(lake: Lake, directory: Path, sample: int = SAMPLE_ROWS) -> CheckOutcome:
    """Every ``features/*.npy`` has one row per item; for ``sample`` seeded rows with a vector the row is
    byte-equal to the lake's vector of that movie under the recorded key (text content hash, poster sha256);
    every row without one holds exactly the declared fill."""
    items = pq.read_table(directory / "item_index.parquet", columns=["movie_id", "has_text", "has_poster",
                                                                      "text_content_hash", "poster_sha256"])
    problems, checked = [], {}
    for sidecar_file in sorted((directory / "features").glob("*.json")):
        sidecar = json.loads(sidecar_file.read_text(encoding="utf-8"))
        if sidecar.get("row") != "item_index":
            continue  # not a feature array's sidecar (feature_policy.json)
        array = np.load(sidecar_file.with_suffix(".npy"), allow_pickle=False)
        name, modality = sidecar_file.stem, sidecar["modality"]
        if array.shape[0] != items.num_rows or array.dtype != np.float32:
            problems.append(f"{name}: {array.shape[0]} rows of {array.dtype}, expected {items.num_rows} of float32")
            continue
        present = features.present_mask(items, f"has_{modality}")
        if not _fill_rows_ok(array[~present], sidecar):
            problems.append(f"{name}: a row without a {modality} vector does not hold the declared fill")
        rows = np.flatnonzero(present)
        chosen = np.sort(np.random.default_rng(0).choice(rows, min(sample, len(rows)), replace=False))
        key_column = "text_content_hash" if modality == features.TEXT else "poster_sha256"
        ids, keys = items.column("movie_id").to_pylist(), items.column(key_column).to_pylist()
        wanted = {ids[r]: keys[r] for r in chosen}
        lake_rows = features.vectors_by_key(lake, modality, wanted)
        differing = [int(r) for r in chosen if ids[r] not in lake_rows
                     or array[r].tobytes() != lake_rows[ids[r]].astype(np.float32).tobytes()]
        if differing:
            problems.append(f"{name}: {len(differing)} of {len(chosen)} sampled rows differ from the lake's vector "
                            f"(item_index {differing[:5]}); build the dataset again")
        checked[name] = len(chosen)
    return CheckOutcome(not problems, "; ".join(problems) or f"feature arrays aligned and equal to the lake: {checked}",
                        {"sampled_rows": checked})


def check_split(directory: Path) -> CheckOutcome:
    """No interaction on the wrong side of a cut-off, no interaction twice, every cold item with a text vector."""
    manifest = read_manifest(directory)
    cut = {k: int(dt.datetime.fromisoformat(manifest["cutoffs"][k]).timestamp()) for k in ("val_start", "test_start")}
    table = pq.read_table(directory / "interactions.parquet", columns=["user_index", "item_index", "timestamp",
                                                                        "event", "split"])
    seconds = timeline.epoch_seconds(table.column("timestamp"))
    split = table.column("split").to_numpy(zero_copy_only=False)
    wrong = {
        "train": int(((split == "train") & (seconds >= cut["val_start"])).sum()),
        "held_out": int(((split == "held_out") & (seconds >= cut["val_start"])).sum()),
        "val": int(((split == "val") & ((seconds < cut["val_start"]) | (seconds >= cut["test_start"]))).sum()),
        "test": int(((split == "test") & (seconds < cut["test_start"])).sum()),
        "unknown_label": int((~np.isin(split, timeline.LABELS)).sum()),
    }
    keys = table.select(["user_index", "item_index", "timestamp", "event"])
    repeats = table.num_rows - keys.group_by(keys.column_names, use_threads=False).aggregate([]).num_rows
    items = pq.read_table(directory / "item_index.parquet", columns=["item_index", "cold_in_val", "cold_in_test",
                                                                      "has_text"])
    cold = pc.or_(items.column("cold_in_val"), items.column("cold_in_test"))
    cold_without_text = items.filter(pc.and_(cold, pc.invert(items.column("has_text")))).column("item_index")
    problems = [f"{n} {label} interactions on the wrong side of a cut-off" for label, n in wrong.items() if n]
    if repeats:
        problems.append(f"{repeats} interactions appear twice")
    if len(cold_without_text):
        problems.append(f"{len(cold_without_text)} cold items have no text vector (item_index "
                        f"{cold_without_text.to_pylist()[:5]}); embed their years, then build again")
    return CheckOutcome(not problems, "; ".join(problems) or "every interaction on its side of the cut-offs, none "
                        "twice, every cold item with a text vector",
                        {"wrong_side": wrong, "repeats": repeats, "cold_without_text": len(cold_without_text)})


def _dynamic_differing(lake: Lake, table: pa.Table, cutoff: dt.datetime, past: dict[dt.datetime, pa.Table]) -> int:
    """Rows whose dynamic values differ from the lake's history read again at ``cutoff`` (`movies_as_of`)."""
    if cutoff not in past:
        known = movies_as_of(lake, cutoff)
        past[cutoff] = known.select(["movie_id", *asof.DYNAMIC]).sort_by("movie_id")
    ids = table.column("movie_id").to_numpy()
    differing = np.zeros(table.num_rows, bool)
    for column in asof.DYNAMIC:
        expected = asof.values_for(past[cutoff], ids, column, table.schema.field(column).type)
        same = pc.fill_null(pc.equal(table.column(column), expected),
                            False).to_numpy(zero_copy_only=False) if len(ids) else np.zeros(0, bool)
        both_null = (pc.is_null(table.column(column)).to_numpy(zero_copy_only=False)
                     & pc.is_null(expected).to_numpy(zero_copy_only=False))
        differing |= ~(same | both_null)
    return int(differing.sum())


def check_no_future_features(directory: Path, lake: Lake | None = None) -> CheckOutcome:
    """In every ``item_features_asof_*`` file: no dynamic value without a version observed by the cut-off, no
    such version after it, editorial values from after it flagged, train counts recounted from train only; with
    ``lake``, every dynamic value equal to the one the details store's history gives at the cut-off (read again)."""
    interactions = pq.read_table(directory / "interactions.parquet", columns=["item_index", "split"])
    problems, files = [], 0
    past: dict[dt.datetime, pa.Table] = {}
    for path in sorted((directory / "features").glob("item_features_asof_*.parquet")):
        files += 1
        table = pq.read_table(path)
        as_of = table.column("as_of").cast(pa.timestamp("us", tz="UTC"))
        seen = table.column("source_observed_at")
        after = pc.fill_null(pc.greater(seen, as_of), False)
        any_dynamic = functools.reduce(pc.or_, (pc.is_valid(table.column(c)) for c in asof.DYNAMIC))
        dynamic_unsourced = pc.and_(pc.is_null(seen), any_dynamic)
        editorial_late = pc.fill_null(pc.greater(table.column("editorial_observed_at"), as_of), False)
        unflagged = pc.and_(editorial_late, pc.invert(pc.fill_null(table.column("observed_after_cutoff"), False)))
        train = interactions.filter(pc.equal(interactions.column("split"), "train")).column("item_index").to_numpy()
        recount = np.bincount(train, minlength=table.num_rows)[table.column("item_index").to_numpy()]
        for what, mask in (("a source version observed after the cut-off", after),
                           ("a dynamic value without a version observed by the cut-off", dynamic_unsourced),
                           ("an editorial value from after the cut-off not flagged", unflagged)):
            count = int(pc.sum(mask).as_py() or 0)
            if count:
                problems.append(f"{path.name}: {count} rows with {what}")
        if not np.array_equal(recount, table.column("train_count").to_numpy()):
            problems.append(f"{path.name}: train_count differs from the train interactions")
        if lake is not None and table.num_rows:
            differing = _dynamic_differing(lake, table, as_of[0].as_py(), past)
            if differing:
                problems.append(f"{path.name}: {differing} rows whose dynamic values are not the lake's as of the "
                                "cut-off")
    if not files:
        problems.append("no item_features_asof_* file")
    return CheckOutcome(not problems, "; ".join(problems) or f"no future value in {files} as-of feature files",
                        {"files": files})
