"""A deterministic, lazily generated TMDb-like movie catalog: the `Catalog` class.

Everything is a pure function of ``(seed, movies_per_year, day_cluster, first_year, last_year)``.

`Catalog` owns the id scheme and the caches, and composes the generators:

* `years`: per-year counts and compact summary arrays (~25 bytes per movie), built on first use;
* `selection`: discover filtering and ordering over those arrays;
* `records` (with `text` and `people`): text, details and credits, generated on demand from the movie id
  with a per-movie RNG; a small LRU keeps recently used records;
* `changes`: which movies change on which day, and their revisions;
* `franchises`: the collections, a few movies of neighbouring years each;
* `images`: the image paths the payloads refer to (the poster JPEGs themselves are drawn by `posters`).

Movie id scheme: ``id = 2 + year_index + n_years * slot`` with ``slot = i + i // 13`` (``i`` = index of the
movie within its year). The year is ``first_year + (id - 2) % n_years``; slots ``≡ 13 (mod 14)`` are holes,
so ids are unique, non-contiguous, not ordered by date, and decode in O(1).

Changes: each movie changes on ~``CHANGE_PROBABILITY`` of days; its revision as of a date shifts
vote_count / vote_average / popularity in `Catalog.details` (discover summaries stay at revision 0).

A living catalog: the catalog above is the state on ``churn_start`` (its base day). The catalog's clock
(`Catalog.day`, set by the emulator's clock) may move later; then `churn` applies each day's moves,
deletions and additions (undated titles among them), and every query (summaries, discover, details, the
changes feed, the daily exports) answers for the clock's day. On the base day nothing has changed, so an
unadvanced emulator serves exactly the static catalog.

The random streams are salted per purpose so they stay independent: 101 year arrays, 102 text, 103 details
and credits, 104 changes, 105 people, 107 year-size jitter, 108 January-1 share, 120-127 the other appends
and odd cases of the details (`appends`), 128-129 the collections (`franchises`), 130-131 the poster art.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from . import franchises, images, records
from .changes import ChangeCalendar
from .churn import Churn, ChurnRates, Overlay, edited_record, export_omitted
from .images import PATH_BACKDROP, PATH_COLLECTION, PATH_LOGO, PATH_PROFILE
from .people import PersonPool
from .selection import SORT_KEYS, Selection, matching, ordered
from .years import MovieSummary, YearData, build_year, curve_count, jan1_share

CHANGE_PROBABILITY = 0.001  # share of the movies that change on any one day


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
        churn_start: dt.date = dt.date(2026, 11, 1),
        churn: ChurnRates | None = None,
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
        self._counts = {y: curve_count(self.seed, self.movies_per_year, y) for y in self.years}
        self._years: dict[int, YearData] = {}
        self._records: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._selections: OrderedDict[tuple, Selection] = OrderedDict()
        self._lock = threading.RLock()  # caches may be touched from the server thread and the caller's
        total = self.total_movies
        self._people = PersonPool(self.seed, total)
        self._company_pool = max(50, total // 200)
        self._changes = ChangeCalendar(self.seed, CHANGE_PROBABILITY, self._all_ids)
        self._max_base_id = max(int(self._encode(y, n - 1)) for y, n in self._counts.items())
        self.churn_start = churn_start
        self.day = churn_start  # the clock: which day of the living catalog every query answers for
        self._churn = Churn(
            self.seed,
            churn_start,
            churn or ChurnRates(),
            base_ids=self._all_ids,
            base_summary=self._base_summary,
            first_id=self._max_base_id + 1,
            years=self.years,
            changed_on=self._changes.changed_on,
        )
        self._effective: OrderedDict[tuple[int, dt.date], YearData] = OrderedDict()

    # ------------------------------------------------------------------ sizes and ids
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
        """Return ``(year, index within year)`` for a movie id of the base catalog, else None."""
        if not isinstance(movie_id, int) or movie_id < 2 or movie_id > self._max_base_id:
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
        """True when ``movie_id`` is a movie of this catalog on the clock's day."""
        return self.summary(movie_id) is not None

    # ------------------------------------------------------------------ the living catalog
    def set_day(self, day: dt.date) -> None:
        """Move the catalog's clock (the emulator's clock does this); never before the base day."""
        self.day = max(day, self.churn_start)

    def overlay(self, day: dt.date | None = None) -> Overlay:
        """What changed between the base day and ``day`` (default: the clock's day)."""
        return self._churn.overlay(day or self.day)

    def live_movies(
        self, include_adult: bool = False, include_video: bool = False, day: dt.date | None = None
    ) -> dict[int, int | None]:
        """Ground truth: every movie of the catalog on ``day`` (default: the clock's day) under the adult/video
        policy, with its release year (None when undated)."""
        movies: dict[int, int | None] = {}
        excluded = (0 if include_adult else 1) | (0 if include_video else 2)
        for year in self.years:
            if self.year_count(year):
                data = self.year_data(year, day)
                keep = (data.flags & excluded) == 0
                movies.update(dict.fromkeys(data.ids[keep].tolist(), year))
        for s in self.undated(day):
            if not ((s.adult and not include_adult) or (s.video and not include_video)):
                movies[s.id] = None
        return movies

    def undated(self, day: dt.date | None = None) -> list[MovieSummary]:
        """Movies without a release date on ``day`` (default: the clock's day), by id."""
        overlay = self.overlay(day)
        found = [s for s in overlay.added.values() if s.release_date is None]
        found += [overlay.current(self._base_summary(i)) for i, d in overlay.moved.items() if d is None]
        return sorted(found, key=lambda s: s.id)

    def _all_ids(self) -> np.ndarray:
        return np.concatenate(
            [self._encode(y, np.arange(n, dtype=np.int64)) for y, n in self._counts.items()]
        ).astype(np.int64)

    # ------------------------------------------------------------------ per-year summaries
    def _year(self, year: int) -> YearData:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            if year not in self._years:
                span = max(1, self.last_year - self.first_year)
                self._years[year] = build_year(
                    year,
                    self._encode(year, np.arange(self._counts[year], dtype=np.int64)).astype(np.int32),
                    seed=self.seed,
                    movies_per_year=self.movies_per_year,
                    jan1=jan1_share(self.seed, year, self.day_cluster),
                    recency=0.25 + 0.75 * ((year - self.first_year) / span) ** 2,
                )
            return self._years[year]

    def year_data(self, year: int, day: dt.date | None = None) -> YearData:
        """The compact arrays of the movies dated in ``year`` on ``day`` (default: the clock's day)."""
        overlay = self.overlay(day)
        if overlay.empty:
            return self._year(year)
        key = (year, overlay.day)
        with self._lock:
            cached = self._effective.get(key)
            if cached is not None:
                return cached
        changed = {*overlay.moved, *overlay.flags}  # base movies dated or flagged otherwise than in the base
        hidden = np.fromiter([*overlay.deleted, *changed], np.int64, len(overlay.deleted) + len(changed))
        extra = [overlay.current(self._base_summary(i)) for i in sorted(changed)]
        extra += list(overlay.added.values())
        data = self._year(year).without(hidden, [s for s in extra if s.release_date and s.release_date.year == year])
        with self._lock:
            self._effective[key] = data
            while len(self._effective) > 256:
                self._effective.popitem(last=False)
        return data

    def _base_summary(self, movie_id: int) -> MovieSummary | None:
        decoded = self.decode_id(movie_id)
        if decoded is None:
            return None
        year, index = decoded
        data = self._year(year)
        return data.summary(int(data.pos_of_index[index]))

    def summary(self, movie_id: int, day: dt.date | None = None) -> MovieSummary | None:
        """The discover-level summary of one movie on ``day`` (default: the clock's day), or None for an
        unknown or deleted id."""
        overlay = self.overlay(day)
        if movie_id in overlay.added:
            return overlay.added[movie_id]
        if movie_id in overlay.deleted:
            return None
        base = self._base_summary(movie_id)
        return overlay.current(base) if base is not None else None

    def export_omitted(self, day: dt.date) -> set[int]:
        """Truth: the movies live on ``day`` (any flags) that the export of ``day`` leaves out by mistake."""
        ids = np.fromiter(self.live_movies(True, True, day), np.int64)
        return set(ids[export_omitted(self.seed, self._churn.rates, day, ids)].tolist())

    @property
    def churn_rates(self) -> ChurnRates:
        return self._churn.rates

    def movies_in_year(self, year: int) -> list[MovieSummary]:
        """All movies of ``year`` on the clock's day as summaries, in (date, popularity desc, id) order."""
        if year not in self._counts:
            return []
        return self.year_data(year).summaries()

    # ------------------------------------------------------------------ discover
    def _matching(
        self,
        gte: dt.date,
        lte: dt.date,
        include_adult: bool,
        include_video: bool,
        vote_count_gte: int | None,
        vote_count_lte: int | None,
    ) -> list[tuple[YearData, np.ndarray]]:
        first, last = max(gte.year, self.first_year), min(lte.year, self.last_year)
        years = (self.year_data(y) for y in range(first, last + 1))  # built lazily, oldest first
        return matching(years, gte, lte, include_adult, include_video, vote_count_gte, vote_count_lte)

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
        key = (self.day, gte, lte, include_adult, include_video, vote_count_gte, vote_count_lte, sort_by)
        with self._lock:
            cached = self._selections.get(key)
            if cached is not None:
                self._selections.move_to_end(key)
                return cached
            parts = self._matching(gte, lte, include_adult, include_video, vote_count_gte, vote_count_lte)
            selection = ordered(parts, sort_by, self._titles)
            self._selections[key] = selection
            while len(self._selections) > 1 and (
                len(self._selections) > 64 or sum(x.total for x in self._selections.values()) > 3_000_000
            ):
                self._selections.popitem(last=False)
            return selection

    # ------------------------------------------------------------------ changes and revisions
    def changed_ids(self, start: dt.date, end: dt.date) -> list[int]:
        """Ids of movies changed on any day in ``[start, end]``, deduplicated: edits (deterministic, ~0.1 %/day)
        and, after the base day, the living catalog's moves and additions up to the clock's day (deletions
        are not changes, as on TMDb)."""
        overlay = self.overlay()
        seen: dict[int, None] = {}
        day = start
        while day <= end:
            for movie_id in self._changes.changed_on(day).tolist():
                deleted_on = overlay.deleted.get(movie_id)
                if deleted_on is None or day < deleted_on:
                    seen.setdefault(movie_id, None)
            for movie_id in overlay.events.get(day, ()):
                seen.setdefault(movie_id, None)
            day += dt.timedelta(days=1)
        return list(seen)

    def revision(self, movie_id: int, as_of: dt.date) -> int:
        """How many times ``movie_id`` changed between 2012-10-05 and ``as_of`` (inclusive)."""
        if movie_id > self._max_base_id or not self.exists(movie_id):
            return 0  # movies the living catalog added are never edited afterwards (the feed would say so)
        return self._changes.revision(movie_id, as_of)

    # ------------------------------------------------------------------ images and people
    def image_path(self, kind: int, entity_id: int, ext: str = "jpg") -> str:
        """Deterministic TMDb-style file path (``/<27 base62 chars>.jpg``) for an entity's image."""
        return images.image_path(self.seed, kind, entity_id, ext)

    def parse_image_path(self, path: str) -> tuple[int, int] | None:
        """Inverse of `image_path`: ``(kind, entity_id)`` if ``path`` is one of ours, else None."""
        return images.parse_image_path(self.seed, path)

    def image_exists(self, path: str) -> bool:
        """True when ``path`` is an image some payload of this catalog refers to."""
        parsed = self.parse_image_path(path)
        if parsed is None:
            return False
        kind, entity_id = parsed
        poster = images.poster_of(kind, entity_id)
        if poster is not None:  # the movie's poster of today or of any earlier version
            record = self._record(poster[0])
            return record is not None and bool(record["poster_path"]) and poster[1] <= self.poster_version(poster[0])
        if kind == PATH_BACKDROP:
            record = self._record(entity_id)
            return record is not None and path == record["backdrop_path"]
        if kind == PATH_PROFILE:
            person = self.person(entity_id)
            return person is not None and person["profile_path"] == path
        return kind in (PATH_LOGO, PATH_COLLECTION)

    def poster_version(self, movie_id: int) -> int:
        """How many times the movie's poster changed between the base day and the clock's day (`churn`)."""
        return self.overlay().posters.get(movie_id, 0)

    def collection(self, movie_id: int) -> dict[str, Any] | None:
        """The movie's ``belongs_to_collection`` (`franchises`), or None."""
        return franchises.collection(self.seed, movie_id, self._n_years, self.decode_id)

    def collection_id(self, movie_id: int) -> int | None:
        """The id of the movie's collection (`franchises`), or None."""
        return franchises.collection_id(self.seed, movie_id, self._n_years, self.decode_id)

    def person(self, person_id: int) -> dict[str, Any] | None:
        """A person of the pool (actor, director or other crew), or None."""
        return self._people.person(person_id)

    # ------------------------------------------------------------------ per-movie payloads
    def _record(self, movie_id: int) -> dict[str, Any] | None:
        """Static per-movie text fields (cached LRU); None for unknown ids."""
        with self._lock:
            record = self._records.get(movie_id)
            if record is not None:
                self._records.move_to_end(movie_id)
                return record
        if self.summary(movie_id) is None:
            return None
        record = records.make_record(self.seed, movie_id)
        with self._lock:
            self._records[movie_id] = record
            if len(self._records) > 20000:
                self._records.popitem(last=False)
        return record

    def _titles(self, ids: np.ndarray, field: str) -> list[str]:
        """``field`` (title or original_title) of each movie, for title sorts (without the record cache)."""
        return [records.make_record(self.seed, movie_id)[field] for movie_id in ids.tolist()]

    def original_title(self, movie_id: int) -> str:
        """The movie's original title (a function of its id), without touching the record cache (for
        whole-catalog scans such as the daily exports)."""
        return records.make_record(self.seed, movie_id)["original_title"]

    def discover_item(self, movie_id: int, popularity: float | None = None) -> dict[str, Any] | None:
        """A discover/popular result item (exactly TMDb's 14 keys)."""
        s = self.summary(movie_id)
        if s is None:
            return None
        return records.discover_item(s, self._text(movie_id), popularity)

    def details(self, movie_id: int, as_of: dt.date | None = None) -> dict[str, Any] | None:
        """Full ``/movie/{id}`` payload plus every appendable sub-object (`records.details`).

        With ``as_of``, vote_count / vote_average / popularity reflect the movie's revision at that date.
        The appendable sub-objects are returned under their keys (without ``id``); the server strips the
        ones not requested. Videos are published by the catalog's base day at the latest, so a payload does
        not change as the clock moves unless the movie itself changes.
        """
        s = self.summary(movie_id)
        if s is None:
            return None
        revision = self.revision(movie_id, as_of) if as_of is not None else 0
        return records.details(
            self.seed, s, self._text(movie_id), revision, self._people, self._company_pool, self.churn_start,
            self.collection(movie_id),
        )

    def _text(self, movie_id: int) -> dict[str, Any]:
        """A live movie's text record today (its overview as edited so far, its poster of today)."""
        r = self._record(movie_id)
        assert r is not None
        overlay = self.overlay()
        return edited_record(self.seed, movie_id, r, overlay.edits.get(movie_id, 0), overlay.posters.get(movie_id, 0))
