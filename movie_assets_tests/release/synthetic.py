"""A small synthetic lake: TMDb-shaped rows (not TMDb content) for a few years."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow as pa

from movie_assets.harvest.records import movies_table
from movie_assets.harvest.year_build import write_year_partition
from movie_assets.lake import Lake, write_parquet_atomic
from movie_assets.lake.schema import column_suffix, movies_schema
from movie_assets.warehouse.build import read_movies

YEARS = {2019: 5, 2020: 40, 2021: 120, 2022: 35}
IMAGE_BASE = "https://image.example/t/p"
LANGUAGES = ["en", "en", "en", "fr", "es", "ja", "de"]


def movie(movie_id: int, release_date: dt.date | None, rng: random.Random, **overrides: Any) -> dict[str, Any]:
    has_cast = rng.random() < 0.8
    poster = f"/p{movie_id}.jpg" if rng.random() < 0.85 else None
    backdrop = f"/b{movie_id}.jpg" if rng.random() < 0.6 else None
    row = {
        "movie_id": movie_id,
        "title": f"Film {movie_id}, part {movie_id % 3}",
        "original_title": f"Film {movie_id}",
        "original_language": rng.choice(LANGUAGES),
        "overview": None if rng.random() < 0.1 else f"Overview of film {movie_id} with \"quotes\"\nand a newline",
        "tagline": None,
        "status": "Released",
        "imdb_id": f"tt{movie_id:07d}",
        "release_date": release_date,
        "year": release_date.year if release_date else None,
        "adult": movie_id % 29 == 0,
        "video": False,
        "popularity": round(rng.uniform(0.1, 100), 3),
        "vote_average": round(rng.uniform(0, 10), 1),
        "vote_count": rng.randint(0, 5000),
        "runtime": rng.choice([None, rng.randint(60, 200), rng.randint(5, 30)]),
        "budget": None,
        "revenue": None,
        "genres": ["Drama", "Thriller"][: rng.randint(0, 2)],
        "genre_ids": [18, 53][: rng.randint(0, 2)],
        "cast": [
            {"person_id": movie_id * 10 + k, "name": f"Actor {movie_id}-{k}" + (", Jr." if k == 1 else ""),
             "character": f"Role {k}", "order": k}
            for k in range(rng.randint(1, 3) if has_cast else 0)
        ],
        "directors": [{"person_id": 9_000_000 + movie_id, "name": f"Director {movie_id}"}] if has_cast else [],
        "keywords": [],
        "poster_path": poster,
        "backdrop_path": backdrop,
        "poster_url": f"{IMAGE_BASE}/w500{poster}" if poster else None,
        "backdrop_url": f"{IMAGE_BASE}/w780{backdrop}" if backdrop else None,
        "details_status": "ok",
        "harvested_at": dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
    }
    row.update(overrides)
    return row


def rich_row(movie_id: int, year: int | None, languages: tuple[str, ...] = (), **values: Any) -> dict[str, Any]:
    """A row of `movies_schema(languages)` with every column null but the basics (translated text: the English
    title, flagged as a fallback), and ``values``."""
    row: dict[str, Any] = dict.fromkeys(movies_schema(languages).names)
    row.update(movie_id=movie_id, title=f"Film {movie_id}", year=year, details_status="ok",
               release_date=dt.date(year, 5, 1) if year else None, harvested_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    for tag in languages:
        row.update({f"title_{column_suffix(tag)}": row["title"], f"title_{column_suffix(tag)}_fallback": True})
    row.update(values)
    return row


def synthetic_rows(years: dict[int, int] = YEARS, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    next_id = 100
    for year, count in years.items():
        for _ in range(count):
            day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
            rows.append(movie(next_id, day, rng))
            next_id += rng.randint(1, 7)
    return rows


def write_lake(data_dir: Path, rows: list[dict[str, Any]] | None = None, undated: int = 0) -> Lake:
    """Write yearly partitions and the consolidated movies.parquet (plus ``undated`` rows without a date)."""
    lake = Lake.at(data_dir)
    rows = synthetic_rows() if rows is None else rows
    table = movies_table(rows)
    for year in sorted({r["year"] for r in rows if r["year"] is not None}):
        write_year_partition(lake, year, table.filter(pa.compute.equal(table.column("year"), year)))
    consolidated = read_movies(lake)
    if undated:
        rng = random.Random(99)
        extra = movies_table([movie(10_000_000 + k, None, rng) for k in range(undated)])
        consolidated = pa.concat_tables([consolidated, extra])
    write_parquet_atomic(consolidated, lake.movies_file)
    return lake
