"""A team's own log file through the bridge: CSV and Parquet, each kind of item id, ISO-8601 and epoch times."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.csv as csv
import pyarrow.parquet as pq
import pytest

from movie_assets.lake import Lake
from movie_assets.recsys.events import EVENTS_SCHEMA, FILE
from movie_assets.recsys.log_file import read_log_file

from .bridge_lake import links_csv, parquet_bytes, write_lake

NOON = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
# The same instant written each way a log may write it.
TIMES = ["2024-05-01T12:00:00Z", "1714564800", "2024-05-01 14:00:00+02:00", "2024-05-01T12:00:00", "1714564800"]
# One movie per event, as each kind of id names it: Toy Story, The Matrix, a tombstoned movie, Heat, one never fetched.
IDS = {"tmdb_id": ["862", "603", "666", "949", "999"],
       "imdb_id": ["tt0114709", "133093", "tt9999999", "tt0113277", "tt0000990"],
       "movielens_id": ["1", "3", "7", "2", "12"]}
REASONS = {"tmdb_id": ["matched", "matched", "tombstoned", "matched", "not_in_lake"],
           "imdb_id": ["matched_by_imdb", "matched_by_imdb", "no_tmdb_id", "matched_by_imdb", "no_tmdb_id"],
           "movielens_id": ["matched", "matched", "tombstoned", "matched", "not_in_lake"]}
KEPT = [0, 1, 3]
MOVIES = [862, 603, None, 949, None]


@pytest.fixture
def lake(tmp_path) -> Lake:
    return write_lake(tmp_path / "data")


def log_table(column: str) -> pa.Table:
    return pa.table({"user_id": ["u1", "u2", "u3", "u1", "u4"], column: IDS[column], "timestamp": TIMES,
                     "rating": ["4.5", None, "3", "5", None], "event": ["view", None, "rating", "rating", "view"],
                     "weight": ["2", None, "1", "0.5", "1"]})


def write_log(directory, column: str, kind: str):
    table = log_table(column)
    path = directory / f"log.{kind}"
    if kind == "csv":
        csv.write_csv(table, path, csv.WriteOptions(quoting_style="none"))
    else:
        pq.write_table(table, path)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("column", list(IDS))
def test_each_kind_of_id_in_each_format(lake, tmp_path, kind, column):
    links = tmp_path / "links.csv"
    links.write_text(links_csv())
    path = write_log(tmp_path, column, kind)
    source = read_log_file(lake, path, links_path=links if column == "movielens_id" else None)
    assert source.kind == FILE and source.events.schema == EVENTS_SCHEMA
    events = source.events.to_pylist()
    assert [e["movie_id"] for e in events] == [MOVIES[i] for i in KEPT]
    assert [e["user_id"] for e in events] == ["u1", "u2", "u1"]
    assert {e["timestamp"] for e in events} == {NOON}  # ISO with a zone, with an offset, naive (UTC), epoch
    assert [(e["rating"], e["event"], e["weight"]) for e in events] == [
        (4.5, "view", 2.0), (None, "interaction", 1.0), (5.0, "rating", 0.5)]
    by_id = {r["source_item_id"]: r["reason"] for r in source.bridge.to_pylist()}
    normal = [i if column != "imdb_id" else f"tt{i.removeprefix('tt').zfill(7)}" for i in IDS[column]]
    assert [by_id[i] for i in normal] == REASONS[column]
    assert [e["source_item_id"] for e in events] == [normal[i] for i in KEPT]
    report = source.reports["bridge_coverage"]
    assert (report["events_read"], report["events_kept"]) == (5, 3) and report["reconciliation"]["passed"]
    assert [i.kind for i in source.inputs] == (["interactions_file", "links"] if column == "movielens_id"
                                              else ["interactions_file"])
    assert source.policies["format"] == kind and source.policies["id_column"] == column


def test_parquet_timestamps_and_numbers_are_read_as_they_are_typed(lake, tmp_path):
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({
        "user_id": pa.array([7, 8], pa.int64()), "tmdb_id": pa.array([862, 603], pa.int32()),
        "timestamp": pa.array([dt.datetime(2024, 5, 1, 12, 0, 0, 900000), dt.datetime(2024, 5, 1, 14)],
                              pa.timestamp("ms")),
        "rating": pa.array([4, 5], pa.int8())}), path)
    events = read_log_file(lake, path).events.to_pylist()
    assert [(e["user_id"], e["movie_id"], e["timestamp"], e["rating"]) for e in events] == [
        ("7", 862, NOON, 4.0), ("8", 603, NOON + dt.timedelta(hours=2), 5.0)]  # naive: UTC, whole seconds


def test_a_zoned_parquet_timestamp_is_converted_to_utc(lake, tmp_path):
    path = tmp_path / "zoned.parquet"
    berlin = dt.datetime(2024, 5, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    pq.write_table(pa.table({"user_id": ["a"], "tmdb_id": [862],
                             "timestamp": pa.array([berlin], pa.timestamp("s", tz="Europe/Berlin"))}), path)
    assert read_log_file(lake, path).events.column("timestamp").to_pylist() == [NOON]


def test_links_are_not_used_for_tmdb_ids_and_that_is_said(lake, tmp_path):
    links = tmp_path / "links.csv"
    links.write_text(links_csv())
    source = read_log_file(lake, write_log(tmp_path, "tmdb_id", "csv"), links_path=links)
    assert [i.kind for i in source.inputs] == ["interactions_file"]
    assert any("--links" in w and "tmdb_id" in w for w in source.warnings)


def test_a_second_read_gives_byte_identical_events(lake, tmp_path):
    path = write_log(tmp_path, "imdb_id", "parquet")
    assert parquet_bytes(read_log_file(lake, path).events) == parquet_bytes(read_log_file(lake, path).events)
