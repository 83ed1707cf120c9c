"""Movies similar to a title, answered from the saved FAISS index.

`MovieSearch.load(lake)` reads the index, its id map and titles once; `similar()` then answers in
milliseconds. Titles match exactly, ignoring case and surrounding spaces. An unknown title raises
`TitleNotFound` (with close matches), a title shared by several movies raises `AmbiguousTitle` (with the
candidates and their years). The ``movie-assets similar`` command is in `movie_assets.cli.similar`.
"""

from __future__ import annotations

import difflib
import os
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from movie_assets.embeddings.index import INDEX_SUBDIR, load_index
from movie_assets.lake import Lake

DIFFLIB_FULL_SCAN_MAX = 50_000


@dataclass(frozen=True)
class Movie:
    """One indexed movie."""

    movie_id: int
    title: str | None
    year: int | None

    def label(self) -> str:
        return f"{self.title} ({self.year if self.year is not None else 'undated'})"


@dataclass(frozen=True)
class Neighbour:
    """One answer: rank (1 = closest), cosine similarity and the movie."""

    rank: int
    score: float
    movie: Movie


class SearchError(LookupError):
    """A title could not be resolved to one movie; ``str(exc)`` is a message for people."""


class TitleNotFound(SearchError):
    """No indexed movie has this title (``suggestions``: close titles, with years)."""

    def __init__(self, message: str, suggestions: list[str]):
        super().__init__(message)
        self.suggestions = suggestions


class AmbiguousTitle(SearchError):
    """Several indexed movies share this title (``candidates``), and no year (or an ambiguous one) was given."""

    def __init__(self, message: str, candidates: list[Movie]):
        super().__init__(message)
        self.candidates = candidates


def _key(title: str) -> str:
    return " ".join(title.split()).casefold()


class MovieSearch:
    """A loaded index plus its id map; cheap to query many times."""

    def __init__(self, index, movies: list[Movie], manifest: dict | None = None):
        self.index = index
        self.movies = movies
        self.manifest = manifest or {}
        self._by_title: dict[str, list[int]] = defaultdict(list)
        for row, movie in enumerate(movies):
            if movie.title:
                self._by_title[_key(movie.title)].append(row)
        self._row_of_id = {m.movie_id: row for row, m in enumerate(movies)}

    @classmethod
    def load(cls, lake: Lake, name: str = INDEX_SUBDIR) -> MovieSearch:
        """Read index ``name`` (``movies``: text; ``posters``), its id map and manifest from ``lake``
        (FileNotFoundError when there is no index)."""
        index, idmap, manifest = load_index(lake, name)
        ids = idmap.column("movie_id").to_pylist()
        titles = idmap.column("title").to_pylist()
        years = idmap.column("year").to_pylist()
        movies = [
            Movie(int(i), t, int(y) if y is not None else None)
            for i, t, y in zip(ids, titles, years, strict=True)
        ]
        return cls(index, movies, manifest)

    @property
    def index_type(self) -> str:
        return self.manifest.get("report", {}).get("index_type", type(self.index).__name__)

    def __len__(self) -> int:
        return len(self.movies)

    # -- lookup ------------------------------------------------------------------------------------
    def suggestions(self, title: str, n: int = 5) -> list[str]:
        """Up to ``n`` indexed titles close to ``title`` (difflib), each with its year(s)."""
        key = _key(title)
        keys = list(self._by_title)
        if len(keys) > DIFFLIB_FULL_SCAN_MAX:
            words = {w for w in key.split() if len(w) >= 3} or set(key.split())
            keys = [k for k in keys if k[:1] == key[:1] or any(w in k for w in words)]
        close = difflib.get_close_matches(key, keys, n=n, cutoff=0.6)
        if len(close) < n:
            close += [k for k in keys if key and key in k and k not in close][: n - len(close)]
        out = []
        for k in close[:n]:
            rows = self._by_title[k]
            years = sorted({self.movies[r].year for r in rows if self.movies[r].year is not None})
            name = self.movies[rows[0]].title
            out.append(f"{name} ({', '.join(map(str, years)) or 'undated'})")
        return out

    def find(self, title: str, year: int | None = None) -> int:
        """The row of the one movie called ``title`` (optionally from ``year``)."""
        rows = self._by_title.get(_key(title), [])
        if not rows:
            suggestions = self.suggestions(title)
            hint = ("; did you mean: " + "; ".join(suggestions)) if suggestions else ""
            raise TitleNotFound(f"no movie titled {title!r} in the index{hint}", suggestions)
        candidates = rows
        if year is not None:
            candidates = [r for r in rows if self.movies[r].year == year]
            if not candidates:
                years = ", ".join(sorted({str(self.movies[r].year) for r in rows}))
                raise TitleNotFound(f"no movie titled {title!r} from {year}; it is indexed for: {years}",
                                    [self.movies[r].label() for r in rows])
        if len(candidates) > 1:
            movies = sorted((self.movies[r] for r in candidates), key=lambda m: (m.year or 0, m.movie_id))
            listing = "; ".join(f"{m.label()} [id {m.movie_id}]" for m in movies)
            ask = " — choose one with --id" if year is not None else " — add --year or --id to choose"
            raise AmbiguousTitle(f"{len(movies)} movies are titled {title!r}: {listing}{ask}", movies)
        return candidates[0]

    # -- neighbours --------------------------------------------------------------------------------
    def neighbours_of_row(self, row: int, k: int = 10) -> list[Neighbour]:
        """The ``k`` nearest movies to the movie at ``row`` (itself excluded), best first."""
        query = np.asarray(self.index.reconstruct(int(row)), dtype=np.float32).reshape(1, -1)
        scores, rows = self.index.search(query, min(k + 1, len(self.movies)))
        out: list[Neighbour] = []
        for score, r in zip(scores[0].tolist(), rows[0].tolist(), strict=True):
            if r < 0 or r == row:
                continue
            out.append(Neighbour(rank=len(out) + 1, score=float(score), movie=self.movies[r]))
            if len(out) == k:
                break
        return out

    def row_of(self, movie_id: int) -> int:
        """Index row of a TMDb movie id (KeyError when not indexed)."""
        return self._row_of_id[int(movie_id)]

    def similar(self, title: str, year: int | None = None, k: int = 10) -> tuple[Movie, list[Neighbour]]:
        """(the movie asked about, its ``k`` nearest neighbours); raises `SearchError` subclasses."""
        row = self.find(title, year)
        return self.movies[row], self.neighbours_of_row(row, k)

    def similar_to_id(self, movie_id: int, k: int = 10) -> tuple[Movie, list[Neighbour]]:
        """The same for the movie with TMDb id ``movie_id`` (`TitleNotFound` when it is not indexed)."""
        try:
            row = self.row_of(movie_id)
        except KeyError:
            raise TitleNotFound(f"no movie with id {movie_id} in the index", []) from None
        return self.movies[row], self.neighbours_of_row(row, k)


def similar(title: str, year: int | None = None, k: int = 10, *, data_dir: str | os.PathLike) -> list[Neighbour]:
    """Load the index under ``data_dir`` and answer once."""
    search = MovieSearch.load(Lake.at(data_dir))
    return search.similar(title, year, k)[1]


__all__ = ["AmbiguousTitle", "Movie", "MovieSearch", "Neighbour", "SearchError", "TitleNotFound", "similar"]
