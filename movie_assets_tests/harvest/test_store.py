"""The details store: one record per movie id, append-only versions, one writer, years derived from dates."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing

import pytest

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import changes, exports, stages
from movie_assets.harvest.store import (
    MERGE_AT_SHARDS,
    DetailsRecord,
    DetailsStore,
    StoreBusy,
    StoreError,
)
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.warehouse import build as warehouse

WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def record(movie_id: int, release: str, title: str = "T", when: dt.datetime = WHEN, status: str = "ok"):
    payload = json.dumps({"id": movie_id, "release_date": release, "title": title}) if status == "ok" else None
    return DetailsRecord(movie_id, status, when, payload)


def client_for(emu, **overrides) -> TMDbClient:
    values = dict(base_url=emu.base_url, requests_per_second=2000, backoff_base=0.01, backoff_max=0.05,
                  max_attempts=3)
    values.update(overrides)
    return TMDbClient(TMDbSettings(**values))


def test_latest_version_wins_and_unchanged_content_is_not_stored_twice(tmp_path):
    store = DetailsStore(tmp_path)
    with store.writer():
        store.append([record(1, "2020-01-01"), record(2, "2021-05-05")])
        store.append([record(1, "2020-01-01", when=WHEN + dt.timedelta(days=1))], store.latest_hashes())
        store.append([record(2, "2022-02-02", title="moved", when=WHEN + dt.timedelta(days=2))], store.latest_hashes())
        store.append([DetailsRecord(1, "failed", None, None, "HTTP 503")])  # a failure is never stored
    latest = {r["movie_id"]: r for r in store.latest().to_pylist()}
    assert latest[1]["observed_at"] == WHEN + dt.timedelta(days=1) and latest[1]["release_year"] == 2020
    assert latest[2]["release_year"] == 2022
    records = store.records(store.latest())
    assert records[1].details()["title"] == "T" and records[2].details()["title"] == "moved"
    payloads = [t.column("payload").to_pylist() for t in store._tables()]
    assert payloads[1] == [None]  # the unchanged refetch recorded the observation, not a second copy


def test_not_found_is_the_latest_state_and_a_later_listing_brings_the_movie_back(tmp_path):
    store = DetailsStore(tmp_path)
    with store.writer():
        store.append([record(7, "2019-03-03")])
        store.append([record(7, "", status="not_found", when=WHEN + dt.timedelta(days=1))])
        assert store.statuses() == {7: "not_found"}
        store.append([record(7, "2019-03-03", when=WHEN + dt.timedelta(days=2))], store.latest_hashes())
    assert store.statuses() == {7: "ok"}


def _hold_lock(directory, ready, release):
    with DetailsStore(directory).writer():
        ready.set()
        release.wait(10)


def test_one_writer_at_a_time_across_processes(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        busy = DetailsStore(tmp_path)
        with pytest.raises(StoreBusy, match="being written by pid .*wait for that run"), busy.writer():
            pass
    finally:
        release.set()
        holder.join(10)
    with DetailsStore(tmp_path).writer():  # free again once the other writer is done
        pass


def test_a_store_from_a_newer_schema_is_refused_and_left_alone(tmp_path):
    (tmp_path / "store.json").write_text('{"schema_version": 99}')
    with pytest.raises(StoreError, match="newer movie_assets .*upgrade movie_assets"):
        DetailsStore(tmp_path)
    assert (tmp_path / "store.json").read_text() == '{"schema_version": 99}'


def test_small_shards_are_merged_keeping_the_order(tmp_path):
    store = DetailsStore(tmp_path)
    with store.writer():
        for n in range(MERGE_AT_SHARDS + 1):
            store.append([record(1, f"{2000 + n}-01-01", when=WHEN + dt.timedelta(days=n))], store.latest_hashes())
        store.compact()
        assert len(store.shard_paths()) == 1
        store.append([record(2, "1999-01-01")])
    latest = {r["movie_id"]: r for r in store.latest().to_pylist()}
    assert latest[1]["release_year"] == 2000 + MERGE_AT_SHARDS and set(latest) == {1, 2}


async def test_a_failed_refetch_keeps_the_good_version_and_the_year_still_builds(tmp_path):
    catalog = Catalog(seed=14, movies_per_year=300)
    lake = Lake.at(tmp_path)
    with running_emulator(catalog=catalog) as emu:
        async with client_for(emu) as client:
            await stages.harvest_year(client, lake, 2021)
        good = lake.movies_year_file(2021).read_bytes()
        ids = set(stages.discover_ids(lake, 2021))
    async with client_for(emu, max_attempts=1) as client:  # the emulator is gone: every call fails
        with pytest.raises(stages.IngestError, match="still failed"):
            await stages.run_details(client, lake, 2021, refetch=ids)
    stages.build_movies_year(lake, 2021)
    assert lake.movies_year_file(2021).read_bytes() == good


async def test_a_movie_whose_date_moves_leaves_its_old_year_and_a_deleted_one_leaves_the_lake(tmp_path):
    """Refetching what /movie/changes lists and what left the daily export moves movies between years and
    drops deleted ones (deletions are never in the changes feed: only the export shows them)."""
    catalog = Catalog(seed=15, movies_per_year=600, first_year=2000, last_year=2026,
                      churn=ChurnRates(move=0.02, delete=0.01, add=0.0, move_any_year=0.0, move_to_undated=0.0))
    lake, years, clock = Lake.at(tmp_path), (2024, 2025), WHEN.replace(hour=9)
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=clock)) as emu:
        async with client_for(emu, exports_base_url=emu.root_url + "/p/exports") as client:
            for year in years:
                await stages.harvest_year(client, lake, year)
            first = warehouse.read_movies(lake)
            before = dict(zip(first.column("movie_id").to_pylist(), first.column("year").to_pylist(), strict=True))
            old_export = await exports.fetch_export(client, lake, now=clock)
            emu.advance(3)
            new_export = await exports.fetch_export(client, lake, now=emu.options.as_of)
            vanished = set(exports.read_snapshot_ids(lake, old_export.day).to_pylist()) - set(
                exports.read_snapshot_ids(lake, new_export.day).to_pylist())
            changed = await changes.changed_ids_since(client, clock.date(), catalog.day)
            for year in years:  # refetch the changed and vanished movies of every year first ...
                await stages.run_details(client, lake, year, refetch=set(changed.ids) | vanished)
    for year in years:  # ... then rebuild both years of every moved movie
        stages.build_movies_year(lake, year)
    overlay = catalog.overlay()
    table = warehouse.read_movies(lake)
    rows = dict(zip(table.column("movie_id").to_pylist(), table.column("year").to_pylist(), strict=True))
    assert len(rows) == table.num_rows  # every movie once
    assert all(rows[i] == catalog.summary(i).release_date.year for i in rows)  # in the year of its date today
    moved = {i: d.year for i, d in overlay.moved.items() if i in before}
    assert any(y in years and y != before[i] for i, y in moved.items())  # some crossed between the two years
    wrong = {i: (rows.get(i), y) for i, y in moved.items() if rows.get(i) != (y if y in years else None)}
    assert not wrong
    deleted = {i for i in overlay.deleted if i in before}
    assert deleted and deleted <= vanished and not set(rows) & deleted


async def test_movies_without_a_release_date_have_their_own_partition_read_as_a_null_year(tmp_path):
    import duckdb

    catalog = Catalog(seed=16, movies_per_year=500, first_year=2000, last_year=2026,
                      churn=ChurnRates(move=0.03, delete=0.0, add=0.0, move_to_undated=1.0))
    lake = Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=WHEN)) as emu:
        async with client_for(emu) as client:
            await stages.harvest_year(client, lake, 2023)
            assert stages.build_movies_undated(lake).num_rows == 0
            assert not lake.movies_year_dir(None).exists()  # no undated movies: no empty partition
            emu.advance(2)
            changed = await changes.changed_ids_since(client, WHEN.date(), catalog.day)
            await stages.run_details(client, lake, 2023, refetch=set(changed.ids))
    stages.build_movies_year(lake, 2023)
    undated = stages.build_movies_undated(lake)
    lost_dates = {i for i, d in catalog.overlay().moved.items() if d is None}
    assert set(undated.column("movie_id").to_pylist()) == lost_dates & set(stages.discover_ids(lake, 2023)) != set()
    assert undated.column("release_date").null_count == undated.num_rows
    table = warehouse.read_movies(lake)
    assert table.num_rows == len(set(table.column("movie_id").to_pylist()))  # each movie once
    assert table.slice(table.num_rows - undated.num_rows).column("year").null_count == undated.num_rows  # last
    warehouse.build_movies_db(lake)
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as connection:
        per_year = dict(connection.execute("SELECT year, movies FROM movies_per_year").fetchall())
    assert per_year[None] == undated.num_rows and per_year[2023] == table.num_rows - undated.num_rows


async def test_deleted_movies_leave_movies_for_the_tombstones_and_come_back_when_listed_again(tmp_path):
    from movie_assets.harvest.tombstones import NOT_FOUND_REASON, tombstones

    catalog = Catalog(seed=18, movies_per_year=500, first_year=2000, last_year=2026,
                      churn=ChurnRates(move=0.0, delete=0.02, add=0.0))
    lake, clock = Lake.at(tmp_path / "data"), WHEN.replace(hour=9)
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=clock)) as emu:
        async with client_for(emu, exports_base_url=emu.root_url + "/p/exports") as client:
            await stages.harvest_year(client, lake, 2020)
            emu.advance(2)
            export = await exports.fetch_export(client, lake, now=emu.options.as_of)
            deleted = sorted(i for i in catalog.overlay().deleted if i in set(stages.discover_ids(lake, 2020)))
            assert len(deleted) >= 2
            # One deleted movie is refetched (404); the others are only missing from the newest export.
            await stages.run_details(client, lake, 2020, refetch={deleted[0]})
    table = stages.build_movies_year(lake, 2020)
    assert not set(table.column("movie_id").to_pylist()) & set(deleted)
    stones = {r["movie_id"]: r for r in tombstones(lake).to_pylist()}
    assert set(stones) == set(deleted)
    assert stones[deleted[0]]["reason"] == NOT_FOUND_REASON
    assert stones[deleted[1]]["reason"] == f"not in TMDb's daily ID export of {export.day}"
    # TMDb lists one of them again (a later version answers 200): it is back in its year.
    store = DetailsStore(lake.details_store_dir)
    with store.writer():
        store.append([record(deleted[0], "2020-06-01", when=WHEN + dt.timedelta(days=5))], store.latest_hashes())
    assert deleted[0] in set(stages.build_movies_year(lake, 2020).column("movie_id").to_pylist())
    assert deleted[0] not in set(tombstones(lake).column("movie_id").to_pylist())


def test_a_merge_cut_short_by_a_kill_is_finished_by_the_next_writer(tmp_path):
    store = DetailsStore(tmp_path)
    with store.writer():
        for n in range(MERGE_AT_SHARDS):
            store.append([record(n, "2001-01-01")])
        small = store.shard_paths()
        merged = small[-1].with_name(small[-1].name.replace(".parquet", ".merged"))
        # Killed after the merged shard replaced the newest small one, before the others were deleted:
        import os

        from movie_assets.harvest.store import COMPACT_JOURNAL, VERSION_SCHEMA
        from movie_assets.lake import write_json_atomic, write_parquet_atomic

        write_parquet_atomic((store._read(p) for p in small), merged, schema=VERSION_SCHEMA)
        write_json_atomic({"merged": merged.name, "into": small[-1].name, "sources": [p.name for p in small]},
                          tmp_path / COMPACT_JOURNAL)
        os.replace(merged, small[-1])
        (tmp_path / "versions-99999998.merged").write_bytes(b"a stray merged file from an older kill")
    with store.writer():
        assert store.shard_paths() == [small[-1]] and not list(tmp_path.glob("*.merged"))
    assert store.latest().num_rows == MERGE_AT_SHARDS
    assert sum(t.num_rows for t in store._tables()) == MERGE_AT_SHARDS  # no version twice
