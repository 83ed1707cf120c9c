"""The neighbour preview: the nearest movies of a few well-known titles (or of the most popular movies when
none is present), as markdown tables — a quick look at whether the index makes sense."""

from __future__ import annotations

import pyarrow.parquet as pq

from movie_assets.embeddings import search
from movie_assets.lake import Lake

KNOWN_TITLES = ("The Matrix", "Toy Story", "The Godfather", "Spirited Away", "Inception", "Pulp Fiction")
PREVIEW_MOVIES = 5


def preview_rows(lake: Lake, searcher: search.MovieSearch) -> list[int]:
    """Rows of the preview movies: known titles present in the index, else the most popular movies."""
    popularity: dict[int, float] = {}
    if lake.movies_file.exists():
        pop = pq.read_table(lake.movies_file, columns=["movie_id", "popularity"])
        popularity = {
            int(m): float(p or 0.0)
            for m, p in zip(pop.column("movie_id").to_pylist(), pop.column("popularity").to_pylist(), strict=True)
        }
    rows: list[int] = []
    for title in KNOWN_TITLES:
        try:
            rows.append(searcher.find(title))
        except search.AmbiguousTitle as exc:
            best = max(exc.candidates, key=lambda m: popularity.get(m.movie_id, 0.0))
            rows.append(searcher.row_of(best.movie_id))
        except search.TitleNotFound:
            continue
    if rows:
        return rows[:PREVIEW_MOVIES]
    ranked = sorted(range(len(searcher)), key=lambda r: (-popularity.get(searcher.movies[r].movie_id, 0.0), r))
    return ranked[:PREVIEW_MOVIES]


def neighbours_markdown(searcher: search.MovieSearch, row: int, k: int = 10) -> str:
    """The ``k`` nearest neighbours of the movie at ``row`` as a markdown table under its title."""
    movie = searcher.movies[row]
    lines = [f"**{movie.label()}** (id {movie.movie_id})", "", "| # | movie | year | cosine |", "|---|---|---|---|"]
    for n in searcher.neighbours_of_row(row, k):
        title = (n.movie.title or "").replace("|", "\\|")
        lines.append(f"| {n.rank} | {title} | {n.movie.year or ''} | {n.score:.3f} |")
    return "\n".join(lines)
