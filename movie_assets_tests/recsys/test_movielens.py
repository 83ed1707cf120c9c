"""MovieLens through the bridge: every reason once, the coverage report, the reconciliation, ml-1m with --links."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from movie_assets.lake import file_sha256
from movie_assets.recsys.bridge import LakeItems, bridge_items, lake_items, reconcile_bridge
from movie_assets.recsys.events import EVENTS_SCHEMA, MOVIELENS
from movie_assets.recsys.movielens import read_movielens

from .bridge_lake import (
    EVENTS_KEPT,
    EVENTS_READ,
    ITEMS,
    UNLISTED,
    links_csv,
    ml1m_zip,
    parquet_bytes,
    ratings_rows,
)

EXPECTED_MOVIE = {1: 862, 2: 949, 3: 603, 4: 100, 5: 200, 6: 201, 13: 862}


def test_every_bridge_row_has_its_reason(lake, ml_zip):
    bridge = read_movielens(lake, ml_zip).bridge
    rows = {int(r["source_item_id"]): r for r in bridge.to_pylist()}
    assert list(rows) == sorted(rows)  # numeric order: 10 after 9
    for movie, imdb, tmdb, title, count, reason, detail in ITEMS:
        row = rows[movie]
        assert (row["reason"], row["detail"]) == (reason, detail), movie
        assert (row["imdb_id"], row["tmdb_id"], row["title"], row["events"]) == (f"tt{imdb}", tmdb, title, count)
        assert row["movie_id"] == EXPECTED_MOVIE.get(movie) and row["kept"] == (movie in EXPECTED_MOVIE)
    unlisted = rows[UNLISTED[0]]
    assert (unlisted["reason"], unlisted["detail"], unlisted["events"]) == ("no_tmdb_id", "not in links", UNLISTED[1])
    assert rows[13]["year"] == 1995 and rows[7]["year"] == 1987 and unlisted["year"] is None  # lake's, title's


def test_events_are_the_kept_ratings_on_lake_movies(lake, ml_zip):
    source = read_movielens(lake, ml_zip)
    events = source.events
    assert source.kind == MOVIELENS and events.schema == EVENTS_SCHEMA and events.num_rows == EVENTS_KEPT
    expected = [(str(u), EXPECTED_MOVIE[m], str(m), dt.datetime.fromtimestamp(t, dt.UTC), r)
                for u, m, r, t in ratings_rows() if m in EXPECTED_MOVIE]
    got = list(zip(*(events.column(c).to_pylist() for c in ("user_id", "movie_id", "source_item_id", "timestamp",
                                                                "rating")), strict=True))
    assert got == expected
    assert set(events.column("event").to_pylist()) == {"rating"} and set(events.column("weight").to_pylist()) == {1.0}
    assert not source.publishable
    assert source.licence["url"] == "https://grouplens.org/datasets/movielens/"
    assert "Harper" in source.licence["cite"] and "no redistribution" in source.licence["terms"]
    [zip_input] = source.inputs
    assert (zip_input.kind, zip_input.sha256, zip_input.bytes) == (
        "movielens_zip", file_sha256(ml_zip), ml_zip.stat().st_size)
    assert source.policies["layout"] == "ml-latest-small"


def test_the_coverage_report_counts_every_reason(lake, ml_zip):
    source = read_movielens(lake, ml_zip)
    report = source.reports["bridge_coverage"]
    assert (report["events_read"], report["events_kept"], report["events_dropped"]) == (57, 30, 27)
    assert (report["movies"], report["movies_kept"]) == (14, 7) and report["events_kept_share"] == round(30 / 57, 6)
    counts = {reason: (v["movies"], v["events"]) for reason, v in report["reasons"].items()}
    assert counts == {"matched": (3, 19), "matched_by_imdb": (2, 4), "imdb_mismatch": (1, 3),
                      "duplicate_tmdb_id": (1, 4), "no_tmdb_id": (2, 15), "tombstoned": (1, 6), "not_in_lake": (4, 6)}
    details = {d: (v["movies"], v["events"]) for d, v in report["reasons"]["not_in_lake"]["details"].items()}
    assert details == {"policy": (1, 3), "year_range": (1, 2), "not_harvested": (1, 0), "not_built": (1, 1)}
    assert [(t["source_item_id"], t["events"], t["reason"]) for t in report["top_unmatched"]] == [
        ("14", 8, "no_tmdb_id"), ("8", 7, "no_tmdb_id"), ("7", 6, "tombstoned"), ("9", 3, "not_in_lake"),
        ("10", 2, "not_in_lake"), ("11", 1, "not_in_lake")]  # 12 has no ratings: not listed
    assert report["top_unmatched"][1]["title"] == "No Id (2003)"
    assert [(d["decade"], d["events"], d["events_kept"]) for d in report["by_decade"]] == [
        ("1980s", 6, 0), ("1990s", 34, 30), ("2000s", 7, 0), ("2010s", 2, 0), ("unknown", 8, 0)]
    assert report["reconciliation"]["passed"] and report["reconciliation"]["events_dropped"] == 27
    assert len(source.warnings) == 1 and "52.6%" in source.warnings[0] and source.errors == []


def test_a_share_under_the_floor_is_an_error(lake, ml_zip):
    source = read_movielens(lake, ml_zip, floor=0.6)
    assert len(source.errors) == 1 and "floor of 60%" in source.errors[0] and source.warnings == []


def test_the_reconciliation_fails_when_counts_are_tampered(lake, ml_zip):
    bridge = read_movielens(lake, ml_zip).bridge
    passed, description, metadata = reconcile_bridge(bridge, EVENTS_READ, EVENTS_KEPT)
    assert passed and "57 read = 30 kept + 27 dropped" in description
    assert sum(metadata["events_per_reason"].values()) == EVENTS_READ
    assert not reconcile_bridge(bridge, EVENTS_READ + 1, EVENTS_KEPT)[0]  # an event read went nowhere
    assert not reconcile_bridge(bridge, EVENTS_READ, EVENTS_KEPT - 1)[0]  # a kept event is missing
    events = bridge.column("events").to_pylist()
    events[0] += 1
    more = bridge.set_column(bridge.schema.get_field_index("events"), "events", pa.array(events, pa.int64()))
    passed, description, _ = reconcile_bridge(more, EVENTS_READ, EVENTS_KEPT)
    assert not passed and "58" in description
    flipped = bridge.set_column(bridge.schema.get_field_index("kept"), "kept",
                                pc.invert(bridge.column("kept")))
    assert not reconcile_bridge(flipped, EVENTS_READ, EVENTS_READ - EVENTS_KEPT)[0]  # reasons disagree with kept


def test_a_second_read_gives_byte_identical_events(lake, ml_zip):
    first, second = read_movielens(lake, ml_zip), read_movielens(lake, ml_zip)
    assert parquet_bytes(first.events) == parquet_bytes(second.events)
    assert parquet_bytes(first.bridge) == parquet_bytes(second.bridge)
    assert first.reports == second.reports


def test_ml_1m_is_bridged_with_the_links_of_another_release(lake, tmp_path):
    links = tmp_path / "links.csv"
    links.write_text(links_csv())
    source = read_movielens(lake, ml1m_zip(tmp_path / "ml-1m.zip"), links_path=links)
    bridge = {int(r["source_item_id"]): r for r in source.bridge.to_pylist()}
    assert {m: bridge[m]["reason"] for m, *_ in ITEMS} == {m: reason for m, *_, reason, _ in ITEMS}
    assert bridge[1]["title"] == "Toy Story: Café (1995)"  # movies.dat is latin-1, and a title may hold ":"
    assert source.events.num_rows == EVENTS_KEPT and set(source.events.column("rating").to_pylist()) <= {1, 2, 3, 4, 5}
    assert [i.kind for i in source.inputs] == ["movielens_zip", "links"]
    assert source.policies["layout"] == "ml-1m"


def test_links_given_with_a_csv_release_replace_its_own(lake, ml_zip, tmp_path):
    links = tmp_path / "links.csv"
    links.write_text(links_csv([item for item in ITEMS if item[0] != 2]))  # Heat unlisted
    bridge = {int(r["source_item_id"]): r for r in read_movielens(lake, ml_zip, links_path=links).bridge.to_pylist()}
    assert (bridge[2]["reason"], bridge[2]["detail"], bridge[2]["events"]) == ("no_tmdb_id", "not in links", 5)


def test_the_bridge_is_a_pure_function_of_items_and_the_lake(lake):
    known = lake_items(lake)
    assert known.years == frozenset({1995, 1999}) and known.tombstoned.to_pylist() == [666]
    movies = pa.table({"movie_id": [1, 2, 3], "imdb_id": ["tt0000001", "tt0000001", None], "year": [2000, 2001, None]})
    latest = pa.table({"movie_id": [1, 2, 3, 4], "status": ["ok"] * 4, "release_year": [2000, 2001, None, 1990],
                       "adult": [False] * 4, "video": [False, False, False, True]})
    items = LakeItems.from_tables(movies, [], latest, pa.array([True, True, True, False]), [2000, 2001, None])
    table = pa.table({"source_item_id": ["a", "b", "c"], "imdb_id": ["tt0000001", None, None],
                      "tmdb_id": pa.array([None, 4, 3], pa.int64()), "events": [1, 2, 3], "title": [None] * 3,
                      "listed": [True] * 3})
    rows = bridge_items(table, items).to_pylist()
    assert [(r["reason"], r["detail"], r["movie_id"]) for r in rows] == [
        ("no_tmdb_id", "tt0000001 names several lake movies", None), ("not_in_lake", "policy", None),
        ("matched", None, 3)]
    assert rows[2]["year"] is None  # an undated lake movie


@pytest.mark.parametrize("floor", [0.0, 1.0])
def test_floor_bounds_are_accepted(lake, ml_zip, floor):
    source = read_movielens(lake, ml_zip, floor=floor)
    assert bool(source.errors) == (floor == 1.0)
