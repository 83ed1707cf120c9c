"""What the synthetic users like and how much the items are wanted: the ground truth of the generator.

* Items: a popularity weight, Zipf-like over a seeded ranking that leans on the lake's popularity without
  equalling it, and a taste cluster found by a few rounds of seeded spherical k-means over the text vectors.
* Sources: the lists a user draws from (each cluster, each genre, each frequent keyword, everyone's catalogue),
  each sorted by release date with cumulative log weights, so a draw "among what this source had released by
  time t" is one binary search (`movie_assets.recsys.synthetic_draw`).
* Users: 1–3 clusters with weights, favourite genres and keywords drawn from those clusters' content, an active
  window inside the global one, a heavy-tailed number of interactions and a rating bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from movie_assets.recsys.events import SourceError
from movie_assets.recsys.synthetic_catalog import Catalog

DAY = 86_400
BLOCK = 8_192  # users per block where a (users × vocabulary) matrix would be large


@dataclass
class Items:
    """Per-item ground truth."""

    rank: np.ndarray  # int64, 0 = the most wanted
    weight: np.ndarray  # float64, (rank + 1) ** -zipf_exponent
    cluster: np.ndarray  # int64, -1 without a text vector
    centroids: np.ndarray  # float32 (clusters, dimension), unit norm
    affinity: np.ndarray  # float32 (movies with a vector, clusters): cosine to each centroid, standardized
    quality: np.ndarray  # float32, the item's rating bias


@dataclass
class Sources:
    """Every source's items sorted by release date, concatenated; segment ``s`` is ``start[s]:start[s + 1]``.

    ``keys`` holds, along each segment, the log of the cumulative weight (the first ``len(members)`` entries),
    then the same with each weight times ``exp(release day / interest_scale_days)`` (the recency-weighted mass of
    a segment's items released by day ``t`` is ``exp(keys[M + last] - t / scale)``), each entry plus its segment
    (and half) times a constant larger than any segment's range, so that one `np.searchsorted` over all segments
    searches within one. ``released[s, d]`` is one past the last item of segment ``s`` released by day
    ``ref_day + d`` (a release date is a day: a movie is out from its midnight UTC); ``fresh[s, d]`` the share of
    that segment's mass on day ``d`` that is recency (the rest is the back catalogue).
    """

    start: np.ndarray
    members: np.ndarray
    keys: np.ndarray
    released: np.ndarray  # int32 (segments, days of the window)
    fresh: np.ndarray  # float32 (segments, days of the window)
    ref_day: int  # the window's first day; days below are relative to it
    clusters: int
    genres: int
    keywords: int

    @property
    def everyone(self) -> int:
        """The segment of the whole catalogue (the last one)."""
        return len(self.start) - 2


@dataclass
class Users:
    """Per-user ground truth and the source mix each draw picks from."""

    clusters: np.ndarray  # int64 (users, 3), -1 padded
    cluster_weights: np.ndarray  # float64 (users, 3), 0 where padded
    genres: np.ndarray  # int64 (users, favourite_genres), -1 padded
    keywords: np.ndarray  # int64 (users, favourite_keywords), -1 padded
    source: np.ndarray  # int64 (users, slots): segment of each slot
    share: np.ndarray  # float64 (users, slots): the share of the user's draws from each slot, summing to 1
    start_s: np.ndarray  # int64, active window, seconds since the epoch
    end_s: np.ndarray
    target: np.ndarray  # int64, interactions wanted
    bias: np.ndarray  # float32, the user's rating bias

    @property
    def count(self) -> int:
        """How many users."""
        return len(self.target)


def popularity(catalog: Catalog, exponent: float, lean: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(rank, weight): items ranked by ``lean`` × their standardized log lake popularity plus independent noise
    (``lean`` < 1, so the ranking never equals the lake's), weighted ``(rank + 1) ** -exponent``."""
    logged = np.log1p(np.maximum(catalog.popularity, 0.0))
    spread = logged.std()
    z = (logged - logged.mean()) / spread if spread > 0 else np.zeros_like(logged)
    score = lean * z + np.sqrt(1.0 - lean * lean) * rng.standard_normal(catalog.size)
    order = np.lexsort((catalog.movie_id, -score))
    rank = np.empty(catalog.size, dtype=np.int64)
    rank[order] = np.arange(catalog.size)
    return rank, (rank + 1.0) ** -exponent


def taste_clusters(vectors: np.ndarray, k: int, rounds: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(cluster of each vector, unit centroids): spherical k-means from ``k`` distinct seeded vectors."""
    k = min(k, len(vectors))
    centroids = vectors[np.sort(rng.choice(len(vectors), size=k, replace=False))].copy()
    for _ in range(rounds):
        assign = np.argmax(vectors @ centroids.T, axis=1)
        order = np.argsort(assign, kind="stable")
        counts = np.bincount(assign, minlength=k)
        filled = np.flatnonzero(counts)
        sums = np.add.reduceat(vectors[order], np.concatenate([[0], np.cumsum(counts)[:-1]])[filled], axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids[filled] = sums / np.where(norms > 0, norms, 1.0)
    return np.argmax(vectors @ centroids.T, axis=1), centroids.astype(np.float32)


def items_truth(catalog: Catalog, params, rng: np.random.Generator) -> Items:
    """Each item's popularity, cluster, affinity to every cluster and rating bias."""
    rank, weight = popularity(catalog, params.zipf_exponent, params.popularity_lean, rng)
    assign, centroids = taste_clusters(catalog.vectors, params.clusters, params.kmeans_rounds, rng)
    cluster = np.full(catalog.size, -1, dtype=np.int64)
    has = catalog.vector_row >= 0
    cluster[has] = assign[catalog.vector_row[has]]
    cosine = catalog.vectors @ centroids.T
    spread = cosine.std()
    affinity = ((cosine - cosine.mean()) / (spread if spread > 0 else 1.0)).astype(np.float32)
    quality = (params.item_bias_sd * rng.standard_normal(catalog.size)).astype(np.float32)
    return Items(rank, weight, cluster, centroids, affinity, quality)


def build_sources(catalog: Catalog, items: Items, params, ref_day: int, last_day: int) -> Sources:
    """The segments: clusters, then genres, then keywords, then everyone. In a cluster's segment an item's
    popularity weight is raised to ``taste_popularity`` and multiplied by ``exp(taste_sharpness × closeness)``:
    within a taste, closeness to its core counts more than the mainstream."""
    k, g, w = len(items.centroids), len(catalog.genres), len(catalog.keywords)
    everyone = np.arange(catalog.size)
    clustered = np.flatnonzero(items.cluster >= 0)
    genre_items, genre_ids = np.nonzero(catalog.item_genres)
    keyword_items, keyword_ids = catalog.keyword_pairs
    segment = np.concatenate([items.cluster[clustered], k + genre_ids, k + g + keyword_ids,
                              np.full(catalog.size, k + g + w)])
    member = np.concatenate([clustered, genre_items, keyword_items, everyone])
    order = np.lexsort((member, catalog.release_day[member], segment))
    segment, member = segment[order], member[order]
    start = np.searchsorted(segment, np.arange(k + g + w + 2))
    log_weight = np.log(items.weight[member])
    core = np.flatnonzero(segment < k)
    log_weight[core] *= params.taste_popularity
    log_weight[core] += params.taste_sharpness * _closeness(items.affinity[catalog.vector_row[member[core]],
                                                                            segment[core]], segment[core], k)
    rel = (catalog.release_day[member] - ref_day).astype(np.float64)
    flat = np.empty(len(member))
    recent = np.empty(len(member))
    days = np.arange(last_day - ref_day + 1)
    if (len(start) - 1) * len(days) * 8 > 2**30:
        raise SourceError(f"{len(start) - 1} sources over {len(days)} days need more than 1 GiB of lookup tables; "
                          "lower keyword_vocabulary or start later")
    released = np.empty((len(start) - 1, len(days)), dtype=np.int32)
    for s in range(len(start) - 1):
        a, b = start[s], start[s + 1]
        flat[a:b] = np.logaddexp.accumulate(log_weight[a:b])
        recent[a:b] = np.logaddexp.accumulate(log_weight[a:b] + rel[a:b] / params.interest_scale_days)
        released[s] = a + np.searchsorted(rel[a:b], days, side="right")
    last = np.maximum(released - 1, 0)
    fresh_mass = recent[last] - days[None, :] / params.interest_scale_days
    old_mass = np.log(params.back_catalogue) if params.back_catalogue > 0 else -np.inf
    fresh = 1.0 / (1.0 + np.exp(np.clip(old_mass + flat[last] - fresh_mass, -700, 700)))
    log_mass = np.concatenate([flat, recent])
    # Above the range of any segment's keys and of a uniform's log (>= -37), so a query never leaves its segment.
    big = float(np.ceil(log_mass.max() - log_mass.min() + 64.0))
    keys = log_mass + np.concatenate([segment, segment + len(start) - 1]) * big
    return Sources(start, member, keys, released, fresh.astype(np.float32), ref_day, k, g, w)


def _closeness(affinity: np.ndarray, cluster: np.ndarray, k: int) -> np.ndarray:
    """Each member's closeness to its cluster's centre as a normal score of its rank within the cluster (core
    > 0 > fringe): the same spread whatever the shape of the embedding space, so no one movie takes a cluster."""
    order = np.lexsort((affinity, cluster))
    size = np.bincount(cluster, minlength=k)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.empty(len(cluster), dtype=np.int64)
    rank[order] = np.arange(len(cluster)) - first[cluster[order]]
    grid = np.linspace(0.0, 1.0, 4097)[1:-1]
    normal = np.array([NormalDist().inv_cdf(q) for q in grid])
    return np.interp((rank + 0.5) / size[cluster], grid, normal)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Column indices of each row's ``n`` largest scores, largest first."""
    n = min(n, scores.shape[1])
    if n < scores.shape[1]:
        part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    else:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _gumbel(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return -np.log(-np.log(rng.random(shape) * (1 - 1e-12) + 1e-300))


def _favourites(weights: np.ndarray, clusters: np.ndarray, profile: np.ndarray, n: int,
                rng: np.random.Generator) -> np.ndarray:
    """``n`` favourites per user, drawn without replacement ∝ the mix of their clusters' profiles."""
    users = len(weights)
    if n <= 0 or profile.shape[1] == 0:
        return np.full((users, max(n, 0)), -1, dtype=np.int64)
    out = np.full((users, n), -1, dtype=np.int64)
    for lo in range(0, users, BLOCK):
        hi = min(lo + BLOCK, users)
        mix = np.einsum("uj,ujv->uv", weights[lo:hi], profile[np.maximum(clusters[lo:hi], 0)])
        top = _top(np.log(mix) + _gumbel(rng, mix.shape), n)
        out[lo:hi, : top.shape[1]] = top
    return out


def _profile(counts: np.ndarray) -> np.ndarray:
    """Each cluster's distribution over a vocabulary, smoothed so no favourite is impossible."""
    smoothed = counts + 1.0
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def users_truth(catalog: Catalog, items: Items, sources: Sources, params, window: tuple[int, int],
                rng: np.random.Generator) -> Users:
    """Every user's tastes, window, interaction count and bias."""
    n, k = params.users, sources.clusters
    mix = np.asarray(params.cluster_mix, dtype=np.float64)
    size = np.bincount(items.cluster[items.cluster >= 0], minlength=k).astype(np.float64)
    how_many = rng.choice(np.arange(1, len(mix) + 1), size=n, p=mix / mix.sum())
    width = len(mix)
    chosen = _top(np.log(np.where(size > 0, size, 1e-300))[None, :] + _gumbel(rng, (n, k)), width)
    chosen = np.pad(chosen, ((0, 0), (0, width - chosen.shape[1])), constant_values=-1)
    used = (np.arange(width)[None, :] < how_many[:, None]) & (chosen >= 0)
    clusters = np.where(used, chosen, -1)
    raw = np.where(used, rng.gamma(1.0, size=(n, width)), 0.0)
    weights = raw / raw.sum(axis=1, keepdims=True)
    vectored = np.flatnonzero(items.cluster >= 0)
    genre_counts = np.stack([catalog.item_genres[vectored[items.cluster[vectored] == c]].sum(axis=0)
                             for c in range(k)]) if len(catalog.genres) else np.zeros((k, 0))
    key_items, key_ids = catalog.keyword_pairs
    key_cluster = items.cluster[key_items]
    kw = len(catalog.keywords)
    keyword_counts = np.bincount(key_cluster[key_cluster >= 0] * kw + key_ids[key_cluster >= 0],
                                 minlength=k * kw).reshape(k, kw) if kw else np.zeros((k, 0))
    genres = _favourites(weights, clusters, _profile(genre_counts), params.favourite_genres, rng)
    keywords = _favourites(weights, clusters, _profile(keyword_counts), params.favourite_keywords, rng)
    source, share = _source_mix(params.source_shares, clusters, weights, genres, keywords, sources)
    start_s, end_s = _windows(params, window, n, rng)
    target = np.rint(params.mean_interactions * rng.lognormal(-params.interactions_sigma ** 2 / 2,
                                                              params.interactions_sigma, size=n))
    target = np.clip(target, params.min_interactions, params.max_interactions).astype(np.int64)
    bias = (params.user_bias_sd * rng.standard_normal(n)).astype(np.float32)
    return Users(clusters, weights, genres, keywords, source, share, start_s, end_s, target, bias)


def _source_mix(shares, clusters, weights, genres, keywords, sources: Sources) -> tuple[np.ndarray, np.ndarray]:
    """Each user's slots (their clusters, genres, keywords and everyone's catalogue) and their shares; a
    share without a slot (no keywords in the lake) goes to the others."""
    cluster_share, genre_share, keyword_share, everyone_share = shares
    n_genres = np.maximum((genres >= 0).sum(axis=1, keepdims=True), 1)
    n_keywords = np.maximum((keywords >= 0).sum(axis=1, keepdims=True), 1)
    slot_weight = np.concatenate([
        cluster_share * weights,
        np.where(genres >= 0, genre_share / n_genres, 0.0),
        np.where(keywords >= 0, keyword_share / n_keywords, 0.0),
        np.full((len(weights), 1), everyone_share),
    ], axis=1)
    source = np.concatenate([
        np.where(clusters >= 0, clusters, sources.everyone),
        np.where(genres >= 0, sources.clusters + genres, sources.everyone),
        np.where(keywords >= 0, sources.clusters + sources.genres + keywords, sources.everyone),
        np.full((len(weights), 1), sources.everyone),
    ], axis=1)
    return source.astype(np.int64), slot_weight / slot_weight.sum(axis=1, keepdims=True)


def _windows(params, window: tuple[int, int], n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Active windows: lognormal lengths around ``mean_active_days`` (at least ``min_active_days``, at most the
    global window), placed uniformly inside the global window."""
    first, last = window
    span_days = (last - first) / DAY
    sigma = 1.0
    days = params.mean_active_days * rng.lognormal(-sigma * sigma / 2, sigma, size=n)
    days = np.clip(days, min(params.min_active_days, span_days), span_days)
    length = (days * DAY).astype(np.int64)
    start = first + (rng.random(n) * (last - first - length + 1)).astype(np.int64)
    return start, start + length
