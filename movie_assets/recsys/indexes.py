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


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(int32 codes, dictionary) of a text column (dictionary-encoded or not); one dictionary for all chunks."""
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    combined = encoded.combine_chunks() if isinstance(encoded, pa.ChunkedArray) else encoded
    indices = pc.fill_null(combined.indices, len(combined.dictionary))  # a null: one past the dictionary
    return indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False), combined.dictionary


def _ranks(order: np.ndarray) -> np.ndarray:
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank


def _source_ids(item_index: np.ndarray, sources: pa.ChunkedArray, items: int) -> pa.Array:
    """The source item ids of each item, joined by ',' when several map to one (a MovieLens duplicate); the
    item's own number where a source gave none."""
    codes, dictionary = _codes(sources)
    width = len(dictionary) + 1
    pairs = np.unique(item_index.astype(np.int64) * width + codes)
    texts = dictionary.to_pylist()
    grouped: dict[int, list[str]] = {}
    for pair in pairs.tolist():
        if pair % width < len(texts):  # not a null
            grouped.setdefault(pair // width, []).append(texts[pair % width])

    def key(text: str) -> tuple:
        return (0, int(text), "") if _digits(text) else (1, 0, text)

    return pa.array([",".join(sorted(grouped[i], key=key)) if i in grouped else None for i in range(items)],
                    pa.string())


def _sorted_unique(seconds: np.ndarray, user: np.ndarray, item: np.ndarray, event: np.ndarray,
                   rating: np.ndarray) -> tuple[np.ndarray, int]:
    """The positions of the events in (time, user, item, event, rating) order, an exact repeat (same time, user,
    item and event) kept once, and how many repeats were dropped. The sorted keys are compared one at a time, so
    a 25M-event build holds one sorted copy at a time, not five."""
    order = np.lexsort((rating, event, item, user, seconds))
    repeat = np.ones(max(len(order) - 1, 0), bool)
    for key in (seconds, user, item, event):
        ordered = key[order]
        repeat &= ordered[1:] == ordered[:-1]
        del ordered
    keep = order[np.concatenate([[True], ~repeat])] if len(order) else order
    return keep, int(repeat.sum())


def index_events(events: pa.Table, cutoffs: Cutoffs, held_out: np.ndarray, catalog_ids: np.ndarray | None
                 ) -> Indexed:
    """Indexes and split interactions from source events (`events.EVENTS_SCHEMA`; its text columns may be
    dictionary-encoded). ``held_out``: movie ids whose train-time interactions are labelled ``held_out``;
    ``catalog_ids``: the lake's movies to index after the interacted ones (None: interacted items only)."""
    user_codes, users = _codes(events.column("user_id"))
    user_order = _user_order(users)
    user_index = _ranks(user_order)[user_codes]
    del user_codes

    movie_ids = events.column("movie_id").to_numpy()
    interacted = np.unique(movie_ids)
    extra = np.setdiff1d(catalog_ids, interacted) if catalog_ids is not None else np.zeros(0, np.int64)
    all_items = np.concatenate([interacted, extra]).astype(np.int64)
    item_index = np.searchsorted(interacted, movie_ids).astype(np.int32)

    codes = timeline.split_codes(events.column("timestamp"), cutoffs)
    if len(held_out):
        codes[np.isin(movie_ids, held_out) & (codes == LABELS.index(TRAIN))] = LABELS.index(HELD_OUT)
    del movie_ids

    event_codes, event_names = _codes(events.column("event"))
    event_index = _ranks(np.argsort(np.asarray(event_names.to_pylist(), dtype=object)))[event_codes]
    seconds = timeline.epoch_seconds(events.column("timestamp"))
    rating = pc.fill_null(events.column("rating"), np.nan).to_numpy(zero_copy_only=False)
    keep, repeats = _sorted_unique(seconds, user_index, item_index, event_index, rating)
    del seconds, rating, event_index
    take = pa.array(keep)
    interactions = pa.table({
        "user_index": pa.array(user_index[keep], pa.int32()),
        "item_index": pa.array(item_index[keep], pa.int32()),
        "rating": events.column("rating").take(take),
        "weight": events.column("weight").take(take),
        "timestamp": pc.cast(events.column("timestamp").take(take), INTERACTIONS_SCHEMA.field("timestamp").type),
        "event": pc.cast(pa.DictionaryArray.from_arrays(pa.array(event_codes[keep]), event_names), pa.string()),
        "split": pa.DictionaryArray.from_arrays(pa.array(codes[keep], pa.int8()),
                                                pa.array(LABELS)).cast(pa.string()),
    }, schema=INTERACTIONS_SCHEMA)
    source_ids = _source_ids(item_index, events.column("source_item_id"), len(all_items))
    fallback = pa.array([str(m) for m in all_items.tolist()], pa.string())
    items = pa.table({
        "item_index": pa.array(np.arange(len(all_items), dtype=np.int32)),
        "movie_id": pa.array(all_items, pa.int64()),
        "source_item_id": pc.if_else(pc.is_valid(source_ids), source_ids, fallback),
        "has_interactions": pa.array(np.arange(len(all_items)) < len(interacted)),
    })
    users_table = pa.table({"user_index": pa.array(np.arange(len(user_order), dtype=np.int32)),
                            "user_id": pc.cast(users.take(pa.array(user_order)), pa.string())})
    return Indexed(interactions, users_table, items, codes[keep], repeats, int(np.isin(interacted, held_out).sum()))


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
