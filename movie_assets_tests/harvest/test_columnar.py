"""The columnar build gives exactly the row-by-row build's table (`movie_row` + `movies_table`), odd data
included: the same bytes once written."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random

import pyarrow as pa
import pytest

from movie_assets.emulator import Catalog
from movie_assets.harvest import columnar
from movie_assets.harvest.records import movie_row, movies_table
from movie_assets.harvest.store import PAYLOADS_SCHEMA

BASE = "https://image.example/t/p/"
WHEN = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def batch(payloads: list[dict]) -> pa.Table:
    return pa.table({
        "movie_id": pa.array([1000 + i for i in range(len(payloads))], pa.int64()),
        "status": ["ok"] * len(payloads),
        "observed_at": pa.array([WHEN] * len(payloads), pa.timestamp("us", tz="UTC")),
        "payload": [json.dumps(p, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for p in payloads],
    }, schema=PAYLOADS_SCHEMA)


def expected(table: pa.Table) -> pa.Table:
    rows = [movie_row({"movie_id": m}, json.loads(p), status=s, harvested_at=o, genre_names={},
                      image_base_url=BASE)
            for m, s, o, p in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)]
    return movies_table(rows)


def assert_same(payloads: list[dict], monkeypatch) -> None:
    """The columnar path itself (never its row-by-row fallback) gives the row-by-row table."""
    def no_fallback(*args, **kwargs):
        raise AssertionError("fell back to the row-by-row build")

    monkeypatch.setattr(columnar, "_row_by_row", no_fallback)
    table = batch(payloads)
    got = columnar.movies_from_payloads(table, image_base_url=BASE)
    got = got.sort_by([("release_date", "ascending"), ("movie_id", "ascending")])
    want = expected(table)
    assert got.schema == want.schema
    for name in want.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    assert got.equals(want)


@pytest.fixture(scope="module")
def emulator_payloads() -> list[dict]:
    catalog = Catalog(seed=5, movies_per_year=300)
    ids = [s.id for year in (1950, 2001, 2023) for s in catalog.movies_in_year(year)]
    return [catalog.details(i) for i in ids]


def test_emulator_payloads_build_identically(emulator_payloads, monkeypatch):
    assert len(emulator_payloads) > 300
    assert_same(emulator_payloads, monkeypatch)


ODD = [
    {},  # nothing at all
    {"title": "", "overview": " \t\n", "tagline": "\u3000\u2003", "imdb_id": "\x1c", "status": "\u200b"},
    {"release_date": "", "runtime": 0, "budget": 0, "revenue": 5, "adult": None, "video": True},
    {"release_date": "2021-02-03T10:00:00Z", "popularity": 3, "vote_count": 0},
    {"genres": None, "credits": None, "keywords": None, "poster_path": "", "backdrop_path": "  "},
    {"genres": [], "credits": {"cast": [], "crew": []}, "keywords": {"keywords": []}},
    {"credits": {"cast": [{"id": 3, "name": "C", "order": None, "character": ""},
                          {"id": None, "name": "N", "order": 1, "character": "x"},
                          {"id": 2, "name": "B", "order": 1, "character": " y "},
                          {"id": 1, "name": "A", "order": 1},
                          {"name": "no id, no order"},
                          {"id": 1, "name": "A again", "order": 1}],
                 "crew": [{"id": 9, "name": "D", "job": "Director"}, {"id": 9, "name": "D", "job": "Director"},
                          {"id": None, "name": "E", "job": "Director"}, {"name": "E", "job": "Director"},
                          {"name": None, "job": "Director"}, {"job": "Director"},
                          {"id": 8, "name": "W", "job": "Writer"}, {"id": 7, "name": "F", "job": None},
                          {"id": 6, "name": "G", "job": "director"}]}},
    {"keywords": {"keywords": [{"name": "a"}, {"name": ""}, {"id": 4}]}, "genres": [{"id": 12, "name": "Adv"}]},
    {"title": "Ünïcødé ☃ 𝔘 \u2028 line", "release_date": "1874-12-09", "poster_path": "/p.jpg"},
]


@pytest.mark.parametrize("payload", ODD, ids=range(len(ODD)))
def test_odd_but_valid_payloads_build_identically(payload, emulator_payloads, monkeypatch):
    assert_same([payload, *emulator_payloads[:3]], monkeypatch)


UNUSUAL = [
    {"runtime": "90"},  # a string where a number belongs
    {"runtime": 90.0},
    {"adult": 0},
    {"release_date": "20210203"},  # Python's fromisoformat reads it; not YYYY-MM-DD
    {"genres": [{"id": "12", "name": "Adv"}]},
    {"credits": {"cast": [None, {"id": 1, "name": "A", "order": 0}], "crew": ["x"]}},
    {"keywords": {"keywords": [{"name": 5}]}},
]


@pytest.mark.parametrize("payload", UNUSUAL, ids=range(len(UNUSUAL)))
def test_payloads_off_the_schema_are_built_row_by_row_with_the_same_result(payload, emulator_payloads):
    table = batch([payload, *emulator_payloads[:3]])
    try:
        want = expected(table)
    except Exception as exc:  # the row-by-row build refuses it: so does the columnar one, the same way
        with pytest.raises(type(exc)):
            columnar.movies_from_payloads(table, image_base_url=BASE)
        return
    got = columnar.movies_from_payloads(table, image_base_url=BASE)
    assert got.sort_by([("release_date", "ascending"), ("movie_id", "ascending")]).equals(want)


def test_random_mutations_of_real_payloads_build_identically(emulator_payloads):
    rng = random.Random(7)
    mutated = []
    for payload in emulator_payloads[:300]:
        p = copy.deepcopy(payload)
        for key in rng.sample(sorted(p), k=min(4, len(p))):
            if not isinstance(p[key], (dict, list)):
                p[key] = rng.choice([None, "", " ", 0, p[key]])
        if rng.random() < 0.3 and p.get("credits"):
            rng.shuffle(p["credits"].get("cast") or [])
        try:
            expected(batch([p]))
        except (ValueError, TypeError, pa.ArrowException):
            continue  # a mutation the row-by-row build refuses (e.g. runtime " ")
        mutated.append(p)
    assert len(mutated) > 100
    table = batch(mutated)
    got = columnar.movies_from_payloads(table, image_base_url=BASE)
    assert got.sort_by([("release_date", "ascending"), ("movie_id", "ascending")]).equals(expected(table))


def test_without_an_image_base_there_are_no_urls(emulator_payloads):
    got = columnar.movies_from_payloads(batch(emulator_payloads[:5]), image_base_url=None)
    assert got.column("poster_url").null_count == 5
