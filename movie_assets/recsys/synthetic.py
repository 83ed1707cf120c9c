"""Synthetic interactions over the lake's real content: a source of events for the dataset builder whose ground
truth is known, deterministic from its seed.

`generate(lake, users, seed)` reads the lake's current dated movies and text vectors (`synthetic_catalog`),
draws items' popularity and taste clusters and users' tastes (`synthetic_tastes`), then every user's events
(`synthetic_draw`), and returns them as `SourceEvents` of kind ``synthetic``: an `EVENTS_SCHEMA` table sorted
by (timestamp, user_id, movie_id), the ground truth as ``truth/users.parquet`` and ``truth/items.parquet``, a
``synthetic`` report, and every knob (`SynthParams`) in ``policies``. The same lake and parameters give
byte-identical events: every random number comes from ``Generator(PCG64)`` streams derived from the seed, and
nothing depends on dict or set order or on threads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import Lake
from movie_assets.recsys.events import EVENTS_SCHEMA, SYNTHETIC, SourceError, SourceEvents
from movie_assets.recsys.synthetic_catalog import Catalog, json_safe, read_catalog
from movie_assets.recsys.synthetic_draw import Drawn, draw_events
from movie_assets.recsys.synthetic_tastes import DAY, Items, Users, build_sources, items_truth, users_truth

DEFAULT_START = dt.datetime(1996, 1, 1, tzinfo=dt.UTC)
_ITEMS, _USERS, _EVENTS = 1, 2, 3  # the seed's independent streams


@dataclasses.dataclass(frozen=True)
class SynthParams:
    """Every knob of the generator, with its default; recorded in `SourceEvents.policies`."""

    users: int = 1_000
    seed: int = 0
    explicit: bool = True  # ratings 0.5–5 (event "rating"); False: implicit views, rating null
    preview_share: float = 0.02  # share of draws that meet a movie before its release (a preview)
    preview_days: float = 60.0  # how long before its release a preview may be
    start: dt.datetime = DEFAULT_START  # the global window (UTC)
    end: dt.datetime | None = None  # None: the lake's snapshot, the latest harvested_at of its movies
    clusters: int = 32  # taste clusters in text-embedding space
    kmeans_rounds: int = 8
    cluster_mix: tuple[float, ...] = (0.5, 0.3, 0.2)  # share of users mixing 1, 2, 3 clusters
    favourite_genres: int = 2
    favourite_keywords: int = 3
    keyword_vocabulary: int = 300  # the most frequent keywords a user may favour
    source_shares: tuple[float, float, float, float] = (0.7, 0.15, 0.05, 0.1)  # clusters, genres, keywords, everyone
    taste_sharpness: float = 1.5  # in a taste cluster, weight × exp(this × standardized cosine to its centre)
    taste_popularity: float = 0.3  # in a taste cluster, the popularity weight is raised to this power
    zipf_exponent: float = 1.0  # item weight (rank + 1) ** -zipf_exponent
    popularity_lean: float = 0.6  # correlation of the seeded ranking with the lake's log popularity, < 1
    mean_interactions: float = 50.0  # per user, lognormal around it
    interactions_sigma: float = 1.0  # the lognormal's sigma: the tail of heavy users
    min_interactions: int = 5
    max_interactions: int = 5_000
    mean_active_days: float = 730.0  # a user's active window, lognormal around it
    min_active_days: float = 30.0
    interest_scale_days: float = 180.0  # age of a movie when met: exponential with this scale (fresh share)
    back_catalogue: float = 0.02  # weight of any released movie, against 1.0 for one released today
    # Share of each half star, 0.5 to 5 (roughly MovieLens's): ratings are the quantiles of a latent score.
    rating_shares: tuple[float, ...] = (0.015, 0.03, 0.015, 0.07, 0.045, 0.2, 0.12, 0.27, 0.085, 0.15)
    rating_gain: float = 0.6  # latent score per unit of affinity (standardized cosine to the user's clusters)
    rating_noise: float = 0.7
    user_bias_sd: float = 0.35
    item_bias_sd: float = 0.3

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, for the manifest."""
        return json_safe(dataclasses.asdict(self))



def generate(lake: Lake, users: int, seed: int, *, explicit: bool = True, preview_share: float = 0.02,
             start: dt.datetime | None = None, end: dt.datetime | None = None, **knobs: Any) -> SourceEvents:
    """``users`` synthetic users' events over the lake's dated movies; any other `SynthParams` field may be
    passed by name. `SourceError` names the parameter or the asset to materialize."""
    names = {f.name for f in dataclasses.fields(SynthParams)}
    unknown = sorted(set(knobs) - names)
    if unknown:
        raise SourceError(f"unknown synthetic parameter(s) {unknown}; known: {sorted(names)}")
    params = SynthParams(users=users, seed=seed, explicit=explicit, preview_share=preview_share,
                         start=start or DEFAULT_START, end=end, **knobs)
    return generate_with(lake, params)


def generate_with(lake: Lake, params: SynthParams) -> SourceEvents:
    """`generate` from a `SynthParams`."""
    check(params)
    catalog = read_catalog(lake, params.keyword_vocabulary)
    first, last = window(params, catalog)
    items = items_truth(catalog, params, _rng(params.seed, _ITEMS))
    sources = build_sources(catalog, items, params, first // DAY, last // DAY)
    users = users_truth(catalog, items, sources, params, (first, last), _rng(params.seed, _USERS))
    drawn = draw_events(catalog, items, sources, users, params, lambda chunk: _rng(params.seed, _EVENTS, chunk))
    labels = _user_labels(params.users)
    events = _events_table(drawn, catalog, labels, params.explicit)
    counts = np.bincount(drawn.user, minlength=params.users)
    short = int((counts < users.target).sum())
    report = _report(params, catalog, items, users, drawn, counts, (first, last))
    warnings = [f"{short} of {params.users} users got fewer events than drawn for them (the movies left to them "
                "in their window were too unlikely to be drawn); see the synthetic report"] if short else []
    return SourceEvents(
        kind=SYNTHETIC,
        events=events,
        inputs=catalog.inputs,
        reports={"synthetic": report},
        tables={"truth/users.parquet": _users_table(users, catalog, labels, counts),
                "truth/items.parquet": _items_table(items, catalog, drawn)},
        policies=params.as_dict(),
        licence={"events": "synthetic, generated by movie_assets.recsys.synthetic: no third party's terms",
                 "items": "TMDb movie ids and content: TMDb's attribution applies"},
        warnings=warnings,
    )


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=stream)))


def check(params: SynthParams) -> None:
    """`SourceError` naming the first parameter out of its range."""
    def need(ok: bool, name: str, rule: str) -> None:
        if not ok:
            raise SourceError(f"synthetic parameter {name} must be {rule} (got {getattr(params, name)!r})")

    need(_integer(params.users) and params.users >= 1, "users", "an integer >= 1")
    need(_integer(params.seed) and params.seed >= 0, "seed", "an integer >= 0")
    need(0.0 <= params.preview_share < 1.0, "preview_share", "in [0, 1)")
    need(params.preview_days > 0, "preview_days", "> 0")
    need(isinstance(params.start, dt.datetime), "start", "a datetime")
    need(params.end is None or isinstance(params.end, dt.datetime), "end", "a datetime or None")
    need(params.clusters >= 1, "clusters", ">= 1")
    need(params.kmeans_rounds >= 0, "kmeans_rounds", ">= 0")
    need(len(params.cluster_mix) >= 1 and min(params.cluster_mix) >= 0 and sum(params.cluster_mix) > 0,
         "cluster_mix", "non-negative shares of users mixing 1, 2, … clusters, not all 0")
    need(params.favourite_genres >= 0, "favourite_genres", ">= 0")
    need(params.favourite_keywords >= 0, "favourite_keywords", ">= 0")
    need(params.keyword_vocabulary >= 0, "keyword_vocabulary", ">= 0")
    need(len(params.source_shares) == 4 and min(params.source_shares) >= 0 and sum(params.source_shares) > 0,
         "source_shares", "four non-negative shares (clusters, genres, keywords, everyone), not all 0")
    need(params.zipf_exponent >= 0, "zipf_exponent", ">= 0")
    need(params.taste_sharpness >= 0, "taste_sharpness", ">= 0")
    need(params.taste_popularity >= 0, "taste_popularity", ">= 0")
    need(0.0 <= params.popularity_lean < 1.0, "popularity_lean", "in [0, 1) (1 would copy the lake's ranking)")
    need(params.min_interactions >= 1, "min_interactions", ">= 1")
    need(params.mean_interactions >= params.min_interactions, "mean_interactions", ">= min_interactions")
    need(params.max_interactions >= params.min_interactions, "max_interactions", ">= min_interactions")
    need(params.interactions_sigma >= 0, "interactions_sigma", ">= 0")
    need(params.mean_active_days > 0, "mean_active_days", "> 0")
    need(params.min_active_days >= 0, "min_active_days", ">= 0")
    need(params.interest_scale_days > 0, "interest_scale_days", "> 0")
    need(params.back_catalogue >= 0, "back_catalogue", ">= 0")
    need(len(params.rating_shares) == 10 and min(params.rating_shares) >= 0 and sum(params.rating_shares) > 0,
         "rating_shares", "ten non-negative shares of the half stars 0.5 … 5, not all 0")
    for name in ("rating_gain", "rating_noise", "user_bias_sd", "item_bias_sd"):
        need(getattr(params, name) >= 0, name, ">= 0")
    if params.end is not None:
        window(params, None)


def _integer(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def window(params: SynthParams, catalog: Catalog | None) -> tuple[int, int]:
    """The global window in seconds since the epoch: ``start`` to ``end`` (default: the lake's snapshot), starting
    no earlier than the lake's first release (less the preview days): before it nobody can meet anything, and
    users active only then would be drawn again and again for nothing."""
    end = params.end if params.end is not None else catalog.snapshot if catalog is not None else None
    if end is None:
        raise SourceError("the lake's movies record no harvested_at, so there is no snapshot to end at; pass end")
    first, last = _utc(params.start), _utc(end)
    if catalog is not None and catalog.size:
        earliest = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            days=int(catalog.release_day.min()) - params.preview_days)
        first = max(first, earliest)
    if first >= last:
        source = "end" if params.end is not None else "end (the lake's snapshot, its latest harvested_at)"
        raise SourceError(f"synthetic parameter start ({first.isoformat()}) must be before {source} "
                          f"({last.isoformat()})")
    return int(first.timestamp()), int(last.timestamp())


def _user_labels(users: int) -> pa.Array:
    """``u001`` … : zero-padded, so text order is number order."""
    width = len(str(users))
    return pa.array([f"u{i:0{width}d}" for i in range(1, users + 1)], pa.string())


def _events_table(drawn: Drawn, catalog: Catalog, labels: pa.Array, explicit: bool) -> pa.Table:
    n = len(drawn.user)
    movie = pa.array(catalog.movie_id[drawn.item], pa.int64())
    rating = pa.array(drawn.rating, pa.float32()) if explicit else pa.nulls(n, pa.float32())
    return pa.table({
        "user_id": labels.take(pa.array(drawn.user)),
        "movie_id": movie,
        "source_item_id": pc.cast(movie, pa.string()),
        "timestamp": pa.array(drawn.time, pa.timestamp("s", tz="UTC")),
        "rating": rating,
        "event": pa.repeat(pa.scalar("rating" if explicit else "view", pa.string()), n),
        "weight": pa.array(np.ones(n, dtype=np.float32)),
    }, schema=EVENTS_SCHEMA)


def _lists(matrix: np.ndarray, values: pa.Array | None = None, cast: pa.DataType = pa.int32()) -> pa.ListArray:
    """One list per row of ``matrix``: its entries >= 0 in order (as ``values[entry]`` when given)."""
    keep = matrix >= 0
    offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
    flat = matrix[keep]
    inner = values.take(pa.array(flat)) if values is not None else pa.array(flat).cast(cast)
    return pa.ListArray.from_arrays(pa.array(offsets), inner)


def _users_table(users: Users, catalog: Catalog, labels: pa.Array, counts: np.ndarray) -> pa.Table:
    weights = np.where(users.clusters >= 0, users.cluster_weights, -1.0)
    return pa.table({
        "user_id": labels,
        "clusters": _lists(users.clusters),
        "cluster_weights": _lists(weights, cast=pa.float32()),
        "favourite_genres": _lists(users.genres, pa.array(catalog.genres, pa.string())),
        "favourite_keywords": _lists(users.keywords, pa.array(catalog.keywords, pa.string())),
        "active_from": pa.array(users.start_s, pa.timestamp("s", tz="UTC")),
        "active_to": pa.array(users.end_s, pa.timestamp("s", tz="UTC")),
        "events_drawn": pa.array(users.target.astype(np.int32)),
        "events": pa.array(counts.astype(np.int32)),
        "rating_bias": pa.array(users.bias),
    })


def _items_table(items: Items, catalog: Catalog, drawn: Drawn) -> pa.Table:
    return pa.table({
        "movie_id": pa.array(catalog.movie_id),
        "release_date": pa.array(catalog.release_day.astype(np.int32), pa.date32()),
        "cluster": pa.array(items.cluster.astype(np.int32), mask=items.cluster < 0),
        "has_vector": pa.array(catalog.vector_row >= 0),
        "popularity_rank": pa.array(items.rank.astype(np.int32)),
        "popularity_weight": pa.array(items.weight),
        "rating_bias": pa.array(items.quality),
        "events": pa.array(np.bincount(drawn.item, minlength=catalog.size).astype(np.int64)),
    })


def _report(params: SynthParams, catalog: Catalog, items: Items, users: Users, drawn: Drawn, counts: np.ndarray,
            span: tuple[int, int]) -> dict[str, Any]:
    """What was generated, JSON-safe and deterministic (no timings)."""
    n = len(drawn.user)
    per_item = np.bincount(drawn.item, minlength=catalog.size)
    top = max(1, int(np.ceil(catalog.size / 100)))
    first_year = dt.datetime.fromtimestamp(span[0], dt.UTC).year
    year_values = list(range(first_year, dt.datetime.fromtimestamp(span[1], dt.UTC).year + 1))
    bounds = [int(dt.datetime(y, 1, 1, tzinfo=dt.UTC).timestamp()) for y in year_values[1:]]
    year_counts = np.diff(np.searchsorted(drawn.time, bounds), prepend=0, append=n)  # the times are sorted
    report: dict[str, Any] = {
        "params": params.as_dict(),
        "window": {"start": dt.datetime.fromtimestamp(span[0], dt.UTC).isoformat(),
                   "end": dt.datetime.fromtimestamp(span[1], dt.UTC).isoformat(),
                   "end_from": "params" if params.end is not None else "snapshot"},
        "users": params.users,
        "events": n,
        "events_drawn_for_users": int(users.target.sum()),
        "users_short": int((counts < users.target).sum()),
        "events_per_user": {"min": int(counts.min()), "median": float(np.median(counts)),
                            "mean": round(float(counts.mean()), 3), "max": int(counts.max())},
        "movies": {"read": catalog.movies, "undated_skipped": catalog.undated,
                   "duplicate_rows_skipped": catalog.duplicates, "dated": catalog.size,
                   "without_vector": int((catalog.vector_row < 0).sum()), "used": int((per_item > 0).sum()),
                   "used_without_vector": int(((per_item > 0) & (catalog.vector_row < 0)).sum())},
        "clusters": {"count": len(items.centroids),
                     "sizes": np.bincount(items.cluster[items.cluster >= 0], minlength=len(items.centroids)).tolist()},
        "previews": {"events": int(drawn.preview.sum()), "share": round(float(drawn.preview.mean()), 6) if n else 0.0},
        "top_1pct_items_share": round(float(np.sort(per_item)[::-1][:top].sum() / max(n, 1)), 6),
        "events_by_year": {str(y): int(c) for y, c in zip(year_values, year_counts.tolist(), strict=True) if c},
        "embeddings": dict(catalog.embeddings),
    }
    if drawn.rating is not None:
        halves = np.bincount((drawn.rating * 2).astype(np.int8), minlength=11)
        report["ratings"] = {f"{h / 2:.1f}": int(halves[h]) for h in range(1, 11)}
    return report
