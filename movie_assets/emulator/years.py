"""Per-year movie counts and the compact per-year summary arrays the catalog is built from.

A year's size follows a growth curve (log-linear between anchors, flat from 2016 on, with a little seeded
jitter). Its movies' discover-level facts (release day, popularity, votes, adult/video flags; ~25 bytes per
movie) are drawn in one vectorised pass from a per-year numpy RNG and stored sorted by
``(release date, popularity desc, id)``. A 30k-movie year takes a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .hashing import unit

# Year-curve anchors: (year, share of movies_per_year); log-linear in between, flat after the last one.
_CURVE = [(1900, 0.003), (1920, 0.010), (1960, 0.17), (1990, 0.45), (2016, 1.0)]
# Salts of this module's random streams (the catalog's streams are salted 101-108, one per purpose).
_S_YEAR, _S_JITTER, _S_CLUSTER = 101, 107, 108
# Relative release frequency by month (autumn festival season peaks, January/February lulls).
_MONTH_FACTOR = {
    1: 0.8, 2: 0.85, 3: 1.0, 4: 1.0, 5: 1.0, 6: 1.0, 7: 0.95, 8: 1.05, 9: 1.5, 10: 1.6, 11: 1.45, 12: 1.2
}


class MovieSummary(NamedTuple):
    """The discover-level facts of one movie (revision 0)."""

    id: int
    release_date: dt.date | None  # None: undated (only movies added or moved by the living catalog)
    popularity: float
    vote_count: int
    vote_average: float
    adult: bool
    video: bool


@dataclass(frozen=True)
class YearData:
    """Compact per-year arrays, all sorted by (day, popularity desc, id)."""

    year: int
    ids: np.ndarray  # int32
    day: np.ndarray  # int16, day of year (0 = Jan 1)
    pop: np.ndarray  # float64, rounded to 3 decimals
    vote_count: np.ndarray  # int32
    vote_avg_milli: np.ndarray  # int16, vote_average * 1000
    flags: np.ndarray  # uint8: bit 0 adult, bit 1 video
    pos_of_index: np.ndarray  # int32: within-year index i -> position in the sorted arrays

    def summary(self, p: int) -> MovieSummary:
        """The summary of the movie at sorted position ``p``."""
        return MovieSummary(
            id=int(self.ids[p]),
            release_date=dt.date(self.year, 1, 1) + dt.timedelta(days=int(self.day[p])),
            popularity=float(self.pop[p]),
            vote_count=int(self.vote_count[p]),
            vote_average=int(self.vote_avg_milli[p]) / 1000.0,
            adult=bool(self.flags[p] & 1),
            video=bool(self.flags[p] & 2),
        )

    def without(self, hidden: np.ndarray, extra: list[MovieSummary]) -> YearData:
        """This year's arrays without the ids in ``hidden`` and with the movies of ``extra`` (all dated in
        this year), in the same (day, popularity desc, id) order. ``pos_of_index`` is left empty: look up
        movies of a changed year by id, not by base index."""
        keep = ~np.isin(self.ids, hidden)
        base = dt.date(self.year, 1, 1)
        ids = np.concatenate([self.ids[keep], np.array([s.id for s in extra], dtype=self.ids.dtype)])
        day = np.concatenate([self.day[keep], np.array([(s.release_date - base).days for s in extra], np.int16)])
        pop = np.concatenate([self.pop[keep], np.array([s.popularity for s in extra], np.float64)])
        votes = np.concatenate([self.vote_count[keep], np.array([s.vote_count for s in extra], np.int32)])
        avg = np.concatenate(
            [self.vote_avg_milli[keep], np.array([round(s.vote_average * 1000) for s in extra], np.int16)]
        )
        flags = np.concatenate(
            [self.flags[keep], np.array([int(s.adult) | int(s.video) << 1 for s in extra], np.uint8)]
        )
        order = np.lexsort((ids, -pop, day))
        return YearData(
            self.year, ids[order], day[order], pop[order], votes[order], avg[order], flags[order],
            np.zeros(0, np.int32),
        )

    def summaries(self) -> list[MovieSummary]:
        """All movies of the year as summaries, in (date, popularity desc, id) order."""
        base = dt.date(self.year, 1, 1)
        return [
            MovieSummary(
                int(i),
                base + dt.timedelta(days=int(d)),
                float(p),
                int(v),
                int(a) / 1000.0,
                bool(f & 1),
                bool(f & 2),
            )
            for i, d, p, v, a, f in zip(
                self.ids, self.day, self.pop, self.vote_count, self.vote_avg_milli, self.flags, strict=True
            )
        ]


def curve_count(seed: int, movies_per_year: int, year: int) -> int:
    """Number of movies in ``year`` for a catalog whose peak (2016+) years hold ``movies_per_year``."""
    if year >= _CURVE[-1][0]:
        return movies_per_year
    if year <= _CURVE[0][0]:
        share = _CURVE[0][1]
    else:
        for (y0, s0), (y1, s1) in zip(_CURVE, _CURVE[1:], strict=False):
            if y0 <= year < y1:
                t = (year - y0) / (y1 - y0)
                share = math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0)))
                break
    share *= 1.0 + 0.1 * (unit(seed, _S_JITTER, year) - 0.5)
    return max(1, round(movies_per_year * share))


def jan1_share(seed: int, year: int, day_cluster: float | None) -> float:
    """Share of the year's movies dated January 1 (``day_cluster`` if set, else a seeded 5-8 %)."""
    if day_cluster is not None:
        return day_cluster
    return 0.05 + 0.03 * unit(seed, _S_CLUSTER, year)


def day_weights(year: int, jan1: float) -> np.ndarray:
    """Probability of each day of ``year`` as a release date (January 1 gets exactly ``jan1``)."""
    first = dt.date(year, 1, 1)
    n_days = (dt.date(year + 1, 1, 1) - first).days
    dates = [first + dt.timedelta(days=d) for d in range(n_days)]
    w = np.array(
        [
            _MONTH_FACTOR[d.month] * (1.6 if d.weekday() == 4 else 1.0) * (1.4 if d.day == 1 else 1.0)
            for d in dates
        ],
        dtype=np.float64,
    )
    w[0] = 0.0
    w *= (1.0 - jan1) / w.sum()
    w[0] = jan1
    return w / w.sum()


def build_year(
    year: int, ids: np.ndarray, *, seed: int, movies_per_year: int, jan1: float, recency: float
) -> YearData:
    """Draw the summary arrays of ``year``'s movies; ``ids[i]`` is the id of within-year index ``i``.

    ``recency`` (0.25-1.0) scales popularity, so recent years are more popular.
    """
    n = ids.shape[0]
    rng = np.random.default_rng([seed & 0xFFFFFFFF, _S_YEAR, year, movies_per_year])
    weights = day_weights(year, jan1)
    day = rng.choice(weights.shape[0], size=n, p=weights).astype(np.int16)
    pop = 0.6 + rng.lognormal(mean=0.0, sigma=1.5, size=n) * recency * 1.5
    pop = np.round(pop, 3)
    votes = np.floor(np.exp(rng.normal(np.log(pop) * 1.7, 1.4)) - 0.6)
    votes[rng.random(n) < 0.2] = 0
    votes = np.clip(votes, 0, 40000).astype(np.int32)
    avg = np.clip(rng.normal(6.1, 1.3, size=n), 0.5, 10.0)
    avg = np.where(votes > 0, np.round(avg * 1000), 0).astype(np.int16)
    adult = rng.random(n) < 0.015
    video = rng.random(n) < 0.02
    flags = (adult.astype(np.uint8) | (video.astype(np.uint8) << 1)).astype(np.uint8)
    order = np.lexsort((ids, -pop, day))
    pos = np.empty(n, dtype=np.int32)
    pos[order] = np.arange(n, dtype=np.int32)
    return YearData(year, ids[order], day[order], pop[order], votes[order], avg[order], flags[order], pos)
