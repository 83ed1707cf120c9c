"""Movies similar to one movie by text, by poster, or by both: what ``movie-assets similar --by`` answers.

``both`` fuses the two rankings by reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): each
modality ranks its `CANDIDATES_PER_MODALITY` nearest movies, and a movie scores ``Σ 1 / (RRF_K + rank)`` over the
rankings it appears in (``RRF_K`` = 60, the paper's constant). Ranks, not cosines, are fused, because text and
image cosines live on different scales; a movie near in both beats one very near in only one. When the movie asked
about has no poster vector, ``both`` is the text ranking alone (and says so).

A title shared by several movies is answered for the most-voted of them (TMDb ``vote_count``, then the lowest id),
and the others are listed in the answer, so a person can ask again with ``--id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow.parquet as pq

from movie_assets.embeddings.index import INDEX_SUBDIR as TEXT_INDEX
from movie_assets.embeddings.search import AmbiguousTitle, Movie, MovieSearch, Neighbour, TitleNotFound
from movie_assets.lake import Lake
from movie_assets.posters.poster_index import INDEX_NAME as POSTER_INDEX

BY = ("text", "poster", "both")
RRF_K = 60
CANDIDATES_PER_MODALITY = 100
_INDEXES = {"text": (TEXT_INDEX,), "poster": (POSTER_INDEX,), "both": (TEXT_INDEX, POSTER_INDEX)}


@dataclass(frozen=True)
class Answer:
    """The movie asked about, its neighbours (best first), the other movies of the same title, and notes."""

    movie: Movie
    neighbours: list[Neighbour]
    others: list[Movie] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_searches(lake: Lake, by: str) -> dict[str, MovieSearch]:
    """The loaded indexes ``by`` needs, by index name (FileNotFoundError naming the assets to materialize)."""
    if by not in BY:
        raise ValueError(f"--by {by!r}: choose one of {', '.join(BY)}")
    return {name: MovieSearch.load(lake, name) for name in _INDEXES[by]}


def vote_counts(lake: Lake, movie_ids: list[int]) -> dict[int, int]:
    """TMDb vote_count of ``movie_ids`` from ``movies.parquet`` (missing: 0)."""
    if not lake.movies_file.exists() or not movie_ids:
        return {}
    table = pq.read_table(lake.movies_file, columns=["movie_id", "vote_count"],
                          filters=[("movie_id", "in", list(movie_ids))])
    return {m: int(v or 0) for m, v in zip(table.column("movie_id").to_pylist(),
                                            table.column("vote_count").to_pylist(), strict=True)}


def resolve(lake: Lake, search: MovieSearch, title: str, year: int | None) -> tuple[Movie, list[Movie]]:
    """The movie called ``title`` (``year``), and the others of that title when several are: the most-voted
    is chosen. `TitleNotFound` when none is."""
    try:
        return search.movies[search.find(title, year)], []
    except AmbiguousTitle as ambiguous:
        candidates = ambiguous.candidates
    votes = vote_counts(lake, [m.movie_id for m in candidates])
    ranked = sorted(candidates, key=lambda m: (-votes.get(m.movie_id, 0), m.movie_id))
    return ranked[0], ranked[1:]


def fuse(rankings: list[list[Neighbour]], k: int) -> list[Neighbour]:
    """Reciprocal rank fusion of ``rankings`` (see the module docstring), the best ``k``."""
    scores: dict[int, float] = {}
    movies: dict[int, Movie] = {}
    for ranking in rankings:
        for n in ranking:
            scores[n.movie.movie_id] = scores.get(n.movie.movie_id, 0.0) + 1.0 / (RRF_K + n.rank)
            movies[n.movie.movie_id] = n.movie
    best = sorted(scores, key=lambda m: (-scores[m], m))[:k]
    return [Neighbour(rank=i + 1, score=round(scores[m], 6), movie=movies[m]) for i, m in enumerate(best)]


def similar(lake: Lake, searches: dict[str, MovieSearch], *, by: str, title: str | None = None,
            year: int | None = None, movie_id: int | None = None, k: int = 10) -> Answer:
    """Answer one query (a ``title`` with an optional ``year``, or a ``movie_id``) ``by`` a modality or both."""
    first = searches[_INDEXES[by][0]]
    others: list[Movie] = []
    if movie_id is None:
        movie, others = resolve(lake, first, title or "", year)
    else:
        movie = _by_id(searches, movie_id)
    notes = []
    rankings = []
    for name in _INDEXES[by]:
        search = searches[name]
        try:
            row = search.row_of(movie.movie_id)
        except KeyError:
            if by != "both":
                raise TitleNotFound(f"{movie.label()} [id {movie.movie_id}] is not in the {name} index "
                                    "(item_modalities says why)", []) from None
            notes.append(f"{movie.label()} has no vector in the {name} index: ranked without it")
            continue
        rankings.append(search.neighbours_of_row(row, k if by != "both" else max(k, CANDIDATES_PER_MODALITY)))
    neighbours = rankings[0][:k] if by != "both" else fuse(rankings, k)
    return Answer(movie, neighbours, others, notes)


def _by_id(searches: dict[str, MovieSearch], movie_id: int) -> Movie:
    for search in searches.values():
        try:
            return search.movies[search.row_of(movie_id)]
        except KeyError:
            continue
    raise TitleNotFound(f"no movie with id {movie_id} in the {' or '.join(searches)} index (item_modalities says "
                        "which modalities each movie has, and why one is missing)", [])
