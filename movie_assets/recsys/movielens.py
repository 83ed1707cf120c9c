"""MovieLens ratings, read in place from the zip GroupLens publishes and bridged to the lake's movies.

Layouts, told apart by the zip's members: ``<release>/ratings.csv`` (userId,movieId,rating,timestamp) with
``links.csv`` (movieId,imdbId,tmdbId) and ``movies.csv`` (movieId,title,genres) — ml-latest-small, ml-20m,
ml-25m, ml-32m — or ``ml-1m/ratings.dat`` (``UserID::MovieID::Rating::Timestamp``) with ``movies.dat``
(latin-1) and no links file. MovieLens movie ids are the same in every release, so ml-1m is bridged with the
links.csv of another release (``links_path``, the ``--links`` option); one given with a CSV release replaces
the zip's own.

Ratings stream from the member through pyarrow's CSV reader, one block at a time (nothing is extracted),
as compact typed columns; the events are built block by block once the bridge is known, and each block read
is released as its events are made. MovieLens may not be redistributed: the source is never publishable.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv

from movie_assets.lake import Lake
from movie_assets.recsys.bridge import ITEMS_SCHEMA, bridge_items, lake_items
from movie_assets.recsys.coverage import bridged_source, check_floor
from movie_assets.recsys.events import EVENTS_SCHEMA, MOVIELENS, SourceError, SourceEvents
from movie_assets.recsys.reading import (
    FIRST_SECOND,
    LAST_SECOND,
    Rows,
    convert,
    input_file,
    normalize_imdb,
    refuse_where,
    require,
)

LICENCE_TERMS = "research use only; no redistribution of the data or anything derived from it"
CITATION = ('F. Maxwell Harper and Joseph A. Konstan. 2015. "The MovieLens Datasets: History and Context". '
            "ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4: 19:1-19:19")
URL = "https://grouplens.org/datasets/movielens/"
RATINGS = ("userId", "movieId", "rating", "timestamp")
_TYPES = (pa.int32(), pa.int32(), pa.float32(), pa.int64())
RATING_RANGE = (0.5, 5.0)
MAX_ID = 10_000_000  # movieIds index arrays: a larger one is a bad row, not a reason to allocate gigabytes
BLOCK_BYTES = 16 << 20  # a block of ratings.csv: ~700k ratings, ~14 MB once typed
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)
_KNOWN = ("<release>/ratings.csv with links.csv and movies.csv (ml-latest-small, ml-20m, ml-25m, ml-32m), "
          "or ml-1m/ratings.dat with movies.dat")


@dataclass(frozen=True)
class Layout:
    """Where a MovieLens release keeps its files in the zip."""

    name: str  # the release's folder ("ml-25m"), "" when the files sit at the zip's root
    ratings: str
    movies: str | None
    links: str | None  # None: ml-1m, which has no links file
    dat: bool  # "::"-separated .dat files (ml-1m) rather than CSV


def detect_layout(names: list[str], where: str) -> Layout:
    """The release in a zip with these member names; `SourceError` for an unknown layout or a missing member."""
    folders: dict[str, set[str]] = {}
    for name in names:
        folder, _, base = name.rpartition("/")
        if not folder.startswith("__MACOSX"):
            folders.setdefault(folder, set()).add(base)
    found = [(folder, dat) for folder, files in sorted(folders.items())
             for dat in (False, True) if f"ratings.{'dat' if dat else 'csv'}" in files]
    if not found:
        shown = ", ".join(sorted(names)[:6]) + (", …" if len(names) > 6 else "")
        raise SourceError(f"{where} is no MovieLens zip this reader knows (it holds {shown or 'nothing'}); "
                          f"expected {_KNOWN}, as downloaded from {URL}")
    if len(found) > 1:
        raise SourceError(f"{where} holds more than one MovieLens release ({', '.join(f for f, _ in found)}); "
                          "give a zip with one")
    folder, dat = found[0]
    prefix = f"{folder}/" if folder else ""
    ext = "dat" if dat else "csv"
    movies = f"movies.{ext}"
    if movies not in folders[folder]:
        raise SourceError(f"{where} has {prefix}ratings.{ext} but no {prefix}{movies}; download the release again")
    links = None if dat or "links.csv" not in folders[folder] else f"{prefix}links.csv"
    return Layout(folder, f"{prefix}ratings.{ext}", f"{prefix}{movies}", links, dat)


def licence(layout: Layout) -> dict[str, str]:
    """The terms a dataset built from this release carries in its manifest."""
    return {"name": f"MovieLens {layout.name or 'dataset'} (GroupLens Research)", "terms": LICENCE_TERMS,
            "cite": CITATION, "url": URL}


def read_links(source: str | Path | io.IOBase, where: str) -> pa.Table:
    """A MovieLens links.csv as (movie_id int64, imdb_id "tt…", tmdb_id int64, null when empty), by movie id."""
    names = {"movieId": "movie_id", "imdbId": "imdb_id", "tmdbId": "tmdb_id"}
    try:
        table = csv.read_csv(source, convert_options=csv.ConvertOptions(
            include_columns=list(names), column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True))
    except (pa.ArrowKeyError, pa.ArrowInvalid) as exc:
        raise SourceError(f"{where} is no MovieLens links.csv ({exc}); it needs the columns "
                          "movieId,imdbId,tmdbId") from None
    except _CORRUPT as exc:
        raise SourceError(f"{where} is corrupt ({exc}); download it again") from None
    rows = Rows(where)
    movie = table.column("movieId").combine_chunks()
    require(movie, rows, "movieId")
    movie = convert(movie, pa.int64(), rows, "movieId", "a MovieLens movie id (an integer)")
    refuse_where(pc.or_(pc.less(movie, 1), pc.greater(movie, MAX_ID)), movie, rows, "movieId",
                 f"a MovieLens movie id (1 to {MAX_ID})")
    tmdb = convert(table.column("tmdbId").combine_chunks(), pa.int64(), rows, "tmdbId", "a TMDb id (an integer)")
    links = pa.table({"movie_id": movie, "imdb_id": normalize_imdb(table.column("imdbId").combine_chunks(), rows,
                                                                   "imdbId"), "tmdb_id": tmdb})
    if pc.count_distinct(movie).as_py() != len(movie):
        counts = pc.value_counts(movie)
        twice = counts.field("values").filter(pc.greater(counts.field("counts"), 1))[0].as_py()
        raise SourceError(f"{where} lists movieId {twice} more than once; keep one row per movie")
    return links.sort_by("movie_id")


def _titles(archive: zipfile.ZipFile, layout: Layout, where: str) -> pa.Table:
    """(movie_id, title) of movies.csv / movies.dat."""
    if layout.dat:  # titles hold "::"-free text but may hold ":", so the lines are split here, not by Arrow
        ids, titles = [], []
        for number, line in enumerate(archive.read(layout.movies).decode("latin-1").splitlines(), 1):
            fields = line.split("::")
            if not line.strip():
                continue
            if len(fields) != 3 or not fields[0].strip().isdigit():
                raise SourceError(f"{where}: {layout.movies}, line {number} is not MovieID::Title::Genres: "
                                  f"{line!r}; download the release again")
            ids.append(int(fields[0]))
            titles.append(fields[1])
        return pa.table({"movie_id": pa.array(ids, pa.int64()), "title": pa.array(titles, pa.string())})
    try:
        with archive.open(layout.movies) as handle:
            table = csv.read_csv(handle, convert_options=csv.ConvertOptions(
                include_columns=["movieId", "title"], column_types=dict.fromkeys(["movieId", "title"], pa.string())))
    except (pa.ArrowKeyError, pa.ArrowInvalid) as exc:
        raise SourceError(f"{where}: {layout.movies} is no MovieLens movies.csv ({exc}); it needs the columns "
                          "movieId,title,genres") from None
    rows = Rows(f"{where}: {layout.movies}")
    movie = convert(table.column("movieId").combine_chunks(), pa.int64(), rows, "movieId", "an integer")
    return pa.table({"movie_id": movie, "title": table.column("title")})


@dataclass
class Ratings:
    """The ratings of a zip as read: typed blocks (`RATINGS`), the ratings per movie id, and their count."""

    blocks: list[pa.RecordBatch]
    per_movie: np.ndarray  # index: movieId
    total: int


def _reader(handle: io.IOBase, layout: Layout) -> Iterator[pa.RecordBatch]:
    if layout.dat:  # "1::1193::5::978300760" split at ":" gives the four values with an empty field between each
        names = ["userId", "_1", "movieId", "_2", "rating", "_3", "timestamp"]
        read, parse = csv.ReadOptions(column_names=names, block_size=BLOCK_BYTES), csv.ParseOptions(delimiter=":")
    else:
        read, parse = csv.ReadOptions(block_size=BLOCK_BYTES), csv.ParseOptions()
    return csv.open_csv(handle, read_options=read, parse_options=parse, convert_options=csv.ConvertOptions(
        include_columns=list(RATINGS), column_types=dict(zip(RATINGS, _TYPES, strict=True))))


class _BadBlock(Exception):
    """A block of ratings with an empty or out-of-range value: its line is looked up by `_bad_ratings`."""


def _block_is_bad(block: pa.RecordBatch) -> bool:
    if not block.num_rows:
        return False
    if any(column.null_count for column in block.columns):
        return True
    low, high = RATING_RANGE
    rating, movie, time = block.column(2), pc.min_max(block.column(1)), pc.min_max(block.column(3))
    return bool(pc.min(block.column(0)).as_py() < 1 or movie["min"].as_py() < 1 or movie["max"].as_py() > MAX_ID
                or time["min"].as_py() < FIRST_SECOND or time["max"].as_py() > LAST_SECOND
                or not pc.all(pc.and_(pc.greater_equal(rating, low), pc.less_equal(rating, high))).as_py())


def _line_problem(line: str, dat: bool) -> str | None:
    """What is wrong with one ratings line (None: nothing); the same rules `_block_is_bad` and Arrow apply."""
    fields = line.rstrip("\r\n").split("::" if dat else ",")
    if len(fields) != 4:
        return f"{len(fields)} fields, not the 4 of {','.join(RATINGS)}"
    values = []
    for name, text, kind in zip(RATINGS, fields, (int, int, float, int), strict=True):
        try:
            values.append(kind(text))
        except ValueError:
            return f"{name} {text!r} is not {'a number' if kind is float else 'an integer'}"
    if values[0] < 1 or not 1 <= values[1] <= MAX_ID:
        return f"userId must be positive and movieId between 1 and {MAX_ID}"
    if not RATING_RANGE[0] <= values[2] <= RATING_RANGE[1]:
        return f"rating {values[2]} is outside {RATING_RANGE[0]}–{RATING_RANGE[1]}"
    if not FIRST_SECOND <= values[3] <= LAST_SECOND:
        return f"timestamp {values[3]} is not epoch seconds of a year 1-9999"
    return None


def _bad_ratings(archive: zipfile.ZipFile, layout: Layout, where: str, rows_read: int, error: str) -> SourceError:
    """The error naming the first bad line of the ratings at or after data row ``rows_read``."""
    first = 1 if layout.dat else 2
    with archive.open(layout.ratings) as raw, io.TextIOWrapper(raw, "latin-1" if layout.dat else "utf-8",
                                                               errors="replace") as text:
        if not layout.dat:
            header = [name.strip().strip('"') for name in text.readline().rstrip("\r\n").split(",")]
            if header[:4] != list(RATINGS):
                return SourceError(f"{where}: {layout.ratings} starts with {','.join(header)!r}, not the header "
                                   f"{','.join(RATINGS)}; download the release again")
        for number, line in enumerate(text, first):
            if number - first >= rows_read and (problem := _line_problem(line, layout.dat)):
                return SourceError(f"{where}: {layout.ratings}, line {number}: {problem} ({line.strip()!r}); "
                                   "correct or remove that line, or download the release again")
    return SourceError(f"{where}: {layout.ratings} cannot be read after line {rows_read + first - 1} ({error}); "
                       "download the release again")


def _read_ratings(archive: zipfile.ZipFile, layout: Layout, where: str) -> Ratings:
    blocks: list[pa.RecordBatch] = []
    per_movie = np.zeros(0, np.int64)
    total = 0
    try:
        with archive.open(layout.ratings) as handle:
            for block in _reader(handle, layout):
                if _block_is_bad(block):
                    raise _BadBlock
                counted = np.bincount(block.column(1).to_numpy())
                if len(counted) > len(per_movie):
                    per_movie = np.pad(per_movie, (0, len(counted) - len(per_movie)))
                per_movie[: len(counted)] += counted
                blocks.append(block)
                total += block.num_rows
    except (pa.ArrowInvalid, pa.ArrowKeyError, _BadBlock) as exc:
        raise _bad_ratings(archive, layout, where, total, str(exc) or "a bad value") from None
    if not total:
        raise SourceError(f"{where}: {layout.ratings} holds no ratings; download the release again")
    return Ratings(blocks, per_movie, total)


def movielens_items(links: pa.Table, per_movie: np.ndarray, titles: pa.Table) -> pa.Table:
    """The bridge's items (`ITEMS_SCHEMA`): every links row, and every rated movie the links do not list, by
    movieId."""
    listed = links.column("movie_id").to_numpy()
    rated = np.flatnonzero(per_movie)
    unlisted = np.setdiff1d(rated, listed)
    ids = np.concatenate([listed, unlisted]).astype(np.int64)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    events = np.zeros(len(ids), np.int64)
    inside = ids < len(per_movie)
    events[inside] = per_movie[ids[inside]]
    pad = lambda column, type_: pa.concat_arrays([  # noqa: E731
        column.combine_chunks().cast(type_), pa.nulls(len(unlisted), type_)]).take(pa.array(order))
    movie_ids = pa.array(ids, pa.int64())
    title = titles.column("title").combine_chunks().take(pc.index_in(movie_ids, value_set=titles.column("movie_id")))
    return pa.table({
        "source_item_id": pc.cast(movie_ids, pa.string()), "imdb_id": pad(links.column("imdb_id"), pa.string()),
        "tmdb_id": pad(links.column("tmdb_id"), pa.int64()), "events": pa.array(events, pa.int64()),
        "title": title, "listed": pa.array(order < len(listed)),
    }, schema=ITEMS_SCHEMA)


def movielens_events(blocks: list[pa.RecordBatch], bridge: pa.Table, per_movie: np.ndarray) -> pa.Table:
    """`EVENTS_SCHEMA` events of the kept items, in the file's order. ``blocks`` is emptied as it goes, so the
    ratings read and the events made are not both held whole."""
    kept = bridge.filter(bridge.column("kept"))
    source = pc.cast(kept.column("source_item_id"), pa.int64()).to_numpy()
    to_movie = np.full(max(len(per_movie), int(source.max(initial=0)) + 1), -1, np.int64)
    to_movie[source] = kept.column("movie_id").to_numpy()
    most = max((block.num_rows for block in blocks), default=0)
    # Every block's event and weight columns are slices of one shared array: 32M rows of the same constant
    # would otherwise take ~400 MB.
    event, weight = pa.repeat(pa.scalar("rating"), most), pa.repeat(pa.scalar(1.0, pa.float32()), most)
    out = []
    while blocks:
        block = blocks.pop(0)
        movie = to_movie[block.column(1).to_numpy()]
        keep = movie >= 0
        block = block.filter(pa.array(keep))
        n = block.num_rows
        out.append(pa.RecordBatch.from_arrays([
            pc.cast(block.column(0), pa.string()), pa.array(movie[keep], pa.int64()),
            pc.cast(block.column(1), pa.string()), block.column(3).cast(pa.timestamp("s", tz="UTC")),
            block.column(2), event.slice(0, n), weight.slice(0, n),
        ], schema=EVENTS_SCHEMA))
    return pa.Table.from_batches(out, schema=EVENTS_SCHEMA)


@contextlib.contextmanager
def _opened(zip_path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(zip_path)
    except _CORRUPT as exc:
        raise SourceError(f"{zip_path} is no readable zip ({exc}); download the MovieLens release again") from None
    with archive:
        try:
            yield archive
        except _CORRUPT as exc:
            raise SourceError(f"{zip_path} is corrupt ({exc}); download the MovieLens release again") from None


def read_movielens(lake: Lake, zip_path: str | Path, links_path: str | Path | None = None,
                   floor: float = 0.5) -> SourceEvents:
    """The ratings of a MovieLens zip as `SourceEvents` on the lake's movies (kind ``movielens``), with the
    bridge and its ``bridge_coverage`` report; an error when less than ``floor`` of the ratings reach a lake
    movie. ``links_path``: a links.csv of another release, needed for ml-1m (``--links``)."""
    floor = check_floor(floor)
    zip_path = Path(zip_path)
    inputs = [input_file("movielens_zip", zip_path, "the MovieLens zip")]
    links_file = Path(links_path) if links_path is not None else None
    if links_file is not None:
        inputs.append(input_file("links", links_file, "--links"))
    with _opened(zip_path) as archive:
        layout = detect_layout(archive.namelist(), str(zip_path))
        if layout.links is None and links_file is None:
            raise SourceError(f"{zip_path} is MovieLens {layout.name or 'ml-1m'}, which has no links.csv: pass "
                              "--links with the links.csv of another MovieLens release (ml-latest-small, ml-25m, "
                              "ml-32m; their movie ids are the same)")
        if links_file is not None:
            links = read_links(links_file, f"--links {links_file}")
        else:
            with archive.open(layout.links) as handle:
                links = read_links(handle, f"{zip_path}: {layout.links}")
        titles = _titles(archive, layout, str(zip_path))
        ratings = _read_ratings(archive, layout, str(zip_path))
    bridge = bridge_items(movielens_items(links, ratings.per_movie, titles), lake_items(lake))
    events = movielens_events(ratings.blocks, bridge, ratings.per_movie)
    policies = {"floor": floor, "layout": layout.name, "links": str(links_file) if links_file else layout.links}
    return bridged_source(MOVIELENS, events, bridge, ratings.total, floor, inputs, policies=policies,
                          publishable=False, licence=licence(layout))
