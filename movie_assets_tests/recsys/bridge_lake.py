"""Test data for the interaction sources: a tiny lake (year files, a details store with a 404 and an adult
movie) and a MovieLens zip whose items meet every reason of the bridge once.

The lake holds 1995 and 1999. The MovieLens items (movieId: what the bridge must say):

 1 Toy Story → 862 matched · 2 Heat → 949 matched · 3 The Matrix → 603 matched · 4 → 100 imdb_mismatch
 5 (no tmdbId) → 200 matched_by_imdb · 6 (tmdbId 666, tombstoned) → 201 matched_by_imdb · 7 → 666 tombstoned
 8 (no tmdbId, unknown IMDb id) no_tmdb_id · 9 → 777 adult: not_in_lake/policy · 10 → 888 from 2010:
 not_in_lake/year_range · 11 → 889 from 1999, not in its year file: not_in_lake/not_built · 12 → 999 never
 fetched: not_in_lake/not_harvested (and no ratings) · 13 → 862 again: duplicate_tmdb_id (first: 1)
 14: rated, in neither links.csv nor movies.csv: no_tmdb_id/not in links
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.harvest.store import DetailsRecord, DetailsStore
from movie_assets.lake import Lake, write_parquet_atomic
from movie_assets.lake.schema import MOVIES_SCHEMA

WHEN = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
# lake movies: (movie_id, imdb_id, release date)
LAKE_MOVIES = [(862, "tt0114709", "1995-10-30"), (949, "tt0113277", "1995-12-15"), (603, "tt0133093", "1999-03-30"),
               (100, "tt0000100", "1999-01-01"), (200, "tt0000200", "1995-05-05"), (201, "tt0000201", "1999-06-06")]
# the store beyond the lake's movies: (movie_id, status, release date, adult)
STORE_ONLY = [(666, "not_found", None, None), (777, "ok", "1995-02-02", True), (888, "ok", "2010-03-03", False),
              (889, "ok", "1999-04-04", False)]
# movieId, imdbId, tmdbId (None: empty), title (None: not in movies.csv), ratings, expected reason, detail
ITEMS = [
    (1, "0114709", 862, "Toy Story (1995)", 10, "matched", None),
    (2, "0113277", 949, "Heat (1995)", 5, "matched", None),
    (3, "0133093", 603, "Matrix, The (1999)", 4, "matched", None),
    (4, "0000999", 100, "Mismatch (1999)", 3, "imdb_mismatch", "lake tt0000100, source tt0000999"),
    (5, "0000200", None, "By Imdb (1995)", 2, "matched_by_imdb", "tmdb_id missing"),
    (6, "0000201", 666, "Moved (1999)", 2, "matched_by_imdb", "tmdb_id 666 tombstoned"),
    (7, "9999999", 666, "Gone (1987)", 6, "tombstoned", None),
    (8, "7777777", None, "No Id (2003)", 7, "no_tmdb_id", "tt7777777 names no lake movie"),
    (9, "0000777", 777, "Adult (1995)", 3, "not_in_lake", "policy"),
    (10, "0000888", 888, "Later (2010)", 2, "not_in_lake", "year_range"),
    (11, "0000889", 889, "Unbuilt (1999)", 1, "not_in_lake", "not_built"),
    (12, "0000990", 999, "Never (1990)", 0, "not_in_lake", "not_harvested"),
    (13, "0114709", 862, "Toy Story (1995)", 4, "duplicate_tmdb_id", "first: 1"),
]
UNLISTED = (14, 8)  # movieId rated but not in links.csv, and its ratings
EVENTS_READ, EVENTS_KEPT = 57, 30


def movie_row(movie_id: int, imdb_id: str, date: str) -> dict:
    release = dt.date.fromisoformat(date)
    return {"movie_id": movie_id, "title": f"Movie {movie_id}", "imdb_id": imdb_id, "release_date": release,
            "year": release.year, "adult": False, "video": False, "details_status": "ok"}


def write_lake(root: Path) -> Lake:
    """Year files of 1995 and 1999 as the lake writes them (its schema less the partition's year), and a details
    store with a 404 and an adult movie."""
    lake = Lake.at(root)
    rows = [movie_row(*movie) for movie in LAKE_MOVIES]
    for year in (1995, 1999):
        table = pa.Table.from_pylist([r for r in rows if r["year"] == year], schema=MOVIES_SCHEMA)
        write_parquet_atomic(table.drop_columns(["year"]), lake.movies_year_file(year))  # the partition is the year
    records = [DetailsRecord(movie_id, "ok", WHEN, json.dumps({"id": movie_id, "imdb_id": imdb, "release_date": date,
                                                              "adult": False, "video": False}))
               for movie_id, imdb, date in LAKE_MOVIES]
    for movie_id, status, date, adult in STORE_ONLY:
        payload = None if status != "ok" else json.dumps({"id": movie_id, "release_date": date, "adult": adult,
                                                          "video": False})
        records.append(DetailsRecord(movie_id, status, WHEN, payload))
    store = DetailsStore(lake.details_store_dir)
    with store.writer():
        store.append(records)
    return lake


def ratings_rows() -> list[tuple[int, int, float, int]]:
    """(userId, movieId, rating, timestamp): item i's k-th rating by user k+1, at a time unique to it."""
    counts = [(item[0], item[4]) for item in ITEMS] + [UNLISTED]
    return [(k + 1, movie, 0.5 + (k % 10) * 0.5, 1_000_000_000 + movie * 1000 + k)
            for movie, count in counts for k in range(count)]


def links_csv(items=ITEMS) -> str:
    return "movieId,imdbId,tmdbId\n" + "".join(
        f"{movie},{imdb},{'' if tmdb is None else tmdb}\n" for movie, imdb, tmdb, *_ in items)


def movies_csv(items=ITEMS) -> str:
    return "movieId,title,genres\n" + "".join(
        f'{movie},"{title}",Drama\n' for movie, _, _, title, *_ in items if title is not None)


def ratings_csv(rows=None) -> str:
    rows = ratings_rows() if rows is None else rows
    return "userId,movieId,rating,timestamp\n" + "".join(f"{u},{m},{r},{t}\n" for u, m, r, t in rows)


def write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def movielens_zip(path: Path, folder: str = "ml-latest-small", **replace: str | bytes | None) -> Path:
    """A MovieLens zip in the CSV layout; ``replace``: a member's content by its file stem (None: left out)."""
    members = {"ratings": ratings_csv(), "links": links_csv(), "movies": movies_csv(), **replace}
    return write_zip(path, {f"{folder}/{stem}.csv": content for stem, content in members.items()
                            if content is not None})


def ml1m_zip(path: Path, ratings: str | None = None) -> Path:
    """A zip in ml-1m's layout: ``::``-separated, latin-1 titles, no links file."""
    ratings = ratings if ratings is not None else "".join(f"{u}::{m}::{int(r + 0.5)}::{t}\n"
                                                          for u, m, r, t in ratings_rows())
    movies = "".join(f"{movie}::{title.replace('Toy Story', 'Toy Story: Café')}::Drama\n"
                     for movie, _, _, title, *_ in ITEMS).encode("latin-1")
    return write_zip(path, {"ml-1m/ratings.dat": ratings, "ml-1m/movies.dat": movies, "ml-1m/README": "ml-1m"})


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
