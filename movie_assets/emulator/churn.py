"""The living catalog: what changes day by day after the catalog's base day, as on TMDb.

On the base day (``start``) the catalog is exactly the static, seeded one. Each later day ``d``:

* **moves**: a share ``rates.move`` of the live base movies get a new release date: usually within two months
  of the old one (so often into the neighbouring year), sometimes any year, sometimes none at all (undated);
* **deletions**: a share ``rates.delete`` of the live base movies are deleted (404 on details, gone from the
  next export, and, as on TMDb, never in the changes feed);
* **additions**: ``rates.add`` × the base size new movies appear, with ids above every base id, dated in a
  recent year, in an old year, or undated;
* **flag flips**: a share ``rates.flip`` of the live base movies toggle one flag, ``adult`` or ``video`` (half
  each); a later flip may toggle it back. Details, discover, the exports (adult titles in the adult file) and
  `Catalog.live_movies` all show the movie's current flags;
* **overview edits**: a share ``rates.edit`` of the live base movies get a new overview (generated from the
  movie's id and its count of edits); nothing else about them changes;
* **new posters**: a share ``rates.poster`` of the day's changes of the change calendar (`changes`: the edits
  the changes feed has always listed, ~0.1 % of the movies a day) give the movie a new poster: its version
  goes up by one and its ``poster_path`` becomes a new file (`images.poster_path`; a movie without a poster
  keeps none). Details, discover and the image server all read the version from the overlay.

Flips and edits are in the changes feed, as moves and additions are; a new poster is in it through the change
that brought it. The daily exports can also be wrong
(`export_omitted`, applied by `movie_assets.emulator.exports`): each day's export omits a share
``rates.export_omit`` of the live movies by mistake, and with probability ``rates.export_partial`` a day's
export is partial and omits a further ``rates.export_partial_share`` of them. Omitted movies still exist
(details answer 200, discover lists them, `Catalog.live_movies` keeps them); each day's omissions are
drawn anew.

Every event is a pure function of ``(seed, day, id)`` (hashing, `mix64`), replayed forward from ``start``,
so the catalog on any day is reproducible, and the changes feed (`Overlay.events`) lists exactly the
movies moved or added that day. The emulator's clock decides which day the catalog is on.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .hashing import mix64, mix_round, unit
from .images import poster_path
from .text import make_overview
from .years import MovieSummary

# Salts of this module's random streams (the catalog's other streams are salted 101-109).
_S_MOVE, _S_DELETE, _S_ADD, _S_MOVE_DATE = 110, 111, 112, 113
_S_FLIP, _S_EDIT, _S_OMIT, _S_PARTIAL, _S_EDIT_TEXT, _S_POSTER = 114, 115, 116, 117, 118, 119
ADULT, VIDEO = 1, 2  # flag bits, as in `movie_assets.emulator.years.YearData.flags`


@dataclass(frozen=True)
class ChurnRates:
    """Daily rates of change (shares of the base catalog), and how moves and additions are dated."""

    move: float = 0.0003
    delete: float = 0.0001
    add: float = 0.0005
    move_to_undated: float = 0.05  # of moves: the date is removed
    move_any_year: float = 0.2  # of moves: a date in any year (else within 60 days of the old one)
    add_undated: float = 0.1  # of additions: no release date
    add_old_year: float = 0.25  # of additions: a date in an old year (else this year or the next two)
    flip: float = 0.0  # live base movies whose adult or video flag toggles
    edit: float = 0.0  # live base movies whose overview is rewritten
    poster: float = 0.1  # of the change calendar's changes of a day: those that bring a new poster
    export_omit: float = 0.0  # live movies each day's export leaves out by mistake
    export_partial: float = 0.0  # probability that a day's export is partial ...
    export_partial_share: float = 0.05  # ... and leaves out this further share of the movies

    def __post_init__(self) -> None:
        for name in ("move", "delete", "add", "move_to_undated", "move_any_year", "add_undated", "add_old_year",
                     "flip", "edit", "poster", "export_omit", "export_partial", "export_partial_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"churn rate {name} must be within [0, 1]")


NO_CHURN = ChurnRates(move=0.0, delete=0.0, add=0.0)


@dataclass
class Overlay:
    """The catalog on ``day`` relative to the base: what was deleted, moved and added so far."""

    day: dt.date
    deleted: dict[int, dt.date] = field(default_factory=dict)  # base id -> day it was deleted
    moved: dict[int, dt.date | None] = field(default_factory=dict)  # base id -> its current date
    added: dict[int, MovieSummary] = field(default_factory=dict)  # new id -> its summary
    events: dict[dt.date, list[int]] = field(default_factory=dict)  # day -> ids moved, added, flipped, edited
    next_id: int = 0
    flags: dict[int, int] = field(default_factory=dict)  # base id -> its current flags, once flipped
    edits: dict[int, int] = field(default_factory=dict)  # base id -> how many times its overview was edited
    posters: dict[int, int] = field(default_factory=dict)  # base id -> its poster version, once it changed

    @property
    def empty(self) -> bool:
        """True when every year's arrays are the base ones (edits change no array)."""
        return not (self.deleted or self.moved or self.added or self.flags)

    def copy(self, day: dt.date) -> Overlay:
        return Overlay(day, dict(self.deleted), dict(self.moved), dict(self.added), dict(self.events), self.next_id,
                       dict(self.flags), dict(self.edits), dict(self.posters))

    def current(self, base: MovieSummary) -> MovieSummary:
        """A live base movie's summary today: its current release date and flags."""
        summary = base
        if base.id in self.moved:
            summary = summary._replace(release_date=self.moved[base.id])
        if base.id in self.flags:
            bits = self.flags[base.id]
            summary = summary._replace(adult=bool(bits & ADULT), video=bool(bits & VIDEO))
        return summary


class Churn:
    """Replays the daily events from ``start`` on; `overlay(day)` is the state on a day (cached)."""

    def __init__(
        self,
        seed: int,
        start: dt.date,
        rates: ChurnRates,
        *,
        base_ids: Callable[[], np.ndarray],
        base_summary: Callable[[int], MovieSummary | None],
        first_id: int,
        years: range,
        changed_on: Callable[[dt.date], np.ndarray] | None = None,
    ) -> None:
        self.seed, self.start, self.rates, self.years = seed, start, rates, years
        self._base_ids = base_ids
        self._base_summary = base_summary
        self._changed_on = changed_on  # the change calendar's ids of a day, whose share `rates.poster` get a poster
        self._base_size: int | None = None
        self._overlays: dict[dt.date, Overlay] = {start: Overlay(start, next_id=first_id)}
        self._lock = threading.Lock()

    def overlay(self, day: dt.date) -> Overlay:
        """The catalog's changes from ``start`` up to and including ``day`` (empty on or before ``start``)."""
        day = max(day, self.start)
        with self._lock:
            if day in self._overlays:
                return self._overlays[day]
            known = max(d for d in self._overlays if d < day)
            state = self._overlays[known]
            while known < day:
                known += dt.timedelta(days=1)
                state = self._step(state, known)
                self._overlays[known] = state
            return state

    # -- one day ------------------------------------------------------------------------------------------
    def _step(self, previous: Overlay, day: dt.date) -> Overlay:
        state = previous.copy(day)
        ids = self._base_ids()
        if self._base_size is None:
            self._base_size = int(ids.shape[0])
        live = ids[~np.isin(ids, np.fromiter(state.deleted, np.int64, len(state.deleted)))]
        events: list[int] = []
        for movie_id in self._hits(live, _S_MOVE, day, self.rates.move):
            state.moved[movie_id] = self._new_date(movie_id, day, state.moved)
            events.append(movie_id)
        for movie_id in self._hits(live, _S_FLIP, day, self.rates.flip):
            bit = ADULT if unit(self.seed, _S_FLIP, day.toordinal(), movie_id, 1) < 0.5 else VIDEO
            state.flags[movie_id] = self._flags(movie_id, state.flags) ^ bit
            events.append(movie_id)
        for movie_id in self._hits(live, _S_EDIT, day, self.rates.edit):
            state.edits[movie_id] = state.edits.get(movie_id, 0) + 1
            events.append(movie_id)
        for movie_id in self._hits(live, _S_DELETE, day, self.rates.delete):
            state.deleted[movie_id] = day
            for changes in (state.moved, state.flags, state.edits, state.posters):
                changes.pop(movie_id, None)
        for movie_id in self._new_posters(day, state.deleted):
            state.posters[movie_id] = state.posters.get(movie_id, 0) + 1
        for k in range(self._additions(day)):
            summary = self._new_movie(state.next_id, day, k)
            state.added[summary.id] = summary
            state.next_id += 1
            events.append(summary.id)
        deleted_today = {i for i, d in state.deleted.items() if d == day}
        state.events[day] = sorted(set(events) - deleted_today)
        return state

    def _new_posters(self, day: dt.date, deleted: dict[int, dt.date]) -> list[int]:
        if self.rates.poster <= 0 or self._changed_on is None:
            return []
        changed = self._changed_on(day)
        hit = mix_round(mix64(self.seed, _S_POSTER, day.toordinal()), changed) < _threshold(self.rates.poster)
        return [i for i in changed[hit].tolist() if i not in deleted]

    def _flags(self, movie_id: int, flags: dict[int, int]) -> int:
        if movie_id in flags:
            return flags[movie_id]
        base = self._base_summary(movie_id)
        return (int(base.adult) | int(base.video) << 1) if base is not None else 0

    def _hits(self, ids: np.ndarray, salt: int, day: dt.date, rate: float) -> list[int]:
        if rate <= 0 or ids.size == 0:
            return []
        h = mix_round(mix64(self.seed, salt, day.toordinal()), ids)
        return sorted(int(i) for i in ids[h < np.uint64(int(rate * (1 << 64)) - 1)])

    def _additions(self, day: dt.date) -> int:
        expected = self.rates.add * (self._base_size or 0)
        whole = int(expected)
        return whole + (1 if unit(self.seed, _S_ADD, day.toordinal()) < expected - whole else 0)

    def _current_date(self, movie_id: int, moved: dict[int, dt.date | None]) -> dt.date | None:
        if movie_id in moved:
            return moved[movie_id]
        summary = self._base_summary(movie_id)
        return summary.release_date if summary is not None else None

    def _new_date(self, movie_id: int, day: dt.date, moved: dict[int, dt.date | None]) -> dt.date | None:
        u = unit(self.seed, _S_MOVE_DATE, day.toordinal(), movie_id, 0)
        if u < self.rates.move_to_undated:
            return None
        old = self._current_date(movie_id, moved) or day
        if u < self.rates.move_to_undated + self.rates.move_any_year:
            return self._random_date(_S_MOVE_DATE, day, movie_id, self.years.start, self.years.stop - 1)
        shift = int(unit(self.seed, _S_MOVE_DATE, day.toordinal(), movie_id, 1) * 121) - 60 or 1
        new = old + dt.timedelta(days=shift)
        return min(max(new, dt.date(self.years.start, 1, 1)), dt.date(self.years.stop - 1, 12, 31))

    def _random_date(self, salt: int, day: dt.date, key: int, first_year: int, last_year: int) -> dt.date:
        years = last_year - first_year + 1
        year = first_year + int(unit(self.seed, salt, day.toordinal(), key, 2) * years)
        length = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
        return dt.date(year, 1, 1) + dt.timedelta(days=int(unit(self.seed, salt, day.toordinal(), key, 3) * length))

    def _new_movie(self, movie_id: int, day: dt.date, k: int) -> MovieSummary:
        def draw(part: int) -> float:
            return unit(self.seed, _S_ADD, day.toordinal(), k, part)

        kind = draw(0)
        last = self.years.stop - 1
        if kind < self.rates.add_undated:
            release: dt.date | None = None
        elif kind < self.rates.add_undated + self.rates.add_old_year:
            release = self._random_date(_S_ADD, day, k, self.years.start, max(self.years.start, day.year - 2))
        else:
            release = self._random_date(_S_ADD, day, k, min(day.year, last), min(day.year + 2, last))
        return MovieSummary(
            id=movie_id,
            release_date=release,
            popularity=round(0.6 + 2.0 * draw(1) ** 3, 3),
            vote_count=0,
            vote_average=0.0,
            adult=draw(4) < 0.015,
            video=draw(5) < 0.02,
        )


def edited_record(seed: int, movie_id: int, record: dict, edits: int, poster: int = 0) -> dict:
    """A movie's text record after ``edits`` overview edits and with its poster of version ``poster`` (the
    record itself when neither changed)."""
    if not edits and not (poster and record["poster_path"]):
        return record
    record = dict(record)
    if edits:
        rng = random.Random(mix64(seed, _S_EDIT_TEXT, movie_id, edits))
        record["overview"] = make_overview(rng, record["genre_ids"] or [18])
    if poster and record["poster_path"]:
        record["poster_path"] = poster_path(seed, movie_id, poster)
    return record


def is_partial_export(seed: int, rates: ChurnRates, day: dt.date) -> bool:
    """Whether the export of ``day`` is a partial one (it omits a further ``export_partial_share``)."""
    return rates.export_partial > 0 and unit(seed, _S_PARTIAL, day.toordinal()) < rates.export_partial


def export_omitted(seed: int, rates: ChurnRates, day: dt.date, ids: np.ndarray) -> np.ndarray:
    """Which of ``ids`` (live movies) the export of ``day`` leaves out by mistake: a boolean mask, one
    deterministic draw per (day, movie) for the daily omissions and one more on a partial day."""
    ids = np.asarray(ids, np.int64)
    omitted = np.zeros(ids.shape[0], dtype=bool)
    if ids.size == 0:
        return omitted
    if rates.export_omit > 0:
        omitted |= mix_round(mix64(seed, _S_OMIT, day.toordinal()), ids) < _threshold(rates.export_omit)
    if is_partial_export(seed, rates, day):
        h = mix_round(mix64(seed, _S_PARTIAL, day.toordinal(), 1), ids)
        omitted |= h < _threshold(rates.export_partial_share)
    return omitted


def _threshold(rate: float) -> np.uint64:
    return np.uint64(min(int(rate * (1 << 64)), (1 << 64) - 1))
