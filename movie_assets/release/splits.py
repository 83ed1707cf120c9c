"""Time-based splits on one global timeline.

``train`` holds movies released before ``val_start``, ``val`` those in ``[val_start, test_start)``, ``test``
those on or after ``test_start``; movies without a release date go to ``undated`` and never to train. Every
movie lands in exactly one split. Default cut-offs: the 0.8 and 0.9 quantiles of the dated rows'
``release_date`` (lower element), so roughly 80/10/10 of dated movies, ties on the cut-off day going to
the later split. The cut-offs and counts are written to ``splits/manifest.json``.

``popularity``, ``vote_average`` and ``vote_count`` are snapshots as of ``harvested_at`` (the crawl), not
of the release date: for any "predict at release" task they leak the future.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.lake import Lake, atomic_dir, write_json_atomic, write_parquet_atomic

from .common import ConfigValueError, ReleaseError, parse_iso_date

SPLITS = ("train", "val", "test", "undated")
TIME_FIELD = "release_date"
DEFAULT_QUANTILES = (0.8, 0.9)
LEAKY_COLUMNS = ("popularity", "vote_average", "vote_count")
LEAKAGE_NOTE = (
    "popularity, vote_average and vote_count are as of harvested_at (crawl time), not release time: "
    "they include votes cast after the cut-offs and leak the future for predict-at-release tasks. "
    "Fit every data-dependent transform (vocabularies, encoders, normalisers, IDF, centroids) on train only."
)


@dataclass
class SplitResult:
    val_start: dt.date
    test_start: dt.date
    source: str
    tables: dict[str, pa.Table] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {name: self.tables[name].num_rows for name in SPLITS}

    def manifest(self) -> dict[str, Any]:
        return {
            "time_field": TIME_FIELD,
            "val_start": self.val_start.isoformat(),
            "test_start": self.test_start.isoformat(),
            "cutoff_source": self.source,
            "rule": "train: date < val_start; val: val_start <= date < test_start; test: date >= test_start; "
            "undated: date is null",
            "counts": self.counts,
            "leaky_columns": list(LEAKY_COLUMNS),
            "leakage_note": LEAKAGE_NOTE,
        }


def lower_quantiles(values: pa.Array | pa.ChunkedArray, quantiles: tuple[float, ...]) -> tuple:
    """The ``q`` quantile of the non-null ``values`` for each of ``quantiles``, as the lower element (a value that
    occurs; ties on it go to the later split); () when there is no value. One rule for every time split."""
    present = pc.drop_null(values)
    n = len(present)
    if not n:
        return ()
    ordered = present.take(pc.sort_indices(present))
    return tuple(ordered[min(n - 1, int(q * n))].as_py() for q in quantiles)


def default_cutoffs(table: pa.Table, quantiles: tuple[float, float] = DEFAULT_QUANTILES) -> tuple[dt.date, dt.date]:
    found = lower_quantiles(table.column(TIME_FIELD), quantiles)
    if not found:
        raise ReleaseError("no movie has a release_date; cannot derive split cut-offs (set val_start/test_start)")
    return found  # type: ignore[return-value]


def resolve_cutoffs(table: pa.Table, val_start: str | None, test_start: str | None) -> tuple[dt.date, dt.date, str]:
    """Configured cut-offs (ISO strings) or the data's default quantiles; validated."""
    val = parse_iso_date(val_start, "val_start")
    test = parse_iso_date(test_start, "test_start")
    sources = []
    if val is None or test is None:
        default_val, default_test = default_cutoffs(table)
        if val is None:
            val = default_val
            sources.append(f"val_start = {DEFAULT_QUANTILES[0]} quantile of release_date")
        if test is None:
            test = max(default_test, val)
            sources.append(f"test_start = {DEFAULT_QUANTILES[1]} quantile of release_date")
    if val > test:
        raise ConfigValueError(f"val_start={val.isoformat()} is after test_start={test.isoformat()}")
    return val, test, "; ".join(sources) if sources else "config"


def split_movies(table: pa.Table, val_start: dt.date, test_start: dt.date) -> dict[str, pa.Table]:
    if val_start > test_start:
        raise ConfigValueError(f"val_start={val_start} is after test_start={test_start}")
    dates = table.column(TIME_FIELD)
    val_scalar, test_scalar = pa.scalar(val_start, pa.date32()), pa.scalar(test_start, pa.date32())
    masks = {
        "train": pc.less(dates, val_scalar),
        "val": pc.and_(pc.greater_equal(dates, val_scalar), pc.less(dates, test_scalar)),
        "test": pc.greater_equal(dates, test_scalar),
        "undated": pc.is_null(dates),
    }
    return {name: table.filter(pc.fill_null(mask, False)) for name, mask in masks.items()}


def build_splits(table: pa.Table, val_start: str | None = None, test_start: str | None = None) -> SplitResult:
    val, test, source = resolve_cutoffs(table, val_start, test_start)
    return SplitResult(val, test, source, split_movies(table, val, test))


def write_splits(lake: Lake, result: SplitResult) -> Path:
    """Write ``{train,val,test,undated}.parquet`` and ``manifest.json`` and swap the directory in at once."""
    target = lake.splits_dir
    with atomic_dir(target) as build:
        for name in SPLITS:
            write_parquet_atomic(result.tables[name], build / lake.split_file(name).name)
        write_json_atomic(result.manifest(), build / lake.splits_manifest_file.name)
    return target


def read_split_ids(lake: Lake) -> dict[str, pa.Table]:
    """``movie_id`` and ``release_date`` of each split file."""
    missing = [n for n in SPLITS if not lake.split_file(n).exists()]
    if missing:
        raise ReleaseError(f"split files missing under {lake.splits_dir}: {missing}; materialize movie_splits")
    return {n: pq.read_table(lake.split_file(n), columns=["movie_id", TIME_FIELD]) for n in SPLITS}


def read_manifest(lake: Lake) -> dict[str, Any]:
    return json.loads(lake.splits_manifest_file.read_text(encoding="utf-8"))
