"""Item features as of a cut-off, from the versions the details store keeps, so no split sees the future.

Published MovieLens-plus-content datasets attach today's TMDb metadata to ratings from decades ago: today's vote
count and popularity were made by the very interactions a model is asked to predict. Here each column has a
declared policy (`FEATURE_POLICY`, written as ``features/feature_policy.json``):

- *static*: what does not describe reception and is fixed at release (id, original title, language, release date,
  runtime, directors): from the movie as the lake holds it now;
- *editorial*: what TMDb's editors change over time (title, overview, genres, keywords, cast, poster): from the
  latest version observed at or before the cut-off, else from the earliest version observed after it, with
  ``observed_after_cutoff = true`` (``strict``: left null instead); ``editorial_observed_at`` says which;
- *dynamic*: what the audience makes (vote count and average, popularity, revenue): only from a version observed at
  or before the cut-off, else null, never today's value; ``source_observed_at`` is that version's time;
- *interaction-derived*: from the dataset's train interactions only (count, mean rating, popularity rank) and
  the days from release to the cut-off.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.harvest.store import DetailsStore
from movie_assets.lake import Lake
from movie_assets.lake.policy import resolve_policy
from movie_assets.warehouse.history import movies_as_of, stored_movies

STATIC = ("original_title", "original_language", "release_date", "runtime", "directors")
EDITORIAL = ("title", "overview", "genres", "keywords", "cast", "poster_path")
DYNAMIC = ("vote_count", "vote_average", "popularity", "revenue")
FEATURE_COLUMNS = sorted({*STATIC, *EDITORIAL, *DYNAMIC})
DERIVED = ("train_count", "train_mean_rating", "train_popularity_rank", "days_since_release")
FEATURE_POLICY: dict[str, Any] = {
    "static": {"columns": list(STATIC), "source": "the movie as the lake holds it now (fixed at release)"},
    "editorial": {"columns": list(EDITORIAL),
                  "source": "the latest version observed at or before the cut-off; else the earliest version "
                            "observed after it, flagged observed_after_cutoff (null under strict)",
                  "time_column": "editorial_observed_at"},
    "dynamic": {"columns": list(DYNAMIC),
                "source": "only a version observed at or before the cut-off, else null; never today's value",
                "time_column": "source_observed_at"},
    "interaction_derived": {"columns": list(DERIVED),
                            "source": "train interactions only; days_since_release at the cut-off"},
}


def current_movies(lake: Lake, ids: pa.Array, columns: list[str]) -> pa.Table:
    """``columns`` of the lake's current movies among ``ids`` (every year file), sorted by movie_id."""
    parts = [pq.read_table(path, columns=["movie_id", *columns], filters=[("movie_id", "in", ids)])
             for _, path in lake.movies_year_files()]
    parts = [p for p in parts if p.num_rows]
    if not parts:
        return pa.table({"movie_id": pa.array([], pa.int64())})
    return pa.concat_tables(parts, promote_options="permissive").sort_by("movie_id")


def _first_versions_after(lake: Lake, cutoff: dt.datetime, ids: pa.Array) -> pa.Table:
    """Each of ``ids``' earliest good version observed after ``cutoff``, in the lake's movies schema."""
    store = DetailsStore(lake.details_store_dir)
    first = store.first_good(cutoff, ids=ids)
    first = first.filter(resolve_policy(lake, record=False).mask(first))  # a version the lake's policy excludes
    return stored_movies(lake, store, first).sort_by("movie_id")


def values_for(table: pa.Table, ids: np.ndarray, column: str, type_: pa.DataType) -> pa.Array:
    """``table[column]`` for each of ``ids`` (null where the table has no row for it)."""
    if column not in table.column_names or not table.num_rows:
        return pa.nulls(len(ids), type_)
    have = table.column("movie_id").to_numpy()
    at = np.searchsorted(have, ids)
    hit = (at < len(have)) & (have[np.minimum(at, len(have) - 1)] == ids)
    positions = pa.array(np.where(hit, np.minimum(at, len(have) - 1), 0))
    values = table.column(column).combine_chunks().take(positions)
    return pc.if_else(pa.array(hit), values, pa.nulls(len(ids), values.type)).cast(type_)


def train_statistics(interactions: pa.Table, items: int) -> dict[str, np.ndarray]:
    """Per item (by item_index): train count, mean rating (NaN without ratings) and popularity rank (1 = most
    interactions in train; ties by item index; items without train interactions share the last rank)."""
    train = interactions.filter(pc.equal(interactions.column("split"), "train"))
    index = train.column("item_index").to_numpy()
    counts = np.bincount(index, minlength=items)
    ratings = train.column("rating")
    rated = pc.is_valid(ratings).to_numpy(zero_copy_only=False)
    sums = np.bincount(index[rated], weights=pc.drop_null(ratings).to_numpy().astype(np.float64), minlength=items)
    rated_counts = np.bincount(index[rated], minlength=items)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(rated_counts > 0, sums / np.maximum(rated_counts, 1), np.nan)
    order = np.lexsort((np.arange(items), -counts))
    rank = np.empty(items, np.int64)
    rank[order] = np.arange(1, items + 1)
    rank[counts == 0] = int((counts > 0).sum()) + 1
    return {"train_count": counts.astype(np.int64), "train_mean_rating": mean, "train_popularity_rank": rank}


def features_as_of(lake: Lake, items: pa.Table, cutoff: dt.datetime, stats: dict[str, np.ndarray], *,
                   strict: bool = False, past: pa.Table | None = None, now: pa.Table | None = None
                   ) -> tuple[pa.Table, dict[str, Any]]:
    """The features of ``items`` (``item_index, movie_id``, by item_index) as of ``cutoff`` (module docstring),
    and the coverage and drift measured on the way. ``past``: `movies_as_of(lake, cutoff)` when already read;
    ``now``: `current_movies` of the items' `FEATURE_COLUMNS` when already read."""
    ids = items.column("movie_id").to_numpy()
    id_array = pa.array(ids, pa.int64())
    now = now if now is not None else current_movies(lake, id_array, FEATURE_COLUMNS)
    past = past if past is not None else movies_as_of(lake, cutoff)
    past = past.filter(pc.is_in(past.column("movie_id"), value_set=id_array)).sort_by("movie_id")
    known = np.isin(ids, past.column("movie_id").to_numpy())
    later = _first_versions_after(lake, cutoff, pa.array(ids[~known], pa.int64())) if (~known).any() else \
        pa.table({"movie_id": pa.array([], pa.int64())})
    schema = now.schema
    columns: dict[str, pa.Array] = {"item_index": items.column("item_index").combine_chunks(), "movie_id": id_array}
    for name in STATIC:
        columns[name] = values_for(now, ids, name, schema.field(name).type)
    past_seen = values_for(past, ids, "harvested_at", pa.timestamp("us", tz="UTC"))
    later_seen = values_for(later, ids, "harvested_at", pa.timestamp("us", tz="UTC"))
    after = pa.array(~known & pc.is_valid(later_seen).to_numpy(zero_copy_only=False))
    for name in EDITORIAL:
        value = values_for(past, ids, name, schema.field(name).type)
        if not strict:
            value = pc.if_else(pa.array(known), value, values_for(later, ids, name, schema.field(name).type))
        columns[name] = value
    columns["editorial_observed_at"] = past_seen if strict else pc.if_else(pa.array(known), past_seen, later_seen)
    columns["observed_after_cutoff"] = pc.and_(after, pa.scalar(not strict))
    for name in DYNAMIC:
        columns[name] = values_for(past, ids, name, schema.field(name).type)
    columns["source_observed_at"] = past_seen
    for name, values in stats.items():
        columns[name] = pa.array(values[items.column("item_index").to_numpy()])
    release = pc.cast(columns["release_date"], pa.timestamp("s", tz="UTC"))
    days = pc.divide(pc.cast(pc.subtract(pa.scalar(cutoff, pa.timestamp("s", tz="UTC")), release), pa.int64()),
                     86_400)
    columns["days_since_release"] = pc.cast(days, pa.int32())
    columns["as_of"] = pa.array([cutoff] * len(ids), pa.timestamp("s", tz="UTC"))
    table = pa.table(columns)
    return table, {"items": len(ids), "items_observed_by_cutoff": int(known.sum()),
                   "items_from_after_cutoff": int(after.to_numpy(zero_copy_only=False).sum()),
                   "drift": drift(past, now)}


def drift(past: pa.Table, now: pa.Table) -> dict[str, Any]:
    """For movies known at the cut-off: the share whose value changed since, per editorial and dynamic field, and
    for the numeric ones the median relative change."""
    ids = past.column("movie_id").to_numpy()
    out: dict[str, Any] = {"movies_compared": len(ids)}
    for name in (*EDITORIAL, *DYNAMIC):
        then = past.column(name).to_pylist()
        today = values_for(now, ids, name, now.schema.field(name).type).to_pylist()
        changed = sum(a != b for a, b in zip(then, today, strict=True))
        entry: dict[str, Any] = {"changed_share": round(changed / len(ids), 4) if len(ids) else None}
        if name in DYNAMIC:
            relative = [abs(b - a) / abs(a) for a, b in zip(then, today, strict=True)
                        if a not in (None, 0) and b is not None]
            entry["median_relative_change"] = round(float(np.median(relative)), 4) if relative else None
        out[name] = entry
    return out
