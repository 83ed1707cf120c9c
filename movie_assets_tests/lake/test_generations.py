"""Generations of the typed dataset (`movie_assets.lake.generations`): readers see one completed build, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movie_assets.harvest.records import movies_table
from movie_assets.harvest.year_build import write_year_partition
from movie_assets.lake import Lake, generations, write_parquet_atomic
from movie_assets.lake.locks import partitions_lock
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.release.synthetic import movie, synthetic_rows


def year_table(ids: list[int], year: int | None) -> pa.Table:
    return pa.table({"movie_id": pa.array(ids, pa.int64()), "year": pa.array([year] * len(ids), pa.int16())})


def seen(lake: Lake) -> list[tuple[int, int]]:
    """What a pyarrow user reading the folder, as the README shows, gets: sorted (movie_id, year)."""
    table = pq.read_table(lake.movies_dataset_dir)
    return sorted(zip(table.column("movie_id").to_pylist(), table.column("year").to_pylist(), strict=True))


def lake_with(tmp_path, years: dict[int, list[int]]) -> Lake:
    lake = Lake.at(tmp_path / "data")
    with partitions_lock(lake):
        for year, ids in years.items():
            write_year_partition(lake, year, year_table(ids, year))
    return lake


def test_a_reader_between_two_year_writes_of_one_sync_sees_the_lake_before_them(tmp_path):
    lake = lake_with(tmp_path, {2020: [1, 2], 2021: [3]})
    before = [(1, 2020), (2, 2020), (3, 2021)]
    with partitions_lock(lake):  # movie 2 moves from 2020 to 2021, as a sync rebuilds both years
        write_year_partition(lake, 2020, year_table([1], 2020))
        assert seen(lake) == before  # was [(1, 2020), (3, 2021)]: movie 2 in no year
        assert sorted(pd.read_parquet(lake.movies_dataset_dir)["movie_id"]) == [1, 2, 3]
        write_year_partition(lake, 2021, year_table([2, 3], 2021))
        assert seen(lake) == before
        staged = lake.movies_year_files(generations.staging_dir(lake))  # the writer itself sees its writes
        assert [p.parent.name for _, p in staged] == ["year=2020", "year=2021"]
    assert seen(lake) == [(1, 2020), (2, 2021), (3, 2021)]


def test_an_error_inside_the_lock_publishes_nothing_and_leaves_no_staging(tmp_path):
    lake = lake_with(tmp_path, {2020: [1, 2], 2021: [3]})
    current = generations.current_generation(lake)
    with pytest.raises(ZeroDivisionError), partitions_lock(lake):
        write_year_partition(lake, 2020, year_table([1], 2020))
        raise ZeroDivisionError
    assert generations.current_generation(lake) == current and seen(lake) == [(1, 2020), (2, 2020), (3, 2021)]
    assert [p.name for p in lake.movies_generations_dir.iterdir() if p.name != "retired.json"] == [current]


KILLED_WRITER = """
import os, sys, pyarrow as pa
from movie_assets.harvest.year_build import write_year_partition
from movie_assets.lake import Lake
from movie_assets.lake.locks import partitions_lock
lake = Lake.at(sys.argv[1])
with partitions_lock(lake):
    write_year_partition(lake, 2020, pa.table({"movie_id": pa.array([1], pa.int64()),
                                               "year": pa.array([2020], pa.int16())}))
    print("written", flush=True)
    sys.stdin.read()
"""


def test_a_writer_killed_mid_sync_leaves_the_current_generation_and_its_staging_is_swept(tmp_path):
    lake = lake_with(tmp_path, {2020: [1, 2], 2021: [3]})
    current = generations.current_generation(lake)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(lake.root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert generations.current_generation(lake) == current and seen(lake) == [(1, 2020), (2, 2020), (3, 2021)]
    staging = [p for p in lake.movies_generations_dir.iterdir() if p.name.endswith(".build")]
    assert len(staging) == 1
    assert lake.remove_stale_temporaries() == staging
    with partitions_lock(lake):  # the next writer goes on from the current generation
        write_year_partition(lake, 2021, year_table([2, 3], 2021))
        write_year_partition(lake, 2020, year_table([1], 2020))
    assert seen(lake) == [(1, 2020), (2, 2021), (3, 2021)]


def test_unchanged_years_keep_their_inode_and_an_unchanged_rebuild_publishes_nothing(tmp_path):
    lake = lake_with(tmp_path, {2019: [7], 2020: [1, 2], 2021: [3]})
    inodes = {year: path.stat().st_ino for year, path in lake.movies_year_files()}
    first = generations.current_generation(lake)
    with partitions_lock(lake):
        write_year_partition(lake, 2020, year_table([1], 2020))
    assert generations.current_generation(lake) != first
    after = {year: path.stat().st_ino for year, path in lake.movies_year_files()}
    assert after[2019] == inodes[2019] and after[2021] == inodes[2021] and after[2020] != inodes[2020]
    second = generations.current_generation(lake)
    with partitions_lock(lake):  # the same bytes again (a sync that found nothing new)
        write_year_partition(lake, 2020, year_table([1], 2020))
        generations.remove_partition(lake, None)  # no undated partition to remove
    assert generations.current_generation(lake) == second


def test_a_reader_that_listed_before_a_switch_gets_an_error_for_a_changed_year_never_its_new_bytes(tmp_path):
    lake = lake_with(tmp_path, {2019: [7], 2020: [1, 2], 2021: [3]})
    listed = dict(lake.movies_year_files())
    snapshot = generations.snapshot_dir(lake)
    with partitions_lock(lake):
        write_year_partition(lake, 2020, year_table([1], 2020))
        write_year_partition(lake, 2021, year_table([2, 3], 2021))
    for year in (2020, 2021):
        with pytest.raises(FileNotFoundError):
            pq.read_table(listed[year])
    assert pq.read_table(listed[2019]).column("movie_id").to_pylist() == [7]  # unchanged: the same bytes
    assert sorted(pq.read_table(snapshot).column("movie_id").to_pylist()) == [1, 2, 3, 7]  # resolved: frozen


def test_old_generations_go_after_the_grace_period_unless_pinned(tmp_path, monkeypatch):
    lake = lake_with(tmp_path, {2020: [1]})
    pinned = generations.snapshot_dir(lake)
    with generations.pinned(lake, "movies.duckdb", pinned):
        pass
    for ids in ([1, 2], [1, 2, 3]):
        with partitions_lock(lake):
            write_year_partition(lake, 2020, year_table(ids, 2020))
    names = sorted(p.name for p in lake.movies_generations_dir.iterdir() if generations._NAME.match(p.name))
    assert len(names) == 3  # all within the grace period
    removed = generations.prune(lake, now=time.time() + generations.GRACE_S + 1)
    left = sorted(p.name for p in lake.movies_generations_dir.iterdir() if generations._NAME.match(p.name))
    assert [p.name for p in removed] == [names[1]] and left == [pinned.name, names[2]]
    later = generations.snapshot_dir(lake)
    with generations.pinned(lake, "movies.duckdb", later):  # the database moves on: the old one is released
        pass
    assert generations.prune(lake, now=time.time() + 1) == []  # still in its grace period
    assert [p.name for p in generations.prune(lake, now=time.time() + generations.GRACE_S + 1)] == [pinned.name]


def test_a_lake_from_before_generations_is_migrated_once_with_the_same_rows(tmp_path):
    lake = Lake.at(tmp_path / "data")
    rows = synthetic_rows({2020: 5, 2021: 7})
    table = movies_table(rows)
    for year in (2020, 2021):  # the old layout: a real folder with part-0.parquet files
        part = table.filter(pa.compute.equal(table.column("year"), year)).drop_columns(["year"])
        write_parquet_atomic(part, lake.movies_dataset_dir / f"year={year}" / "part-0.parquet")
    before = warehouse.read_movies(lake)
    warehouse.build_movies_db(lake)
    assert lake.movies_dataset_dir.is_symlink() and generations.current_generation(lake) == "00000001"
    assert all(path.name.startswith("part-") and path.name != "part-0.parquet" for _, path in lake.movies_year_files())
    assert warehouse.read_movies(lake).equals(before)
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM movies").fetchone()[0] == before.num_rows


def test_movies_db_reads_one_generation_that_outlives_the_next_sync(tmp_path):
    lake = Lake.at(tmp_path / "data")
    rows = synthetic_rows({2020: 6, 2021: 4})
    table = movies_table(rows)
    with partitions_lock(lake):
        for year in (2020, 2021):
            write_year_partition(lake, year, table.filter(pa.compute.equal(table.column("year"), year)))
    warehouse.build_movies_db(lake)
    moved = movie(rows[0]["movie_id"], rows[-1]["release_date"], __import__("random").Random(1))
    with partitions_lock(lake):  # the first movie of 2020 moves to 2021
        write_year_partition(lake, 2020, table.filter(pa.compute.equal(table.column("year"), 2020)).slice(1))
        rest = table.filter(pa.compute.equal(table.column("year"), 2021))
        write_year_partition(lake, 2021, pa.concat_tables([rest, movies_table([moved])]))
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as connection:  # built before the sync
        assert connection.execute("SELECT year, count(*) FROM movies GROUP BY 1 ORDER BY 1").fetchall() == [
            (2020, 6), (2021, 4)]
        assert connection.execute("SELECT count(*) FROM movies_consolidated").fetchone()[0] == 10
    warehouse.build_movies_db(lake)
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as connection:
        assert connection.execute("SELECT year, count(*) FROM movies GROUP BY 1 ORDER BY 1").fetchall() == [
            (2020, 5), (2021, 5)]


def test_generations_are_made_with_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        lake = lake_with(tmp_path, {2020: [1]})
    finally:
        os.umask(old)
    (year, path), = lake.movies_year_files()
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.parent.stat().st_mode & 0o777 == 0o750
    assert generations.snapshot_dir(lake).stat().st_mode & 0o777 == 0o750
