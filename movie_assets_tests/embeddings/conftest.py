"""Fixtures for the embedding tests: a tiny synthetic catalog, a fake encoder, the real model (once)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from movie_assets.lake import Lake, write_parquet_atomic
from movie_assets.lake.schema import MOVIES_SCHEMA

CATALOG = [
    # (id, title, date, genres, directors, cast, keywords, overview, popularity)
    (603, "The Matrix", "1999-03-30", ["Action", "Science Fiction"], ["Lana Wachowski", "Lilly Wachowski"],
     ["Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"], ["simulation", "hacker", "dystopia"],
     "A hacker learns that reality is a simulation run by machines and joins the rebellion.", 80.0),
    (604, "The Matrix Reloaded", "2003-05-15", ["Action", "Science Fiction"], ["Lana Wachowski"],
     ["Keanu Reeves", "Laurence Fishburne"], ["simulation", "sequel"],
     "Neo and the rebels fight the machines as they close in on Zion.", 40.0),
    (862, "Toy Story", "1995-10-30", ["Animation", "Family", "Comedy"], ["John Lasseter"],
     ["Tom Hanks", "Tim Allen"], ["toy", "friendship"],
     "A cowboy doll feels threatened when a new spaceman action figure arrives in the boy's room.", 90.0),
    (863, "Toy Story 2", "1999-10-30", ["Animation", "Family", "Comedy"], ["John Lasseter"],
     ["Tom Hanks", "Tim Allen"], ["toy", "collector"],
     "Woody is stolen by a toy collector and his friends set out to rescue him.", 50.0),
    (949, "Heat", "1995-12-15", ["Crime", "Thriller"], ["Michael Mann"], ["Al Pacino", "Robert De Niro"],
     ["bank robbery", "detective"], "A detective hunts a crew of professional bank robbers in Los Angeles.", 30.0),
    (9001, "Heat", "1986-03-14", ["Action", "Thriller"], ["Dick Richards"], ["Burt Reynolds"],
     ["las vegas", "bodyguard"], "A Las Vegas bodyguard with a gambling problem takes on the mob.", 5.0),
    (348, "Alien", "1979-05-25", ["Horror", "Science Fiction"], ["Ridley Scott"], ["Sigourney Weaver"],
     ["spaceship", "alien"], "The crew of a commercial spaceship meets a deadly lifeform.", 60.0),
    (679, "Aliens", "1986-07-18", ["Action", "Science Fiction"], ["James Cameron"], ["Sigourney Weaver"],
     ["spaceship", "alien", "marines"], "Ripley returns with space marines to the planet of the creatures.", 55.0),
    (129, "Spirited Away", "2001-07-20", ["Animation", "Fantasy"], ["Hayao Miyazaki"], ["Rumi Hiiragi"],
     ["spirit", "bathhouse"], "A girl wanders into a world of spirits and must work in a bathhouse.", 70.0),
    (238, "The Godfather", "1972-03-14", ["Crime", "Drama"], ["Francis Ford Coppola"], ["Marlon Brando"],
     ["mafia"], "The aging patriarch of a crime dynasty transfers control to his reluctant son.", 85.0),
    (77, "Untitled Undated", None, [], [], [], [], None, 0.1),
]


def movie_row(mid, title, date, genres, directors, cast, keywords, overview, popularity) -> dict:
    release = dt.date.fromisoformat(date) if date else None
    return {
        "movie_id": mid,
        "title": title,
        "overview": overview,
        "release_date": release,
        "year": release.year if release else None,
        "genres": genres,
        "cast": [{"person_id": 1000 + i, "name": n, "character": None, "order": i} for i, n in enumerate(cast)],
        "directors": [{"person_id": 5000 + i, "name": n} for i, n in enumerate(directors)],
        "keywords": keywords,
        "popularity": popularity,
        "details_status": "ok",
    }


def catalog_rows() -> list[dict]:
    return [movie_row(*entry) for entry in CATALOG]


def catalog_table(rows: list[dict] | None = None) -> pa.Table:
    return pa.Table.from_pylist(rows if rows is not None else catalog_rows(), schema=MOVIES_SCHEMA)


def write_catalog(data_dir: Path, rows: list[dict] | None = None) -> Lake:
    """The catalog as the lake holds it: one file per year (and the undated movies), plus movies.parquet."""
    lake = Lake.at(data_dir)
    rows = rows if rows is not None else catalog_rows()
    write_parquet_atomic(catalog_table(rows), lake.movies_file)
    years = {r["year"] for r in rows}
    for year, path in lake.movies_year_files():
        if year not in years:
            path.unlink()
    for year in years:
        write_parquet_atomic(catalog_table([r for r in rows if r["year"] == year]), lake.movies_year_file(year))
    return lake


def catalog_years(rows: list[dict] | None = None) -> list[int | None]:
    """The years of the catalog (None: undated), as partitions are listed."""
    years = {r["year"] for r in (rows if rows is not None else catalog_rows())}
    return sorted(years, key=lambda y: (y is None, y or 0))


class FakeEncoder:
    """Deterministic 384-d unit vectors from the text's sha256; counts what it was asked to encode."""

    def __init__(self, dimension: int = 384):
        self.dimension = dimension
        self.calls: list[list[str]] = []

    @property
    def encoded(self) -> int:
        return sum(len(c) for c in self.calls)

    def encode(self, sentences, **kwargs):
        self.calls.append(list(sentences))
        out = np.empty((len(sentences), self.dimension), dtype=np.float32)
        for i, s in enumerate(sentences):
            seed = int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="session")
def real_model():
    from movie_assets.embeddings.model import load_model

    return load_model()


def emulator_texts(n: int, year: int = 1975, per_year: int = 2000) -> list[str]:
    """Document texts of ``n`` movies of the built-in emulator's catalog (what `make demo` embeds)."""
    from movie_assets.embeddings.text import document_text
    from movie_assets.emulator import Catalog
    from movie_assets.harvest.records import movie_row

    catalog = Catalog(seed=42, movies_per_year=per_year)
    texts = []
    for summary in catalog.movies_in_year(year)[:n]:
        details = catalog.details(int(summary.id))
        row = movie_row({"movie_id": int(summary.id)}, details, status="ok", harvested_at=None, genre_names={},
                        image_base_url=None)
        texts.append(document_text(row))
    return texts


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory) -> Path:
    """One int8 export shared by the session's tests (each export takes a few seconds)."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def onnx_backend(onnx_cache):
    from movie_assets.embeddings.backends import load_backend

    return load_backend("onnx-int8", cache_dir=onnx_cache)
