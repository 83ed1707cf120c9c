"""``movie-assets similar "TITLE"``: the nearest movies by text embedding, from the saved FAISS index."""

from __future__ import annotations

import argparse
import sys

from movie_assets.embeddings.search import Movie, MovieSearch, Neighbour, SearchError
from movie_assets.lake import Lake
from movie_assets.settings import DATA_DIR_ENV, DEFAULT_DATA_DIR, data_dir_from_env


def format_neighbours(movie: Movie, neighbours: list[Neighbour]) -> str:
    """Plain-text answer for the terminal."""
    lines = [f"Movies similar to {movie.label()} [id {movie.movie_id}]:"]
    width = max((len(n.movie.label()) for n in neighbours), default=0)
    for n in neighbours:
        lines.append(f"{n.rank:>3}. {n.movie.label():<{width}}  cos {n.score:.3f}  id {n.movie.movie_id}")
    return "\n".join(lines)


def run_similar(args: argparse.Namespace) -> int:
    """Handler of ``movie-assets similar``: 0 answered, 1 title (or id) unknown or ambiguous, 2 no index or
    neither or both of a title and ``--id``."""
    if (args.title is None) == (args.id is None):
        print("error: give a TITLE or --id ID (one of them)", file=sys.stderr)
        return 2
    lake = Lake.at(args.data_dir or data_dir_from_env())
    # One query at a time: a single OpenMP thread is several times faster than a team (and the CLI owns its
    # process, so changing the global setting here is safe).
    import faiss

    faiss.omp_set_num_threads(1)
    try:
        search = MovieSearch.load(lake)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.id is not None:
            movie, neighbours = search.similar_to_id(args.id, args.k)
        else:
            movie, neighbours = search.similar(args.title, args.year, args.k)
    except SearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_neighbours(movie, neighbours))
    return 0


def register_cli(subparsers) -> argparse.ArgumentParser:
    """Add ``similar "TITLE" [--year Y] | --id ID [-k 10] [--data-dir DIR]`` to an argparse subparsers object.

    The handler is stored as ``handler`` (and ``func``) in the parsed namespace; it returns an exit code.
    """
    parser = subparsers.add_parser(
        "similar",
        help="movies most similar to a title (from the FAISS index)",
        description="Nearest movies by text embedding, answered from data/index/. "
        "This product uses the TMDB API but is not endorsed or certified by TMDB.",
    )
    parser.add_argument("title", nargs="?", default=None, help="exact title, case-insensitive")
    parser.add_argument("--id", type=int, default=None, help="the movie's TMDb id instead of a title")
    parser.add_argument("--year", type=int, default=None, help="release year, to choose among movies sharing a title")
    parser.add_argument("-k", type=int, default=10, help="number of neighbours (default 10)")
    parser.add_argument(
        "--data-dir", default=None, type=str, help=f"data root (default ${DATA_DIR_ENV} or '{DEFAULT_DATA_DIR}')"
    )
    parser.set_defaults(handler=run_similar, func=run_similar)
    return parser
