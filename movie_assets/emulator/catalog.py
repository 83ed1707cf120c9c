"""A deterministic, lazily generated TMDb-like movie catalog.

Everything is a pure function of ``(seed, movies_per_year, day_cluster, first_year, last_year)``.

Layout and cost model:

* Per year, a compact summary is generated on first use (numpy arrays, ~25 bytes per movie: id, release
  day, popularity, vote_count, vote_average, adult/video flags), stored sorted by
  ``(release date, popularity desc, id)``. A 30k-movie year takes a few milliseconds.
* Text and credits (title, overview, cast, …) are generated on demand from the movie id with a
  per-movie RNG; a small LRU keeps recently used records.
* Movie id scheme: ``id = 2 + year_index + n_years * slot`` with ``slot = i + i // 13`` (``i`` = index of
  the movie within its year). The year is ``first_year + (id - 2) % n_years``; slots ``≡ 13 (mod 14)``
  are holes, so ids are unique, non-contiguous, not ordered by date, and decode in O(1).
* Changes: movie ``m`` changes on day ``d`` iff ``mix64(seed, m, d) < 0.1%``; its revision as of a date
  is the number of such days since 2012-10-05. Revisions shift vote_count / vote_average / popularity
  in `details` (discover summaries stay at revision 0).
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import itertools
import math
import random
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from . import vocab
from .hashing import mix64, mix_round, unit

CHANGES_START = dt.date(2012, 10, 5)
CHANGE_PROBABILITY = 0.001
_CHANGE_THRESHOLD = int(CHANGE_PROBABILITY * (1 << 64))
# Year-curve anchors: (year, share of movies_per_year); log-linear in between, flat after the last one.
_CURVE = [(1900, 0.003), (1920, 0.010), (1960, 0.17), (1990, 0.45), (2016, 1.0)]
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B64_TO_62 = str.maketrans("+/", "xQ")
_ORIGINS = list(vocab.PERSON_ORIGIN_WEIGHTS)
_ORIGIN_CUM = list(itertools.accumulate(vocab.PERSON_ORIGIN_WEIGHTS.values()))
_PATH_MOD = 62**6
_PATH_MULT = 2_654_435_761  # coprime with 62**6, so the id code is a bijection
_PATH_MULT_INV = pow(_PATH_MULT, -1, _PATH_MOD)
# Salts for the independent random streams.
_S_YEAR, _S_TEXT, _S_CREDITS, _S_CHANGE, _S_PERSON, _S_PATH, _S_JITTER, _S_CLUSTER = range(101, 109)
# Image path kinds (encoded in the path so the image server can validate it).
PATH_POSTER, PATH_BACKDROP, PATH_PROFILE, PATH_LOGO, PATH_COLLECTION = 1, 2, 3, 4, 5

SORT_KEYS = (
    "popularity.desc",
    "popularity.asc",
    "primary_release_date.asc",
    "primary_release_date.desc",
    "vote_count.desc",
    "vote_count.asc",
    "vote_average.desc",
    "vote_average.asc",
)


class MovieSummary(NamedTuple):
    """The discover-level facts of one movie (revision 0)."""

    id: int
    release_date: dt.date
    popularity: float
    vote_count: int
    vote_average: float
    adult: bool
    video: bool


@dataclass(frozen=True)
class _Year:
    """Compact per-year arrays, all sorted by (day, popularity desc, id)."""

    year: int
    ids: np.ndarray  # int32
    day: np.ndarray  # int16, day of year (0 = Jan 1)
    pop: np.ndarray  # float64, rounded to 3 decimals
    vote_count: np.ndarray  # int32
    vote_avg_milli: np.ndarray  # int16, vote_average * 1000
    flags: np.ndarray  # uint8: bit 0 adult, bit 1 video
    pos_of_index: np.ndarray  # int32: within-year index i -> position in the sorted arrays


@dataclass(frozen=True)
class Selection:
    """The ordered result of one discover query (without paging)."""

    ids: np.ndarray  # int64, in result order
    pop: np.ndarray  # float64, aligned with ids
    primary: np.ndarray | None  # int64 primary sort key made ascending (None for popularity sorts)

    @property
    def total(self) -> int:
        """Number of matching movies."""
        return int(self.ids.shape[0])


_CUMULATIVE: dict[int, tuple[list[Any], list[float]]] = {}


def _weighted_choice(rng: random.Random, weights: dict[str, float] | dict[int, float]) -> Any:
    table = _CUMULATIVE.get(id(weights))
    if table is None:
        keys = list(weights)
        table = _CUMULATIVE[id(weights)] = (keys, list(itertools.accumulate(weights[k] for k in keys)))
    return rng.choices(table[0], cum_weights=table[1])[0]


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(chars)


class Catalog:
    """A deterministic TMDb-like catalog of ~``40 * movies_per_year`` movies, generated lazily per year.

    ``movies_per_year`` is the count of the peak (2016+) years; earlier years follow a growth curve.
    ``day_cluster`` overrides the share of a year's movies dated January 1 (default ~5-8 %).
    """

    def __init__(
        self,
        seed: int = 42,
        movies_per_year: int = 30000,
        first_year: int = 1900,
        last_year: int = 2026,
        day_cluster: float | None = None,
    ) -> None:
        if last_year < first_year:
            raise ValueError("last_year must be >= first_year")
        if movies_per_year < 1:
            raise ValueError("movies_per_year must be >= 1")
        if day_cluster is not None and not 0.0 <= day_cluster <= 1.0:
            raise ValueError("day_cluster must be within [0, 1]")
        self.seed = int(seed)
        self.movies_per_year = int(movies_per_year)
        self.first_year = int(first_year)
        self.last_year = int(last_year)
        self.day_cluster = day_cluster
        self._n_years = self.last_year - self.first_year + 1
        self._counts = {y: self._curve_count(y) for y in range(self.first_year, self.last_year + 1)}
        self._years: dict[int, _Year] = {}
        self._records: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._selections: OrderedDict[tuple, Selection] = OrderedDict()
        self._change_days: OrderedDict[int, np.ndarray] = OrderedDict()
        self._all_ids: np.ndarray | None = None
        self._day_states: np.ndarray | None = None
        self._lock = threading.RLock()  # caches may be touched from the server thread and the caller's
        total = self.total_movies
        self._actor_pool = max(300, total // 4)
        self._director_pool = max(100, total // 12)
        self._crew_pool = max(200, total // 3)
        self._company_pool = max(50, total // 200)
        self._person_cache = lru_cache(maxsize=65536)(self._make_person)

    # ------------------------------------------------------------------ sizes and ids
    def _curve_count(self, year: int) -> int:
        if year >= _CURVE[-1][0]:
            return self.movies_per_year
        if year <= _CURVE[0][0]:
            share = _CURVE[0][1]
        else:
            for (y0, s0), (y1, s1) in zip(_CURVE, _CURVE[1:], strict=False):
                if y0 <= year < y1:
                    t = (year - y0) / (y1 - y0)
                    share = math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0)))
                    break
        share *= 1.0 + 0.1 * (unit(self.seed, _S_JITTER, year) - 0.5)
        return max(1, round(self.movies_per_year * share))

    def year_count(self, year: int) -> int:
        """Number of movies whose primary release date falls in ``year`` (0 outside the catalog)."""
        return self._counts.get(year, 0)

    @property
    def years(self) -> range:
        """The catalog's years, oldest first."""
        return range(self.first_year, self.last_year + 1)

    @property
    def total_movies(self) -> int:
        """Total number of movies in the catalog (computed without generating anything)."""
        return sum(self._counts.values())

    def _encode(self, year: int, index: np.ndarray | int) -> Any:
        slot = index + index // 13
        return 2 + (year - self.first_year) + self._n_years * slot

    def decode_id(self, movie_id: int) -> tuple[int, int] | None:
        """Return ``(year, index within year)`` for a valid movie id, else None."""
        if not isinstance(movie_id, int) or movie_id < 2:
            return None
        slot, year_index = divmod(movie_id - 2, self._n_years)
        if slot % 14 == 13:
            return None
        index = slot - slot // 14
        year = self.first_year + year_index
        if index >= self._counts[year]:
            return None
        return year, index

    def exists(self, movie_id: int) -> bool:
        """True when ``movie_id`` is a movie of this catalog."""
        return self.decode_id(movie_id) is not None

    # ------------------------------------------------------------------ per-year summaries
    def _jan1_share(self, year: int) -> float:
        if self.day_cluster is not None:
            return self.day_cluster
        return 0.05 + 0.03 * unit(self.seed, _S_CLUSTER, year)

    def _day_weights(self, year: int) -> np.ndarray:
        first = dt.date(year, 1, 1)
        n_days = (dt.date(year + 1, 1, 1) - first).days
        dates = [first + dt.timedelta(days=d) for d in range(n_days)]
        month_factor = {
            1: 0.8,
            2: 0.85,
            3: 1.0,
            4: 1.0,
            5: 1.0,
            6: 1.0,
            7: 0.95,
            8: 1.05,
            9: 1.5,
            10: 1.6,
            11: 1.45,
            12: 1.2,
        }
        w = np.array(
            [
                month_factor[d.month] * (1.6 if d.weekday() == 4 else 1.0) * (1.4 if d.day == 1 else 1.0)
                for d in dates
            ],
            dtype=np.float64,
        )
        w[0] = 0.0
        w *= (1.0 - self._jan1_share(year)) / w.sum()
        w[0] = self._jan1_share(year)
        return w / w.sum()

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            if year not in self._years:
                self._years[year] = self._build_year(year)
            return self._years[year]

    def _build_year(self, year: int) -> _Year:
        n = self._counts[year]
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, _S_YEAR, year, self.movies_per_year])
        weights = self._day_weights(year)
        day = rng.choice(weights.shape[0], size=n, p=weights).astype(np.int16)
        span = max(1, self.last_year - self.first_year)
        recency = 0.25 + 0.75 * ((year - self.first_year) / span) ** 2
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
        ids = self._encode(year, np.arange(n, dtype=np.int64)).astype(np.int32)
        order = np.lexsort((ids, -pop, day))
        pos = np.empty(n, dtype=np.int32)
        pos[order] = np.arange(n, dtype=np.int32)
        return _Year(year, ids[order], day[order], pop[order], votes[order], avg[order], flags[order], pos)

    def _row(self, movie_id: int) -> tuple[_Year, int] | None:
        decoded = self.decode_id(movie_id)
        if decoded is None:
            return None
        year, index = decoded
        data = self._year(year)
        return data, int(data.pos_of_index[index])

    def summary(self, movie_id: int) -> MovieSummary | None:
        """The discover-level summary of one movie, or None for an unknown id."""
        row = self._row(movie_id)
        if row is None:
            return None
        data, p = row
        return MovieSummary(
            id=movie_id,
            release_date=dt.date(data.year, 1, 1) + dt.timedelta(days=int(data.day[p])),
            popularity=float(data.pop[p]),
            vote_count=int(data.vote_count[p]),
            vote_average=int(data.vote_avg_milli[p]) / 1000.0,
            adult=bool(data.flags[p] & 1),
            video=bool(data.flags[p] & 2),
        )

    def movies_in_year(self, year: int) -> list[MovieSummary]:
        """All movies of ``year`` as summaries, in (date, popularity desc, id) order."""
        if year not in self._counts:
            return []
        data = self._year(year)
        base = dt.date(year, 1, 1)
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
                data.ids, data.day, data.pop, data.vote_count, data.vote_avg_milli, data.flags, strict=True
            )
        ]

    # ------------------------------------------------------------------ discover
    def _matching(
        self,
        gte: dt.date,
        lte: dt.date,
        include_adult: bool,
        include_video: bool,
        vote_count_gte: int | None,
        vote_count_lte: int | None,
    ) -> list[tuple[_Year, np.ndarray]]:
        out = []
        for year in range(max(gte.year, self.first_year), min(lte.year, self.last_year) + 1):
            data = self._year(year)
            lo_day = (max(gte, dt.date(year, 1, 1)) - dt.date(year, 1, 1)).days
            hi_day = (min(lte, dt.date(year, 12, 31)) - dt.date(year, 1, 1)).days
            a = int(np.searchsorted(data.day, lo_day, "left"))
            b = int(np.searchsorted(data.day, hi_day, "right"))
            if a >= b:
                continue
            mask = np.ones(b - a, dtype=bool)
            flags = data.flags[a:b]
            if not include_adult:
                mask &= (flags & 1) == 0
            if not include_video:
                mask &= (flags & 2) == 0
            if vote_count_gte is not None:
                mask &= data.vote_count[a:b] >= vote_count_gte
            if vote_count_lte is not None:
                mask &= data.vote_count[a:b] <= vote_count_lte
            idx = a + np.flatnonzero(mask)
            if idx.size:
                out.append((data, idx))
        return out

    def discover_ids(
        self,
        gte: dt.date,
        lte: dt.date,
        include_adult: bool = False,
        include_video: bool = False,
        vote_count_gte: int | None = None,
        vote_count_lte: int | None = None,
    ) -> list[int]:
        """Ground truth: ids of all movies with ``gte <= release_date <= lte`` passing the filters."""
        parts = self._matching(gte, lte, include_adult, include_video, vote_count_gte, vote_count_lte)
        return [int(x) for data, idx in parts for x in data.ids[idx]]

    def select(
        self,
        gte: dt.date | None,
        lte: dt.date | None,
        include_adult: bool = False,
        include_video: bool = False,
        vote_count_gte: int | None = None,
        vote_count_lte: int | None = None,
        sort_by: str = "popularity.desc",
    ) -> Selection:
        """Ordered ids for a discover query (cached; ties broken by popularity desc, then id)."""
        if sort_by not in SORT_KEYS:
            raise ValueError(f"unsupported sort_by {sort_by!r}")
        gte = gte or dt.date(self.first_year, 1, 1)
        lte = lte or dt.date(self.last_year, 12, 31)
        key = (gte, lte, include_adult, include_video, vote_count_gte, vote_count_lte, sort_by)
        with self._lock:
            return self._select(key)

    def _select(self, key: tuple) -> Selection:
        gte, lte, include_adult, include_video, vote_count_gte, vote_count_lte, sort_by = key
        cached = self._selections.get(key)
        if cached is not None:
            self._selections.move_to_end(key)
            return cached
        parts = self._matching(gte, lte, include_adult, include_video, vote_count_gte, vote_count_lte)
        if parts:
            ids = np.concatenate([d.ids[i] for d, i in parts]).astype(np.int64)
            pop = np.concatenate([d.pop[i] for d, i in parts])
            ordinal = np.concatenate(
                [d.day[i].astype(np.int64) + dt.date(d.year, 1, 1).toordinal() for d, i in parts]
            )
            votes = np.concatenate([d.vote_count[i] for d, i in parts]).astype(np.int64)
            avg = np.concatenate([d.vote_avg_milli[i] for d, i in parts]).astype(np.int64)
        else:
            ids = np.zeros(0, np.int64)
            pop = np.zeros(0, np.float64)
            ordinal = votes = avg = np.zeros(0, np.int64)
        field, direction = sort_by.rsplit(".", 1)
        primary = {"primary_release_date": ordinal, "vote_count": votes, "vote_average": avg}.get(field)
        if primary is None:
            order = np.lexsort((ids, pop if direction == "asc" else -pop))
        else:
            primary = primary if direction == "asc" else -primary
            order = np.lexsort((ids, -pop, primary))
            primary = primary[order]
        selection = Selection(ids[order], pop[order], primary)
        self._selections[key] = selection
        while len(self._selections) > 1 and (
            len(self._selections) > 64 or sum(x.total for x in self._selections.values()) > 3_000_000
        ):
            self._selections.popitem(last=False)
        return selection

    # ------------------------------------------------------------------ changes and revisions
    def _ids_array(self) -> np.ndarray:
        if self._all_ids is None:
            self._all_ids = np.concatenate(
                [self._encode(y, np.arange(n, dtype=np.int64)) for y, n in self._counts.items()]
            ).astype(np.int64)
        return self._all_ids

    def _changed_on(self, day: dt.date) -> np.ndarray:
        with self._lock:
            return self._changed_on_locked(day)

    def _changed_on_locked(self, day: dt.date) -> np.ndarray:
        key = day.toordinal()
        cached = self._change_days.get(key)
        if cached is not None:
            return cached
        if day < CHANGES_START:
            result = np.zeros(0, np.int64)
        else:
            ids = self._ids_array()
            h = mix_round(mix64(self.seed, _S_CHANGE, key), ids)  # == mix64(seed, S, day, id)
            hit = np.flatnonzero(h < np.uint64(_CHANGE_THRESHOLD))
            result = ids[hit[np.argsort(h[hit], kind="stable")]]
        self._change_days[key] = result
        if len(self._change_days) > 64:
            self._change_days.popitem(last=False)
        return result

    def changed_ids(self, start: dt.date, end: dt.date) -> list[int]:
        """Ids of movies changed on any day in ``[start, end]`` (deterministic, ~0.1 %/day), deduplicated."""
        seen: dict[int, None] = {}
        day = start
        while day <= end:
            for movie_id in self._changed_on(day).tolist():
                seen.setdefault(movie_id, None)
            day += dt.timedelta(days=1)
        return list(seen)

    def revision(self, movie_id: int, as_of: dt.date) -> int:
        """How many times ``movie_id`` changed between 2012-10-05 and ``as_of`` (inclusive)."""
        if as_of < CHANGES_START or not self.exists(movie_id):
            return 0
        n_days = as_of.toordinal() - CHANGES_START.toordinal() + 1
        states = self._day_states
        if states is None or states.shape[0] < n_days:
            days = np.arange(CHANGES_START.toordinal(), CHANGES_START.toordinal() + max(n_days, 6000))
            states = self._day_states = mix_round(
                mix64(self.seed, _S_CHANGE), days
            )  # == mix64(seed, S, day)
        h = mix_round(states[:n_days], movie_id)  # == mix64(seed, S, day, id), as in _changed_on
        return int(np.count_nonzero(h < np.uint64(_CHANGE_THRESHOLD)))

    # ------------------------------------------------------------------ people and paths
    def image_path(self, kind: int, entity_id: int, ext: str = "jpg") -> str:
        """Deterministic TMDb-style file path (``/<27 base62 chars>.jpg``) for an entity's image."""
        code = (entity_id * 8 + kind) * _PATH_MULT % _PATH_MOD
        digest = hashlib.blake2b(f"{self.seed}:{kind}:{entity_id}".encode(), digest_size=16).digest()
        noise = base64.b64encode(digest).decode()[:21].translate(_B64_TO_62)
        return f"/{noise}{_base62(code, 6)}.{ext}"

    def parse_image_path(self, path: str) -> tuple[int, int] | None:
        """Inverse of `image_path`: ``(kind, entity_id)`` if ``path`` is one of ours, else None."""
        token, _, ext = path[1:].partition(".")
        if not path.startswith("/") or len(token) != 27 or any(c not in _BASE62 for c in token):
            return None
        code = 0
        for c in reversed(token[21:]):
            code = code * 62 + _BASE62.index(c)
        n = code * _PATH_MULT_INV % _PATH_MOD
        kind, entity_id = n % 8, n // 8
        if self.image_path(kind, entity_id, ext) != path:
            return None
        return kind, entity_id

    def image_exists(self, path: str) -> bool:
        """True when ``path`` is an image some payload of this catalog refers to."""
        parsed = self.parse_image_path(path)
        if parsed is None:
            return False
        kind, entity_id = parsed
        if kind in (PATH_POSTER, PATH_BACKDROP):
            record = self._record(entity_id)
            if record is None:
                return False
            return path in (record["poster_path"], record["backdrop_path"])
        if kind == PATH_PROFILE:
            return self.person(entity_id) is not None and self.person(entity_id)["profile_path"] == path
        return kind in (PATH_LOGO, PATH_COLLECTION)

    def person(self, person_id: int) -> dict[str, Any] | None:
        """A person of the pool (actor, director or other crew), or None."""
        if person_id < 1000:
            return None
        k, role = divmod(person_id - 1000, 3)
        if k >= (self._actor_pool, self._director_pool, self._crew_pool)[role]:
            return None
        return self._person_cache(person_id)

    def _make_person(self, person_id: int) -> dict[str, Any]:
        role = (person_id - 1000) % 3  # 0 actor, 1 director, 2 other crew
        h = mix64(self.seed, _S_PERSON, person_id)
        origin = _ORIGINS[bisect.bisect_right(_ORIGIN_CUM, (h & 0xFFFF) / 65536.0 * _ORIGIN_CUM[-1])]
        given_pool, family_pool, cjk = vocab.PERSON_NAMES[origin]
        given, family = given_pool[(h >> 16) % len(given_pool)], family_pool[(h >> 24) % len(family_pool)]
        original = f"{family[1]}{given[1]}" if cjk else f"{given[1]} {family[1]}"
        g = (h >> 32) % 100
        gender = 0 if g < 12 else 1 if g < 52 else 2 if g < 99 else 3
        if role == 0:
            dept = "Acting"
        elif role == 1:
            dept = "Directing"
        else:
            dept = vocab.CREW_JOBS[(h >> 40) % len(vocab.CREW_JOBS)][2]
        has_profile = ((h >> 48) & 0xFF) < (153 if role == 0 else 90)
        gauss = (((h >> 56) & 0xFF) + ((h >> 8) & 0xFF) + ((h >> 36) & 0xFF)) / 255.0 - 1.5  # ~N(0, 0.5)
        return {
            "adult": False,
            "gender": gender,
            "id": person_id,
            "known_for_department": dept,
            "name": f"{given[0]} {family[0]}",
            "original_name": original,
            "popularity": round(0.6 + math.exp(2.0 * gauss), 3),
            "profile_path": self.image_path(PATH_PROFILE, person_id) if has_profile else None,
        }

    def _pick_person(self, rng: random.Random, role: int) -> int:
        pool = (self._actor_pool, self._director_pool, self._crew_pool)[role]
        k = int(pool * rng.random() ** 2.2)
        return 1000 + 3 * k + role

    # ------------------------------------------------------------------ per-movie text
    def _record(self, movie_id: int) -> dict[str, Any] | None:
        """Static per-movie text fields (cached LRU); None for unknown ids."""
        with self._lock:
            record = self._records.get(movie_id)
            if record is not None:
                self._records.move_to_end(movie_id)
                return record
        summary = self.summary(movie_id)
        if summary is None:
            return None
        record = self._make_record(summary)
        with self._lock:
            self._records[movie_id] = record
            if len(self._records) > 20000:
                self._records.popitem(last=False)
        return record

    def _make_record(self, s: MovieSummary) -> dict[str, Any]:
        rng = random.Random(mix64(self.seed, _S_TEXT, s.id))
        genre_ids: list[int] = []
        if rng.random() > 0.05:
            for _ in range(rng.choices([1, 2, 3], weights=[0.45, 0.38, 0.17])[0]):
                g = _weighted_choice(rng, vocab.GENRE_WEIGHTS)
                if g not in genre_ids:
                    genre_ids.append(g)
        lang = _weighted_choice(rng, vocab.LANGUAGE_WEIGHTS)
        vocab_genres = genre_ids or [18]
        title = _make_title(rng, vocab_genres)
        original_title = title
        if lang != "en" and lang in vocab.NATIVE_TITLE_WORDS and rng.random() < 0.7:
            adjs, nouns, pattern = vocab.NATIVE_TITLE_WORDS[lang]
            original_title = pattern.format(a=rng.choice(adjs), n=rng.choice(nouns))
        overview = "" if rng.random() < 0.15 else _make_overview(rng, vocab_genres)
        tagline = _make_tagline(rng, vocab_genres) if rng.random() < 0.35 else ""
        return {
            "genre_ids": genre_ids,
            "original_language": lang,
            "original_title": original_title,
            "title": title,
            "overview": overview,
            "tagline": tagline,
            "poster_path": None if rng.random() < 0.13 else self.image_path(PATH_POSTER, s.id),
            "backdrop_path": None if rng.random() < 0.5 else self.image_path(PATH_BACKDROP, s.id),
        }

    def discover_item(self, movie_id: int, popularity: float | None = None) -> dict[str, Any] | None:
        """A discover/popular result item (exactly TMDb's 14 keys)."""
        s = self.summary(movie_id)
        if s is None:
            return None
        r = self._record(movie_id)
        assert r is not None
        return {
            "adult": s.adult,
            "backdrop_path": r["backdrop_path"],
            "genre_ids": list(r["genre_ids"]),
            "id": movie_id,
            "original_language": r["original_language"],
            "original_title": r["original_title"],
            "overview": r["overview"],
            "popularity": s.popularity if popularity is None else round(popularity, 3),
            "poster_path": r["poster_path"],
            "release_date": s.release_date.isoformat(),
            "title": r["title"],
            "video": s.video,
            "vote_average": s.vote_average,
            "vote_count": s.vote_count,
        }

    # ------------------------------------------------------------------ details
    def details(self, movie_id: int, as_of: dt.date | None = None) -> dict[str, Any] | None:
        """Full ``/movie/{id}`` payload plus ``credits``/``keywords``/``external_ids``/``release_dates``.

        With ``as_of``, vote_count / vote_average / popularity reflect the movie's revision at that date.
        The appendable sub-objects are returned under their keys (without ``id``); the server strips the
        ones not requested.
        """
        s = self.summary(movie_id)
        if s is None:
            return None
        r = self._record(movie_id)
        assert r is not None
        rng = random.Random(mix64(self.seed, _S_CREDITS, movie_id))
        lang = r["original_language"]
        countries = sorted(
            {
                rng.choice(vocab.LANGUAGE_COUNTRIES.get(lang, ["US"]))
                for _ in range(rng.choice([1, 1, 1, 2]))
            }
        )
        popularity, vote_count, vote_average = s.popularity, s.vote_count, s.vote_average
        rev = self.revision(movie_id, as_of) if as_of is not None else 0
        if rev:
            h = mix64(self.seed, movie_id, rev)
            vote_count += rev * (1 + movie_id % 4)
            popularity = round(popularity * (0.85 + 0.3 * ((h & 0xFFFF) / 0xFFFF)), 3)
            base = vote_average if vote_average > 0 else 6.0
            vote_average = round(min(10.0, max(0.5, base + ((h >> 16) % 11 - 5) / 50)), 3)
        has_budget = rng.random() < 0.2
        budget = int(round(rng.lognormvariate(15.5, 1.3), -3)) if has_budget else 0
        revenue = (
            int(round(budget * rng.lognormvariate(0.6, 1.0), -3))
            if has_budget and rng.random() < 0.7
            else 0
        )
        runtime = 0 if rng.random() < 0.08 else max(3, min(240, int(rng.gauss(95, 22))))
        status = "Released"
        roll = rng.random()
        if s.release_date > dt.date(2026, 11, 1):
            status = rng.choice(["Post Production", "In Production", "Planned"])
        elif roll < 0.01:
            status = "Rumored"
        elif roll < 0.015:
            status = "Canceled"
        collection = None
        if rng.random() < 0.08:
            cid = 10 + movie_id * 3
            collection = {
                "id": cid,
                "name": f"{r['title']} Collection",
                "poster_path": self.image_path(PATH_COLLECTION, cid),
                "backdrop_path": None,
            }
        companies = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            k = int(self._company_pool * rng.random() ** 2)
            crng = random.Random(mix64(self.seed, 77, k))
            companies.append(
                {
                    "id": 100 + 13 * k,
                    "logo_path": self.image_path(PATH_LOGO, k, "png") if crng.random() < 0.5 else None,
                    "name": f"{crng.choice(vocab.COMPANY_WORDS)} {crng.choice(vocab.COMPANY_SUFFIXES)}",
                    "origin_country": crng.choice(vocab.LANGUAGE_COUNTRIES.get(lang, ["US"])),
                }
            )
        english, native = vocab.LANGUAGE_NAMES.get(lang, ("English", "English"))
        imdb_id = f"tt{(movie_id * 7919) % 9_000_000 + 100_000:07d}" if rng.random() < 0.75 else None
        slug = "".join(c for c in r["title"].lower() if c.isalnum())[:24] or "movie"
        details: dict[str, Any] = {
            "adult": s.adult,
            "backdrop_path": r["backdrop_path"],
            "belongs_to_collection": collection,
            "budget": budget,
            "genres": [{"id": g, "name": vocab.GENRE_NAMES[g]} for g in r["genre_ids"]],
            "homepage": f"https://www.{slug}.example/" if rng.random() < 0.15 else "",
            "id": movie_id,
            "imdb_id": imdb_id,
            "origin_country": countries,
            "original_language": lang,
            "original_title": r["original_title"],
            "overview": r["overview"],
            "popularity": popularity,
            "poster_path": r["poster_path"],
            "production_companies": companies,
            "production_countries": [
                {"iso_3166_1": c, "name": vocab.COUNTRY_NAMES.get(c, c)} for c in countries
            ],
            "release_date": s.release_date.isoformat(),
            "revenue": revenue,
            "runtime": runtime,
            "spoken_languages": [{"english_name": english, "iso_639_1": lang, "name": native}],
            "status": status,
            "tagline": r["tagline"],
            "title": r["title"],
            "video": s.video,
            "vote_average": vote_average,
            "vote_count": vote_count,
        }
        details["credits"] = self._credits(movie_id, rng, r["genre_ids"])
        details["keywords"] = {"keywords": _keywords(rng, r["genre_ids"])}
        details["external_ids"] = {
            "imdb_id": imdb_id,
            "wikidata_id": None,
            "facebook_id": None,
            "instagram_id": None,
            "twitter_id": None,
        }
        details["release_dates"] = {
            "results": [
                {
                    "iso_3166_1": countries[0],
                    "release_dates": [
                        {
                            "certification": "",
                            "descriptors": [],
                            "iso_639_1": "",
                            "note": "",
                            "release_date": f"{s.release_date.isoformat()}T00:00:00.000Z",
                            "type": 3,
                        }
                    ],
                }
            ]
        }
        return details

    def _credits(self, movie_id: int, rng: random.Random, genre_ids: list[int]) -> dict[str, Any]:
        cast: list[dict[str, Any]] = []
        no_cast = 0.6 if 99 in genre_ids else 0.22
        if rng.random() >= no_cast:
            n = min(30, 1 + int(rng.lognormvariate(1.8, 0.8)))
            seen: set[int] = set()
            for _ in range(n):
                pid = self._pick_person(rng, 0)
                if pid in seen:
                    continue
                seen.add(pid)
                order = len(cast)
                cast.append(
                    {
                        **self._person_cache(pid),
                        "cast_id": order + 1,
                        "character": rng.choice(vocab.CHARACTER_NAMES),
                        "credit_id": _credit_id(self.seed, movie_id, pid, 0),
                        "order": order,
                    }
                )
        crew: list[dict[str, Any]] = []
        n_directors = rng.choices([0, 1, 2], weights=[0.09, 0.85, 0.06])[0]
        people: list[tuple[int, str, str]] = [
            (self._pick_person(rng, 1), "Director", "Directing") for _ in range(n_directors)
        ]
        for _ in range(rng.randint(0, 6)):
            job, dept, _known = rng.choice(vocab.CREW_JOBS)
            people.append((self._pick_person(rng, 2), job, dept))
        seen_jobs: set[tuple[int, str]] = set()
        for j, (pid, job, dept) in enumerate(people):
            if (pid, job) in seen_jobs:
                continue
            seen_jobs.add((pid, job))
            crew.append(
                {
                    **self._person_cache(pid),
                    "credit_id": _credit_id(self.seed, movie_id, pid, j + 1),
                    "department": dept,
                    "job": job,
                }
            )
        return {"cast": cast, "crew": crew}


# ---------------------------------------------------------------------- helpers
def _credit_id(seed: int, movie_id: int, person_id: int, slot: int) -> str:
    return hashlib.blake2b(f"{seed}:{movie_id}:{person_id}:{slot}".encode(), digest_size=12).hexdigest()


def _vocab_of(
    rng: random.Random, genre_ids: list[int]
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    return vocab.GENRE_VOCAB[rng.choice(genre_ids)]


def _make_title(rng: random.Random, genre_ids: list[int]) -> str:
    nouns, adjs, _events, _settings, keywords = _vocab_of(rng, genre_ids)
    noun = rng.choice(nouns).title()
    adj = rng.choice(adjs).title()
    pattern = rng.randrange(6)
    if pattern == 0:
        title = f"The {adj} {noun}"
    elif pattern == 1:
        title = f"{adj} {rng.choice(keywords).title()}"
    elif pattern == 2:
        title = f"{noun} of the {rng.choice(_vocab_of(rng, genre_ids)[0]).title()}"
    elif pattern == 3:
        title = f"{rng.choice(vocab.CHARACTER_NAMES[:16])}'s {noun}"
    elif pattern == 4:
        title = f"{adj} {noun}s"
    else:
        title = rng.choice(keywords).title()
    if rng.random() < 0.05:
        title += f" {rng.choice([2, 3, 'II', 'Returns', ': The Beginning'])}".replace(" :", ":")
    return title


def _make_overview(rng: random.Random, genre_ids: list[int]) -> str:
    sentences = []
    for _ in range(rng.randint(2, 4)):
        nouns, adjs, events, settings, _kw = _vocab_of(rng, genre_ids)
        template = rng.choice(vocab.OVERVIEW_TEMPLATES)
        setting = rng.choice(settings)
        sentence = template.format(
            adj=rng.choice(adjs),
            noun=rng.choice(nouns),
            noun2=rng.choice(nouns),
            event=rng.choice(events),
            setting=setting,
            Setting=setting[0].upper() + setting[1:],
        )
        sentence = _ARTICLE.sub(r"\1n \2", sentence)
        sentences.append(sentence[0].upper() + sentence[1:])
    return " ".join(sentences)


def _make_tagline(rng: random.Random, genre_ids: list[int]) -> str:
    nouns, adjs, *_ = _vocab_of(rng, genre_ids)
    adj = rng.choice(adjs)
    return rng.choice(vocab.TAGLINE_TEMPLATES).format(noun=rng.choice(nouns), adj=adj, Adj=adj.title())


def _keyword_table() -> dict[str, int]:
    names: list[str] = []
    for _gid, (*_, keywords) in vocab.GENRE_VOCAB.items():
        names.extend(k for k in keywords if k not in names)
    names.extend(k for k in vocab.GENERIC_KEYWORDS if k not in names)
    return {name: 1000 + 37 * i for i, name in enumerate(names)}


_KEYWORD_IDS = _keyword_table()
_ARTICLE = re.compile(r"\b([Aa]) ([aeiouAEIOU])")


def _keywords(rng: random.Random, genre_ids: list[int]) -> list[dict[str, Any]]:
    if rng.random() < 0.2:
        return []
    chosen: list[str] = []
    for _ in range(rng.randint(1, 10)):
        pool = (
            vocab.GENERIC_KEYWORDS
            if not genre_ids or rng.random() < 0.15
            else vocab.GENRE_VOCAB[rng.choice(genre_ids)][4]
        )
        name = rng.choice(pool)
        if name not in chosen:
            chosen.append(name)
    return [{"id": _KEYWORD_IDS[name], "name": name} for name in chosen]
