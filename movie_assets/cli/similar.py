"""``movie-assets similar "TITLE"``: the nearest movies by text, by poster or by both, from the saved FAISS indexes."""

from __future__ import annotations

import argparse
import json
import sys

from movie_assets.embeddings.search import Movie, Neighbour, SearchError
from movie_assets.lake import Lake
from movie_assets.posters import similar as multimodal
from movie_assets.settings import DATA_DIR_ENV, DEFAULT_DATA_DIR, data_dir_from_env

_MEASURE = {"text": "cos", "poster": "cos", "both": "rrf"}


def format_neighbours(movie: Movie, neighbours: list[Neighbour], by: str = "text") -> str:
    """Plain-text answer for the terminal."""
    lines = [f"Movies similar to {movie.label()} [id {movie.movie_id}] by {by}:"]
    width = max((len(n.movie.label()) for n in neighbours), default=0)
    for n in neighbours:
        lines.append(f"{n.rank:>3}. {n.movie.label():<{width}}  {_MEASURE[by]} {n.score:.3f}  id {n.movie.movie_id}")
    return "\n".join(lines)


def neighbours_json(neighbours: list[Neighbour]) -> str:
    """The ``--json`` answer: a list of ``{rank, movie_id, title, year, score}`` objects, best first."""
    return json.dumps([{"rank": n.rank, "movie_id": n.movie.movie_id, "title": n.movie.title, "year": n.movie.year,
                        "score": round(float(n.score), 6)} for n in neighbours], ensure_ascii=False, indent=2)


def run_similar(args: argparse.Namespace) -> int:
    """Handler of ``movie-assets similar``: 0 answered, 1 title (or id) unknown, 2 no index or neither or both
    of a title and ``--id``."""
    if (args.title is None) == (args.id is None):
        print("error: give a TITLE or --id ID (one of them)", file=sys.stderr)
        return 2
    if args.k < 1:
        print(f"error: -k {args.k}: ask for at least one neighbour", file=sys.stderr)
        return 2
    lake = Lake.at(args.data_dir or data_dir_from_env())
    # One query at a time: a single OpenMP thread is several times faster than a team (and the CLI owns its
    # process, so changing the global setting here is safe).
    import faiss

    faiss.omp_set_num_threads(1)
    try:
        searches = multimodal.load_searches(lake, args.by)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        answer = multimodal.similar(lake, searches, by=args.by, title=args.title, year=args.year, movie_id=args.id,
                                    k=args.k)
    except SearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    notes = list(answer.notes)
    if answer.others:
        listing = "; ".join(f"{m.label()} [id {m.movie_id}]" for m in answer.others)
        notes.insert(0, f"{len(answer.others) + 1} movies are titled {args.title!r}: answered for the most-voted, "
                        f"{answer.movie.label()} [id {answer.movie.movie_id}]; the others: {listing} (choose one "
                        "with --id or --year)")
    for note in notes:  # on stderr, so that --json stays one JSON document on stdout
        print(f"note: {note}", file=sys.stderr)
    print(neighbours_json(answer.neighbours) if args.json else format_neighbours(answer.movie, answer.neighbours,
                                                                                 args.by))
    return 0


def register_cli(subparsers) -> argparse.ArgumentParser:
    """Add ``similar "TITLE" [--year Y] | --id ID [--by text|poster|both] [--json] [-k 10] [--data-dir DIR]`` to an
    argparse subparsers object.

    The handler is stored as ``handler`` (and ``func``) in the parsed namespace; it returns an exit code.
    """
    parser = subparsers.add_parser(
        "similar",
        help="movies most similar to a title, by text, poster or both (from the FAISS indexes)",
        description="Nearest movies by text embedding, poster embedding or both (reciprocal rank fusion of the "
        "two rankings), answered from data/index/. A title shared by several movies is answered for the "
        "most-voted one, the others listed. "
        "This product uses the TMDB API but is not endorsed or certified by TMDB.",
    )
    parser.add_argument("title", nargs="?", default=None, help="exact title, case-insensitive")
    parser.add_argument("--id", type=int, default=None, help="the movie's TMDb id instead of a title")
    parser.add_argument("--year", type=int, default=None, help="release year, to choose among movies sharing a title")
    parser.add_argument("--by", choices=multimodal.BY, default="text",
                        help="text, poster, or both (reciprocal rank fusion, k=60); default text")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {rank, movie_id, title, year, "
                        "score}")
    parser.add_argument("-k", type=int, default=10, help="number of neighbours (default 10)")
    parser.add_argument(
        "--data-dir", default=None, type=str, help=f"data root (default ${DATA_DIR_ENV} or '{DEFAULT_DATA_DIR}')"
    )
    parser.set_defaults(handler=run_similar, func=run_similar)
    return parser
