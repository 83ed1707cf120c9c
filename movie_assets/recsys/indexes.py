"""Dense user and item indexes, and the interactions on them, split on the global timeline.

Items that have interactions come first, by ``movie_id``, then (when asked) the lake's other current movies, by
``movie_id``: ``item_index`` 0..N-1 is the row of every feature array. Users are indexed by their source id
(numerically when every id is a number). ``interactions.parquet`` is sorted by time, then user and item index; an
exact repeat (same user, item, time and event) is kept once and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.recsys import timeline
from movie_assets.recsys.timeline import HELD_OUT, LABELS, TEST, TRAIN, VAL, Cutoffs

INTERACTIONS_SCHEMA = pa.schema([
    ("user_index", pa.int32()), ("item_index", pa.int32()), ("rating", pa.float32()), ("weight", pa.float32()),
    ("timestamp", pa.timestamp("s", tz="UTC")), ("event", pa.string()), ("split", pa.string()),
])


@dataclass
class Indexed:
    interactions: pa.Table  # INTERACTIONS_SCHEMA, sorted
    users: pa.Table  # user_index, user_id
    items: pa.Table  # item_index, movie_id, source_item_id, has_interactions
    codes: np.ndarray  # the split of each interaction, int8 codes into `timeline.LABELS`
    duplicates: int  # exact repeats dropped
    held_out_items: int


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts ``²``, which ``int`` refuses."""
    return text.isascii() and text.isdigit()


def _user_order(dictionary: pa.Array) -> np.ndarray:
    """Positions of ``dictionary``'s user ids in index order: numeric when all are integers, else by text."""
    texts = dictionary.to_pylist()
    if all(_digits(t) and len(t) < 19 for t in texts):
        return np.argsort(np.array([int(t) for t in texts], np.int64), kind="stable")
    return np.asarray(pc.sort_indices(dictionary).to_numpy())


def _source_ids(events: pa.Table, movie_ids: np.ndarray) -> pa.Array:
    """The source item ids of each movie, joined by ',' when several map to one (a MovieLens duplicate)."""
    pairs = events.select(["movie_id", "source_item_id"]).group_by(["movie_id", "source_item_id"],
                                                                   use_threads=False).aggregate([])
    grouped: dict[int, list[str]] = {}
    for movie_id, source in zip(pairs.column("movie_id").to_pylist(), pairs.column("source_item_id").to_pylist(),
                                strict=True):
        grouped.setdefault(movie_id, []).append(source)

    def key(text: str) -> tuple:
        return (0, int(text), "") if _digits(text) else (1, 0, text)

    return pa.array([",".join(sorted(grouped.get(int(m), [str(int(m))]), key=key)) for m in movie_ids], pa.string())


def index_events(events: pa.Table, cutoffs: Cutoffs, held_out: np.ndarray, catalog_ids: np.ndarray | None
                 ) -> Indexed:
    """Indexes and split interactions from source events (`events.EVENTS_SCHEMA`). ``held_out``: movie ids whose
    train-time interactions are labelled ``held_out``; ``catalog_ids``: the lake's movies to index after the
    interacted ones (None: interacted items only)."""
    encoded = pc.dictionary_encode(events.column("user_id")).combine_chunks()
    user_order = _user_order(encoded.dictionary)
    rank = np.empty(len(user_order), np.int32)
    rank[user_order] = np.arange(len(user_order), dtype=np.int32)
    user_index = rank[encoded.indices.to_numpy()]

    movie_ids = events.column("movie_id").to_numpy()
    interacted = np.unique(movie_ids)
    extra = np.setdiff1d(catalog_ids, interacted) if catalog_ids is not None else np.zeros(0, np.int64)
    all_items = np.concatenate([interacted, extra]).astype(np.int64)
    item_index = np.searchsorted(interacted, movie_ids).astype(np.int32)

    codes = timeline.split_codes(events.column("timestamp"), cutoffs)
    if len(held_out):
        codes[np.isin(movie_ids, held_out) & (codes == LABELS.index(TRAIN))] = LABELS.index(HELD_OUT)

    seconds = timeline.epoch_seconds(events.column("timestamp"))
    event_codes = pc.dictionary_encode(events.column("event")).combine_chunks()
    event_order = np.argsort(np.asarray(event_codes.dictionary.to_pylist(), dtype=object))
    event_rank = np.empty(len(event_order), np.int32)
    event_rank[event_order] = np.arange(len(event_order), dtype=np.int32)
    event_index = event_rank[event_codes.indices.to_numpy()]
    rating = pc.fill_null(events.column("rating"), np.nan).to_numpy(zero_copy_only=False)
    order = np.lexsort((rating, event_index, item_index, user_index, seconds))
    s, u, i, e = seconds[order], user_index[order], item_index[order], event_index[order]
    repeat = np.zeros(len(order), bool)
    repeat[1:] = (s[1:] == s[:-1]) & (u[1:] == u[:-1]) & (i[1:] == i[:-1]) & (e[1:] == e[:-1])
    keep = order[~repeat]
    take = pa.array(keep)
    interactions = pa.table({
        "user_index": pa.array(user_index[keep], pa.int32()),
        "item_index": pa.array(item_index[keep], pa.int32()),
        "rating": events.column("rating").take(take),
        "weight": events.column("weight").take(take),
        "timestamp": events.column("timestamp").take(take),
        "event": events.column("event").take(take),
        "split": pa.DictionaryArray.from_arrays(pa.array(codes[keep], pa.int8()),
                                                pa.array(LABELS)).cast(pa.string()),
    }, schema=INTERACTIONS_SCHEMA)
    users = pa.table({"user_index": pa.array(np.arange(len(user_order), dtype=np.int32)),
                      "user_id": encoded.dictionary.take(pa.array(user_order))})
    items = pa.table({
        "item_index": pa.array(np.arange(len(all_items), dtype=np.int32)),
        "movie_id": pa.array(all_items, pa.int64()),
        "source_item_id": _source_ids(events, all_items),
        "has_interactions": pa.array(np.arange(len(all_items)) < len(interacted)),
    })
    return Indexed(interactions, users, items, codes[keep], int(repeat.sum()),
                   int(np.isin(interacted, held_out).sum()))


def per_index_counts(interactions: pa.Table, codes: np.ndarray, column: str, size: int) -> dict[str, np.ndarray]:
    """Interactions per split (``codes``: each interaction's) of each user or item (``column``), and the time of
    its first one."""
    index = interactions.column(column).to_numpy()
    out = {f"n_{label}": np.bincount(index[codes == code], minlength=size).astype(np.int64)
           for code, label in enumerate(LABELS)}
    seconds = timeline.epoch_seconds(interactions.column("timestamp"))
    first = np.full(size, np.iinfo(np.int64).max)
    seen, position = np.unique(index, return_index=True)  # interactions are sorted by time: the first is earliest
    first[seen] = seconds[position]
    out["first_interaction_at"] = first
    return out


def first_times(first: np.ndarray) -> pa.Array:
    """Seconds since the epoch (int64 max: none) as UTC timestamps with nulls."""
    missing = first == np.iinfo(np.int64).max
    return pa.array(np.where(missing, 0, first), pa.int64(), mask=missing).cast(pa.timestamp("s", tz="UTC"))


def cold_flags(counts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(cold_in_val, cold_in_test): an item with val (test) interactions and none in train (train or val)."""
    cold_val = (counts[f"n_{VAL}"] > 0) & (counts[f"n_{TRAIN}"] == 0)
    cold_test = (counts[f"n_{TEST}"] > 0) & (counts[f"n_{TRAIN}"] == 0) & (counts[f"n_{VAL}"] == 0)
    return cold_val, cold_test
