"""One recommender dataset, built end to end and swapped in at once: ``data/recsys/<source>__<snapshot>/``.

From a registered source's events (`sources.read_source`): the dense indexes and the split interactions
(`indexes`), the feature arrays aligned to the item index (`features`), the item features as of each cut-off
(`asof`), each interaction's item version (`versions`), the reports, and ``manifest.json`` (the sources with their
sha256, the lake snapshot, the policies, the cut-offs and the counts). Everything is written into a build folder
and switched in by one rename, so a reader sees a whole dataset or the previous one; a source that fails its own
checks (the bridge's reconciliation, the kept share under the floor) writes nothing. Same inputs, same bytes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.lake import Lake, atomic_dir, file_sha256, write_json_atomic, write_parquet_atomic, write_text_atomic
from movie_assets.recsys import asof, card, features, indexes, reports, timeline, versions
from movie_assets.recsys.events import EVENTS_SCHEMA, SourceEvents
from movie_assets.recsys.snapshot import lake_snapshot
from movie_assets.recsys.sources import SourceSpec, read_source
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.warehouse.history import movies_as_of

LOG = logging.getLogger(__name__)
CHECKSUMS = "reports/checksums.txt"
ASOF_FILES = {"train": "val_start", "val": "val_start", "test": "test_start"}  # features of a split: as of …


class DatasetError(ValueError):
    """A dataset cannot be built from its inputs as they are; the message says what to fix."""


@dataclass(frozen=True)
class DatasetConfig:
    """How a dataset is built (recorded in its manifest)."""

    split: SplitPolicy = field(default_factory=SplitPolicy)
    include_catalog_items: bool = False  # index the lake's movies without interactions too (after the others)
    fill: str = "zeros"  # rows of items without a vector: zeros, mean or none (NaN)
    strict_features: bool = False  # editorial features never from a version observed after the cut-off


@dataclass
class DatasetResult:
    name: str
    directory: Path
    manifest: dict[str, Any]


def dataset_name(source: str, snapshot_id: str) -> str:
    return f"{source}__{snapshot_id}"


def _item_table(lake: Lake, indexed: indexes.Indexed, counts: dict[str, np.ndarray], modal: dict[str, Any]
                ) -> pa.Table:
    items = indexed.items
    ids = items.column("movie_id").combine_chunks()
    now = asof.current_movies(lake, ids, ["poster_path", "harvested_at", "release_date"])
    cold_val, cold_test = indexes.cold_flags(counts)
    columns = {name: items.column(name) for name in ("item_index", "movie_id", "source_item_id")}
    for label in timeline.LABELS:
        columns[f"n_{label}"] = pa.array(counts[f"n_{label}"])
    columns["first_interaction_at"] = indexes.first_times(counts["first_interaction_at"])
    columns["cold_in_val"], columns["cold_in_test"] = pa.array(cold_val), pa.array(cold_test)
    columns["has_text"] = pa.array(modal["text"][1])
    columns["has_poster"] = pa.array(modal["poster"][1])
    columns["text_content_hash"] = pa.array(modal["text"][2], pa.string())
    columns["poster_path"] = asof.values_for(now, ids.to_numpy(), "poster_path", pa.string())
    columns["poster_sha256"] = pa.array(modal["poster"][2], pa.string())
    columns["release_date"] = asof.values_for(now, ids.to_numpy(), "release_date", pa.date32())
    columns["version_observed_at"] = asof.values_for(now, ids.to_numpy(), "harvested_at", pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


def _user_table(indexed: indexes.Indexed, cutoffs: timeline.Cutoffs) -> pa.Table:
    counts = indexes.per_index_counts(indexed.interactions, indexed.codes, "user_index", indexed.users.num_rows)
    first = indexes.first_times(counts["first_interaction_at"])
    columns = {"user_index": indexed.users.column("user_index"), "user_id": indexed.users.column("user_id")}
    for label in timeline.LABELS:
        columns[f"n_{label}"] = pa.array(counts[f"n_{label}"])
    columns["first_seen_at"] = first
    for name, cut in (("first_seen_after_val_start", cutoffs.val_start),
                      ("first_seen_after_test_start", cutoffs.test_start)):
        columns[name] = pc.greater_equal(first, pa.scalar(cut, pa.timestamp("s", tz="UTC")))
    return pa.table(columns)


def build_dataset(lake: Lake, spec: SourceSpec, config: DatasetConfig = DatasetConfig()) -> DatasetResult:
    """Build the dataset of ``spec`` over the lake as it is now (module docstring)."""
    return build_from_events(lake, spec, read_source(lake, spec), config)


def build_from_events(lake: Lake, spec: SourceSpec, source: SourceEvents, config: DatasetConfig = DatasetConfig()
                      ) -> DatasetResult:
    """Build the dataset of ``spec`` from its events as read (`build_dataset` reads them). The events are taken
    over: their text columns are dictionary-encoded and ``source.events`` released, so 25M events are not held
    twice."""
    if source.errors:
        raise DatasetError(f"source {spec.name!r}: " + "; ".join(source.errors) + "; nothing was written")
    events = _compact(source.events)
    source.events = EVENTS_SCHEMA.empty_table()
    pa.default_memory_pool().release_unused()
    if not events.num_rows:
        raise DatasetError(f"source {spec.name!r} has no interaction on a movie of the lake (see its bridge "
                           "report); nothing was written")
    lake_ids = _catalog_ids(lake)
    _refuse_bad_events(spec.name, events, lake_ids)
    snapshot = lake_snapshot(lake)
    name = dataset_name(spec.name, snapshot["id"])
    cutoffs = timeline.resolve_cutoffs(events.column("timestamp"), config.split)
    interacted = np.unique(events.column("movie_id").to_numpy())
    dates = asof.current_movies(lake, pa.array(interacted), ["release_date"])
    held = timeline.held_out_items(interacted, asof.values_for(dates, interacted, "release_date", pa.date32()),
                                   config.split, cutoffs)
    catalog = lake_ids if config.include_catalog_items else None
    indexed = indexes.index_events(events, cutoffs, held, catalog)
    del events
    counts = indexes.per_index_counts(indexed.interactions, indexed.codes, "item_index", indexed.items.num_rows)
    vectors = {m: features.lake_vectors(lake, m) for m in features.MODALITIES}
    modal = {m: features.aligned(indexed.items.column("movie_id").combine_chunks(), vectors[m])
             for m in features.MODALITIES}
    items = _item_table(lake, indexed, counts, modal)
    users = _user_table(indexed, cutoffs)
    target = lake.recsys_dataset_dir(name)
    with atomic_dir(target) as build:
        interactions_file = build / "interactions.parquet"
        write_parquet_atomic(indexed.interactions, interactions_file)
        write_parquet_atomic(items, build / "item_index.parquet")
        write_parquet_atomic(users, build / "user_index.parquet")
        if source.bridge is not None:
            write_parquet_atomic(source.bridge, build / "bridge.parquet")
        for relative, table in sorted(source.tables.items()):
            write_parquet_atomic(table, build / relative)
        arrays = _write_arrays(build, modal, vectors, config.fill)
        asof_report = _write_asof(lake, build, indexed, items, cutoffs, config.strict_features)
        version_rows = _write_versions(lake, build, interactions_file, items, vectors[features.TEXT])
        report_files = {**source.reports,
                        "split_summary": reports.split_summary(indexed, items, users, cutoffs),
                        "availability": reports.availability(lake, indexed, items),
                        "feature_asof_coverage": asof_report}
        for report, data in sorted(report_files.items()):
            write_json_atomic(data, build / "reports" / f"{report}.json")
        manifest = {
            "dataset": name, "source": {"name": spec.name, "kind": source.kind, "spec": spec.as_dict(),
                                        "inputs": [i.as_dict() for i in source.inputs],
                                        "policies": source.policies},
            "lake_snapshot": snapshot, "policies": {**asdict(config), "asof_files": ASOF_FILES},
            "cutoffs": cutoffs.as_dict(), "publishable": source.publishable,
            "licence": card.licence_block(source.kind, source.licence, source.publishable),
            "counts": {"interactions": indexed.interactions.num_rows, "users": users.num_rows,
                       "items": items.num_rows, "items_with_interactions": int(len(interacted)),
                       "exact_repeats_dropped": indexed.duplicates, "held_out_items": indexed.held_out_items,
                       "interactions_with_item_version": version_rows,
                       "per_split": reports.per_split(indexed)},
            "features": arrays, "warnings": source.warnings,
        }
        write_json_atomic(manifest, build / "manifest.json")
        write_text_atomic(card.dataset_card(manifest), build / "DATASET_CARD.md")
        _write_checksums(build)
    write_text_atomic(name + "\n", lake.recsys_latest_file(spec.name))
    LOG.info("recsys dataset %s: %d interactions, %d users, %d items", name, manifest["counts"]["interactions"],
             users.num_rows, items.num_rows)
    return DatasetResult(name, target, manifest)


def _compact(events: pa.Table) -> pa.Table:
    """``events`` in `EVENTS_SCHEMA` order and types, its text columns dictionary-encoded (a user id repeated on
    every one of a user's events is held once)."""
    events = events.select(EVENTS_SCHEMA.names)
    columns = []
    for wanted in EVENTS_SCHEMA:
        column = events.column(wanted.name)
        if pa.types.is_string(wanted.type):
            column = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column.cast(wanted.type))
        else:
            column = column.cast(wanted.type)
        columns.append(column)
    return pa.table(columns, names=EVENTS_SCHEMA.names)


def _refuse_bad_events(name: str, events: pa.Table, lake_ids: np.ndarray) -> None:
    """`DatasetError` when an event is not whole (no user, movie, time, event or weight; a NaN rating or weight; a
    negative weight) or names a movie the lake does not hold: the sources refuse such rows naming their line, so
    one reaching the builder is a source's bug, and it would become a bogus item or a silent train event."""
    where = f"source {name!r}: "
    for column in ("user_id", "movie_id", "timestamp", "event", "weight"):
        if events.column(column).null_count:
            raise DatasetError(f"{where}{events.column(column).null_count:,} events have no {column}; every event "
                               "needs one; nothing was written")
    for column, bad in (("rating", pc.is_nan(events.column("rating"))),
                        ("weight", pc.or_(pc.is_nan(events.column("weight")), pc.less(events.column("weight"), 0)))):
        count = int(pc.sum(bad).as_py() or 0)
        if count:
            raise DatasetError(f"{where}{count:,} events have a {column} that is NaN or negative; a rating is a number "
                               "or null (implicit), a weight 0 or more; nothing was written")
    unknown = np.setdiff1d(events.column("movie_id").to_numpy(), lake_ids)
    if len(unknown):
        raise DatasetError(f"{where}{len(unknown):,} movies of its events are not in the lake (movie_id "
                           f"{unknown[:5].tolist()}); build the lake's years first or bridge the source again; "
                           "nothing was written")


def _write_checksums(build: Path) -> None:
    """``reports/checksums.txt``: ``<sha256>  <path>`` of every other file of the dataset, by path."""
    lines = [f"{file_sha256(p)}  {p.relative_to(build).as_posix()}" for p in sorted(build.rglob("*"))
             if p.is_file() and p.relative_to(build).as_posix() != CHECKSUMS]
    write_text_atomic("".join(line + "\n" for line in lines), build / CHECKSUMS)


def _catalog_ids(lake: Lake) -> np.ndarray:
    parts = [pq.read_table(p, columns=["movie_id"]).column("movie_id").to_numpy() for _, p in lake.movies_year_files()]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def _write_arrays(build: Path, modal: dict[str, Any], vectors: dict[str, features.ModalityVectors], fill: str
                  ) -> list[dict[str, Any]]:
    written = []
    for modality in features.MODALITIES:
        found = vectors[modality]
        if found.model_id is None:
            continue  # the modality was never embedded: no array, the item index says has_<modality> false
        rows, present, _ = modal[modality]
        array, value = features.filled(rows, present, fill)
        file = build / "features" / f"{modality}_{features.model_slug(found.model_id)}.npy"
        missing = np.flatnonzero(~present)
        sidecar = {"modality": modality, "model_id": found.model_id, "backend": found.backend,
                   "dimension": int(array.shape[1]), "rows": int(array.shape[0]), "dtype": "float32",
                   "row": "item_index", "fill": fill, "fill_value": value, "missing": int(len(missing)),
                   "missing_item_index": [int(i) for i in missing], "mask_column": f"has_{modality}"}
        features.write_array(array, file, sidecar)
        written.append({k: v for k, v in sidecar.items() if k != "missing_item_index"} | {
            "file": f"features/{file.name}"})
    return written


def _write_asof(lake: Lake, build: Path, indexed: indexes.Indexed, items: pa.Table, cutoffs: timeline.Cutoffs,
                strict: bool) -> dict[str, Any]:
    stats = asof.train_statistics(indexed.interactions, items.num_rows)
    item_keys = items.select(["item_index", "movie_id"])
    report: dict[str, Any] = {"policy": asof.FEATURE_POLICY, "splits": {}}
    past_by_cutoff: dict[str, pa.Table] = {}
    now = asof.current_movies(lake, items.column("movie_id").combine_chunks(), asof.FEATURE_COLUMNS)  # read once
    for split, cutoff_name in ASOF_FILES.items():
        cutoff = getattr(cutoffs, cutoff_name)
        if cutoff_name not in past_by_cutoff:
            past_by_cutoff[cutoff_name] = movies_as_of(lake, cutoff)
        table, measured = asof.features_as_of(lake, item_keys, cutoff, stats, strict=strict,
                                             past=past_by_cutoff[cutoff_name], now=now)
        write_parquet_atomic(table, build / "features" / f"item_features_asof_{split}.parquet")
        report["splits"][split] = {"cutoff": cutoff_name, "as_of": cutoff.isoformat(), **measured,
                                   **reports.interactions_observed(indexed, split, table)}
    write_json_atomic({"policy": asof.FEATURE_POLICY, "strict": strict, "files": ASOF_FILES},
                      build / "features" / "feature_policy.json")
    return report


def _write_versions(lake: Lake, build: Path, interactions_file: Path, items: pa.Table,
                    text: features.ModalityVectors) -> int:
    table, vectors = versions.interaction_versions(lake, interactions_file, items, text)
    write_parquet_atomic(table, build / "interactions_item_version.parquet")
    if text.model_id is not None and vectors.num_rows:
        name = f"text_versions_{features.model_slug(text.model_id)}.parquet"
        write_parquet_atomic(vectors, build / "features" / name)
    return table.num_rows
