"""The synthetic events, drawn for a block of users at a time with array operations only.

A draw picks a time uniformly in the user's active window, a source from the user's mix (a cluster, a favourite
genre or keyword, everyone's catalogue), then an item of that source released by that time, with probability
∝ popularity × (back_catalogue + exp(-age / interest_scale_days)): the age at the interaction is exponential for
the fresh share, the rest is the back catalogue. A source with nothing released yet gives way to everyone's
catalogue. A share of each user's events are previews: an item of the source released in the next ``preview_days``
(and within the user's window) instead. Repeated (user, movie) pairs are dropped and drawn again, a few rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from movie_assets.recsys.synthetic_catalog import Catalog
from movie_assets.recsys.synthetic_tastes import DAY, Items, Sources, Users

CHUNK_USERS = 8_192  # users drawn together (a constant: the random streams depend on it)
ROUNDS = 8  # rounds of draws (a pair drawn twice is drawn again); users still short after them are reported
# A redraw asks for what is missing divided by the share of the user's last draws that were new (at most 32
# times), and this share more; the extra is cut per user.
OVERDRAW = 0.1
CONTENT_SHARE = 0.7  # of a rating's affinity, the part from the text clusters (the rest from the genres)


@dataclass
class Drawn:
    """The events, sorted by (time, user, item)."""

    user: np.ndarray  # int32 user index
    item: np.ndarray  # int32 item index (into the catalog)
    time: np.ndarray  # int64 seconds since the epoch
    preview: np.ndarray  # bool: met before its release
    rating: np.ndarray | None  # float32 half stars, None for implicit feedback


def draw_events(catalog: Catalog, items: Items, sources: Sources, users: Users, params,
                rng_for_chunk) -> Drawn:
    """Every user's events; ``rng_for_chunk(i)`` is the generator of the ``i``-th block of users."""
    room = int(users.target.sum())
    user = np.empty(room, dtype=np.int32)
    item = np.empty(room, dtype=np.int32)
    time = np.empty(room, dtype=np.int64)
    preview = np.empty(room, dtype=bool)
    rating = np.empty(room, dtype=np.float32) if params.explicit else None
    filled = 0
    for chunk, lo in enumerate(range(0, users.count, CHUNK_USERS)):
        rng = rng_for_chunk(chunk)
        got = _chunk(rng, lo, min(lo + CHUNK_USERS, users.count), users, sources, params)
        end = filled + len(got[0])
        for target, values in zip((user, item, time, preview), got, strict=True):
            target[filled:end] = values
        if rating is not None:
            rating[filled:end] = _scores(rng, got[0], got[1], catalog, items, users, params)
        filled = end
    if rating is not None:
        rating = _half_stars(rating[:filled], params.rating_shares)
    # Each block is in (user, item) order and the blocks in user order: a stable sort by time is the order.
    order = stable_order(time[:filled])
    user, item, time, preview = user[order], item[order], time[order], preview[order]
    return Drawn(user, item, time, preview, rating[order] if rating is not None else None)


def stable_order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` of integers, by one plain sort of (value, position) packed in
    uint64 (several times faster) when both fit."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(values.min())
    bits = max(1, (n - 1).bit_length())
    if (int(values.max()) - low).bit_length() + bits > 64:
        return np.argsort(values, kind="stable")
    packed = (values - low).astype(np.uint64) << np.uint64(bits)
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    packed &= np.uint64((1 << bits) - 1)
    return packed.astype(np.int64)


def _first_of_each(key: np.ndarray) -> np.ndarray:
    """The positions of each value's first occurrence in ``key``, in increasing order."""
    order = stable_order(key)
    ordered = key[order]
    first = order[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(key) else order
    first.sort()
    return first


def _chunk(rng: np.random.Generator, lo: int, hi: int, users: Users, sources: Sources, params):
    """(user, item, time, preview) of users ``lo:hi``, in (user, item) order, at most one per pair.

    Each user has two quotas, drawn apart so that redraws do not change their mix: ordinary events and
    previews (binomial, ``preview_share``). A preview draw that finds nothing upcoming is an ordinary event.
    """
    n_items = int(sources.start[-1] - sources.start[-2])  # everyone's catalogue holds every item
    target = users.target[lo:hi]
    previews = rng.binomial(target, params.preview_share)
    need = np.stack([target - previews, previews], axis=1).ravel()  # slot 2u: ordinary, 2u + 1: previews
    kept_share = np.ones(len(need))  # of a slot's last draws, the share that was new
    taken = np.zeros(0, dtype=np.int64)
    keys, times, early = [], [], []
    for round_ in range(ROUNDS):
        if not need.any():
            break
        ask = need if round_ == 0 else np.ceil(need * (1 + OVERDRAW) / np.maximum(kept_share, 1 / 32)).astype(np.int64)
        # How many of each slot's draws come from each of the user's sources, then one row per draw.
        per_source = rng.multinomial(ask, users.share[lo + np.arange(len(need)) // 2])
        row = np.repeat(np.arange(per_source.size), per_source.ravel())
        slot = row // per_source.shape[1]
        local = slot // 2
        segment = users.source[lo + local, row % per_source.shape[1]]
        item, time, preview = _draw(rng, local + lo, segment, slot % 2 == 1, users, sources, params)
        key = local * n_items + item
        pos = np.flatnonzero(item >= 0)
        if len(taken) and len(pos):
            at = np.minimum(np.searchsorted(taken, key[pos]), len(taken) - 1)
            pos = pos[taken[at] != key[pos]]
        pos = pos[_first_of_each(key[pos])]
        which = slot[pos]
        kept_share = np.where(ask > 0, np.bincount(which, minlength=len(need)) / np.maximum(ask, 1), 1.0)
        place = np.arange(len(pos)) - np.searchsorted(which, which, side="left")
        pos = pos[place < need[which]]
        need -= np.bincount(slot[pos], minlength=len(need))
        keys.append(key[pos])
        times.append(time[pos])
        early.append(preview[pos])
        taken = np.sort(np.concatenate([taken, key[pos]]))
    key = np.concatenate(keys)
    order = stable_order(key)
    key = key[order]
    return lo + key // n_items, key % n_items, np.concatenate(times)[order], np.concatenate(early)[order]


def _draw(rng: np.random.Generator, user: np.ndarray, segment: np.ndarray, ahead: np.ndarray, users: Users,
          sources: Sources, params):
    """One draw per entry of ``user`` from its ``segment`` (a preview where ``ahead``): (item or -1 when nothing
    was released, time, whether it is a preview)."""
    n = len(user)
    first = users.start_s[user]
    time = first + (rng.random(n) * (users.end_s[user] - first + 1)).astype(np.int64)
    day = time // DAY - sources.ref_day
    item = _released(rng, segment, day, sources)
    preview = np.zeros(n, dtype=bool)
    ahead = np.flatnonzero(ahead)
    if len(ahead):
        until = np.minimum((time[ahead] + int(params.preview_days * DAY)) // DAY, users.end_s[user[ahead]] // DAY)
        early = _upcoming(rng, segment[ahead], day[ahead], until - sources.ref_day, sources)
        met = early >= 0
        item[ahead[met]] = early[met]
        preview[ahead[met]] = True
    return item, time, preview


def _search(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``np.searchsorted(keys, queries)``, the queries taken in increasing order: a binary search then starts
    where the last one ended, several times faster than in random order."""
    order = np.argsort(queries)
    found = np.empty(len(queries), dtype=np.int64)
    found[order] = np.searchsorted(keys, queries[order])
    return found


def _released(rng: np.random.Generator, segment: np.ndarray, day: np.ndarray, sources: Sources) -> np.ndarray:
    """An item of each segment released by ``day``, ∝ popularity × (back catalogue + recency); -1 if none."""
    lo, hi = sources.start[segment], sources.released[segment, day]
    empty = np.flatnonzero(hi == lo)
    if len(empty):
        segment = segment.copy()
        segment[empty] = sources.everyone
        lo[empty], hi[empty] = sources.start[sources.everyone], sources.released[sources.everyone, day[empty]]
    found = hi > lo
    last = np.where(found, hi - 1, 0)
    recent = rng.random(len(day)) < sources.fresh[segment, day]
    part = recent * len(sources.members)  # the recency-weighted half of the keys
    at = _search(sources.keys, sources.keys[last + part] + np.log1p(-rng.random(len(day)))) - part
    return np.where(found, sources.members[np.clip(at, lo, last)], -1)


def _upcoming(rng: np.random.Generator, segment: np.ndarray, day: np.ndarray, until: np.ndarray,
              sources: Sources) -> np.ndarray:
    """An item of each segment released after ``day`` and by ``until``, ∝ popularity; -1 if none."""
    lo = sources.start[segment]
    a, b = sources.released[segment, day], sources.released[segment, until]
    empty = np.flatnonzero(b <= a)
    if len(empty):
        segment = segment.copy()
        segment[empty] = sources.everyone
        lo[empty] = sources.start[sources.everyone]
        a[empty] = sources.released[sources.everyone, day[empty]]
        b[empty] = sources.released[sources.everyone, until[empty]]
    found = b > a
    top = sources.keys[np.where(found, b - 1, 0)]
    below = np.where(found & (a > lo), sources.keys[np.maximum(a - 1, 0)], -np.inf)
    share = np.exp(below - top)  # the mass released by `day`, as a share of the mass by `until`
    at = _search(sources.keys, top + np.log(share + (1.0 - rng.random(len(day))) * (1.0 - share)))
    at = np.clip(at, a, np.maximum(b - 1, a))
    return np.where(found, sources.members[np.minimum(at, len(sources.members) - 1)], -1)


def _scores(rng: np.random.Generator, user: np.ndarray, item: np.ndarray, catalog: Catalog, items: Items,
            users: Users, params) -> np.ndarray:
    """Each event's latent rating: the user's affinity to the item (its text clusters, its genres) times
    ``rating_gain``, plus the user's and the item's biases and noise."""
    row = catalog.vector_row[item]
    has = row >= 0
    content = np.zeros(len(item))
    for j in range(users.clusters.shape[1]):
        cluster = users.clusters[user, j]
        use = has & (cluster >= 0)
        content[use] += users.cluster_weights[user[use], j] * items.affinity[row[use], cluster[use]]
    overlap = np.zeros(len(item))
    if catalog.item_genres.shape[1]:
        for j in range(users.genres.shape[1]):
            genre = users.genres[user, j]
            use = genre >= 0
            overlap[use] += catalog.item_genres[item[use], genre[use]]
        overlap /= np.maximum(catalog.item_genres[item].sum(axis=1), 1)
    genre_part = 2.0 * np.minimum(overlap, 1.0) - 1.0
    affinity = np.where(has, CONTENT_SHARE * content + (1 - CONTENT_SHARE) * genre_part, genre_part)
    return (users.bias[user] + items.quality[item] + params.rating_gain * affinity
            + params.rating_noise * rng.standard_normal(len(item))).astype(np.float32)


def _half_stars(scores: np.ndarray, shares: tuple[float, ...]) -> np.ndarray:
    """0.5 … 5 stars by the scores' quantiles, so the ratings have the ``shares`` of each half star (whatever the
    scale of the affinities of this lake) and keep the scores' order."""
    bounds = np.quantile(scores, np.cumsum(shares)[:-1] / sum(shares))
    return ((np.searchsorted(bounds, scores) + 1) / 2).astype(np.float32)
