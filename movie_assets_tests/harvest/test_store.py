"""The details store: one record per movie id, append-only versions, one writer, years derived from dates."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import multiprocessing
import threading
import time

import pyarrow as pa
import pytest

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import changes, deletions, exports, stages, year_build
from movie_assets.harvest.store import (
    MERGE_AT_SHARDS,
    OK,
    DetailsRecord,
    DetailsStore,
    StoreBusy,
    StoreError,
)
from movie_assets.lake import Lake, readers
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


@contextlib.contextmanager
def lock_held_elsewhere(directory):
    """Another process holds the store's write lock until the block ends or the yielded event is set."""
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(directory), ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        yield release
    finally:
        release.set()
        holder.join(10)


def test_one_writer_at_a_time_across_processes(tmp_path):
    with lock_held_elsewhere(tmp_path):
        busy = DetailsStore(tmp_path)
        with pytest.raises(StoreBusy, match="being written by pid .*wait for that run"), busy.writer():
            pass
    with DetailsStore(tmp_path).writer():  # free again once the other writer is done
        pass


def test_a_details_runs_closing_merge_is_skipped_not_failed_while_a_sync_holds_the_store(tmp_path):
    """run_details merges small shards at the end, after every version is stored: a sync holding the lock for
    its whole run used to fail that step with StoreBusy after two minutes; the merge is left to the next writer."""
    with lock_held_elsewhere(tmp_path):
        started = time.monotonic()
        assert DetailsStore(tmp_path).compact_unless_busy(wait=0.2) is False
        assert time.monotonic() - started < 5
    assert DetailsStore(tmp_path).compact_unless_busy(wait=0.2) is True


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
        ids = set(readers.discover_ids(lake, 2021))
    async with client_for(emu, max_attempts=1) as client:  # the emulator is gone: every call fails
        with pytest.raises(stages.IngestError, match="still failed"):
            await stages.run_details(client, lake, 2021, refetch=ids)
    year_build.build_movies_year(lake, 2021)
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
        year_build.build_movies_year(lake, year)
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
            assert year_build.build_movies_undated(lake).num_rows == 0
            assert not lake.movies_year_dir(None).exists()  # no undated movies: no empty partition
            emu.advance(2)
            changed = await changes.changed_ids_since(client, WHEN.date(), catalog.day)
            mine = changes.affected_years(lake, changed.ids).get(2023, [])  # what changes_sensor passes
            await stages.run_details(client, lake, 2023, refetch=set(mine))
    year_build.build_movies_year(lake, 2023)
    undated = year_build.build_movies_undated(lake)
    lost_dates = {i for i, d in catalog.overlay().moved.items() if d is None}
    assert set(undated.column("movie_id").to_pylist()) == lost_dates & set(readers.discover_ids(lake, 2023)) != set()
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
            deleted = sorted(i for i in catalog.overlay().deleted if i in set(readers.discover_ids(lake, 2020)))
            assert len(deleted) >= 2
            # What the catalog sync does with a whole export: every live movie it omits is asked about once.
            store = DetailsStore(lake.details_store_dir)
            verdict, gone = deletions.judge_export(lake, store.latest(), export.day, with_adult=False,
                                                   min_share=0.9)  # a 500-movie lake losing 4 %
            assert verdict.trusted and set(gone.to_pylist()) == set(deleted)
            await stages.run_details(client, lake, 2020, refetch=set(gone.to_pylist()))
    table = year_build.build_movies_year(lake, 2020)
    assert not set(table.column("movie_id").to_pylist()) & set(deleted)
    stones = {r["movie_id"]: r for r in tombstones(lake).to_pylist()}
    assert set(stones) == set(deleted) and {s["reason"] for s in stones.values()} == {NOT_FOUND_REASON}
    # TMDb lists one of them again (a later version answers 200): it is back in its year.
    with store.writer():
        store.append([record(deleted[0], "2020-06-01", when=WHEN + dt.timedelta(days=5))], store.latest_hashes())
    assert deleted[0] in set(year_build.build_movies_year(lake, 2020).column("movie_id").to_pylist())
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

        write_parquet_atomic((store._read_shard(p, None) for p in small), merged, schema=VERSION_SCHEMA)
        write_json_atomic({"merged": merged.name, "into": small[-1].name, "sources": [p.name for p in small]},
                          tmp_path / COMPACT_JOURNAL)
        os.replace(merged, small[-1])
        (tmp_path / "versions-99999998.merged").write_bytes(b"a stray merged file from an older kill")
    with store.writer():
        assert store.shard_paths() == [small[-1]] and not list(tmp_path.glob("*.merged"))
    assert store.latest().num_rows == MERGE_AT_SHARDS
    assert sum(t.num_rows for t in store._tables()) == MERGE_AT_SHARDS  # no version twice


RACE_IDS = range(1, 1201)
RACE_SECONDS = 12


def race_record(movie_id: int, n: int) -> DetailsRecord:
    payload = json.dumps({"id": movie_id, "release_date": "2001-01-01", "title": f"v{n}", "overview": "x" * 2000})
    return DetailsRecord(movie_id, "ok", WHEN + dt.timedelta(minutes=n), payload)


def _compact_repeatedly(directory, stop, rounds):
    """A writer that appends new versions of a third of the movies at a time and merges every third shard."""
    from movie_assets.harvest import store as store_module

    store_module.MERGE_AT_SHARDS = 3
    store = DetailsStore(directory)
    with store.writer():
        n = 0
        while not stop.is_set():
            n += 1
            store.append([race_record(i, n) for i in RACE_IDS if i % 3 == n % 3], store.latest_hashes())
            if n % 3 == 0:
                store.compact()
                rounds.value += 1


def test_reading_while_another_process_compacts_never_errs_nor_reads_short(tmp_path, caplog):
    """A reader takes no lock: shards merged away (deleted) under it mean "read again", never corruption,
    an error or a movie missing (before, a read that two merges overtook lost the payloads of a third)."""
    store = DetailsStore(tmp_path)
    with store.writer():
        for start in range(0, len(RACE_IDS), 100):
            store.append([race_record(i, 0) for i in RACE_IDS[start:start + 100]])
    context = multiprocessing.get_context("spawn")
    stop, rounds = context.Event(), context.Value("i", 0)
    writer = context.Process(target=_compact_repeatedly, args=(str(tmp_path), stop, rounds))
    writer.start()
    reader, reads = DetailsStore(tmp_path), 0
    try:
        deadline = time.monotonic() + 60
        while rounds.value < 2 and time.monotonic() < deadline:  # the writer is up and merging
            time.sleep(0.05)
        end = time.monotonic() + RACE_SECONDS
        with caplog.at_level(logging.DEBUG, logger="movie_assets.harvest.store"):
            while time.monotonic() < end:
                state = reader.state()
                assert set(state.statuses) == set(RACE_IDS) and set(state.hashes) == set(RACE_IDS)
                records = reader.records(reader.latest())
                assert set(records) == set(RACE_IDS)
                assert all(r.details()["id"] == i for i, r in records.items())
                reads += 1
    finally:
        stop.set()
        writer.join(30)
    assert writer.exitcode == 0 and rounds.value >= 10 and reads >= 10
    assert not reader.discarded_shards and not list(tmp_path.glob("*.corrupt"))
    assert "unreadable" not in caplog.text and "vanished" in caplog.text  # the race did happen


def test_an_io_error_fails_loudly_and_never_sets_a_good_shard_aside(tmp_path, monkeypatch):
    """Too many open files (or EIO, or a race's ENOENT inside Arrow) says nothing about the shard's content:
    a `StoreError` naming the shard, the shard stays, and the next try reads it."""
    from movie_assets.harvest import store_shards

    store = DetailsStore(tmp_path)
    with store.writer():
        store.append([record(1, "2001-01-01")])
        store.append([record(2, "2002-01-01")])
    shard = store.shard_paths()[0]
    real, calls = store_shards.pq.read_table, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.EMFILE, "Too many open files")
        return real(*args, **kwargs)

    monkeypatch.setattr(store_shards.pq, "read_table", flaky)
    with store.writer():
        with pytest.raises(StoreError) as info:
            store.state()
        assert str(shard) in str(info.value) and "Too many open files" in str(info.value)
        assert "left in place" in str(info.value) and "run again" in str(info.value)
        assert shard.exists() and not list(tmp_path.glob("*.corrupt")) and not store.discarded_shards
        assert store.state().statuses == {1: "ok", 2: "ok"}  # the retry reads it
    assert store.records(store.latest())[1].details()["release_date"] == "2001-01-01"


@pytest.mark.parametrize("error", [pa.ArrowMemoryError("malloc of size 1048576 failed"), MemoryError(),
                                   pa.ArrowCancelled("interrupted")])
def test_memory_pressure_never_sets_a_good_shard_aside(tmp_path, monkeypatch, error):
    """Arrow running out of memory (an `ArrowMemoryError` is an `ArrowException` too) or being cancelled says
    nothing about the shard's content: the error propagates and the shard stays where it is."""
    from movie_assets.harvest import store_shards

    store = DetailsStore(tmp_path)
    with store.writer():
        store.append([record(1, "2001-01-01")])
    shard = store.shard_paths()[0]

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(store_shards.pq, "read_table", failing)
    with store.writer():
        with pytest.raises(type(error)):
            store.state()
    monkeypatch.undo()
    assert shard.exists() and not list(tmp_path.glob("*.corrupt")) and not store.discarded_shards
    assert store.state().statuses == {1: "ok"}


def test_only_content_arrow_cannot_decode_is_set_aside(tmp_path):
    store = DetailsStore(tmp_path)
    with store.writer():
        store.append([record(1, "2001-01-01")])
        store.append([record(2, "2002-01-01")])
    shard = store.shard_paths()[0]
    shard.write_bytes(shard.read_bytes()[:-40] + b"\0" * 36 + b"PAR1")  # a footer Thrift cannot decode
    assert store.state().statuses == {2: "ok"} and shard.exists()  # a reader leaves it out, in place
    with store.writer():
        assert store.state().statuses == {2: "ok"}
    assert shard.with_suffix(".corrupt").exists() and not shard.exists()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (b'{"merged": "versions-00000002.merged", "into": "versions-00000002.parquet"', "not valid JSON"),
        (b'{"merged": "versions-00000002.merged", "into": "versions-00000002.parquet", "sources": "all"}',
         "'sources' should be a list, not a string"),
        (b'{"merged": "versions-00000002.merged", "into": "versions-00000002.parquet", '
         b'"sources": ["../../../etc/passwd", "versions-00000002.parquet"]}', "not shards of the store"),
    ],
)
def test_a_corrupt_compaction_journal_stops_the_writer_and_deletes_nothing(tmp_path, text, needle):
    from movie_assets.harvest.store import COMPACT_JOURNAL
    from movie_assets.lake.state import StateFileError

    store = DetailsStore(tmp_path)
    with store.writer():
        store.append([record(1, "2001-01-01")])
        store.append([record(2, "2002-01-01")])
    before = sorted(p.name for p in tmp_path.iterdir())
    (tmp_path / COMPACT_JOURNAL).write_bytes(text)
    with pytest.raises(StateFileError) as info, store.writer():
        pass
    assert str(tmp_path / COMPACT_JOURNAL) in str(info.value) and needle in str(info.value)
    assert "delete only the journal" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, COMPACT_JOURNAL])
    assert store.statuses() == {1: "ok", 2: "ok"}


@pytest.mark.parametrize("text", [b"\xff\xfe{", b'{"schema_version": "one"}', b"[1]"])
def test_a_corrupt_store_manifest_is_a_clear_error(tmp_path, text):
    from movie_assets.lake.state import StateFileError

    (tmp_path / "store.json").write_bytes(text)
    with pytest.raises(StateFileError) as info:
        DetailsStore(tmp_path)
    assert str(tmp_path / "store.json") in str(info.value) and '{"schema_version": 2}' in str(info.value)
    assert (tmp_path / "store.json").read_bytes() == text


def _append_years(directory: str, first_id: int, count: int, batches: int) -> None:
    store = DetailsStore(directory)
    for b in range(batches):
        ids = range(first_id + b * count, first_id + (b + 1) * count)
        store.append([DetailsRecord(i, OK, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), json.dumps({"id": i}), None)
                      for i in ids])


def test_processes_append_to_one_store_at_once_each_shard_whole(tmp_path):
    """Years' details runs append shard by shard under the lock: several processes fill one store at once,
    every shard gets its own number and every version is there."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_years, args=(str(tmp_path), 1 + 100_000 * w, 25, 8))
               for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    store = DetailsStore(tmp_path)
    assert len(store.shard_paths()) == 24
    statuses = store.statuses()
    assert len(statuses) == 3 * 8 * 25 and set(statuses.values()) == {OK}


def test_an_append_waits_for_a_writer_holding_the_store_then_goes_on(tmp_path):
    with lock_held_elsewhere(tmp_path) as release:
        store = DetailsStore(tmp_path)
        record = DetailsRecord(7, OK, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), '{"id": 7}', None)
        threading.Timer(0.5, release.set).start()
        started = time.monotonic()
        store.append([record])  # blocks until the holder lets go, then writes
        assert time.monotonic() - started >= 0.4 and store.statuses() == {7: OK}


def test_an_older_observation_appended_last_does_not_supersede_a_newer_one(tmp_path):
    """Appends of several processes need not arrive in the order they were fetched: a details run whose append
    waited behind a short sync writes its older reading after the sync's newer one. The newer one stays latest
    (else the sync's cursor moves on and the stale version, maybe in the wrong year, is kept for good)."""
    fetched = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
    old = json.dumps({"id": 7, "title": "Old", "release_date": "2001-01-01"})
    new = json.dumps({"id": 7, "title": "New", "release_date": "2002-01-01"})
    sync_store, details_store = DetailsStore(tmp_path), DetailsStore(tmp_path)
    with sync_store.writer():
        sync_store.append([DetailsRecord(7, OK, fetched + dt.timedelta(minutes=1), new)], {})
    details_store.append([DetailsRecord(7, OK, fetched, old)], {})
    store = DetailsStore(tmp_path)
    latest = store.latest()
    assert latest.column("release_year").to_pylist() == [2002]
    assert json.loads(store.records(latest)[7].payload)["title"] == "New"
    # at equal times the later append still wins
    details_store.append([DetailsRecord(7, OK, fetched + dt.timedelta(minutes=1), old)], {})
    assert DetailsStore(tmp_path).latest().column("release_year").to_pylist() == [2001]


def test_the_clock_rule_orders_answers_of_one_second_and_out_of_order_chains_by_when_they_arrived(tmp_path):
    """Date has one-second resolution: two answers of one second with different content are ordered by when this
    machine received them (`fetched_at`), whatever order they are appended in; and a version appended out of
    order never becomes what the next one is compared with."""
    second = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
    received = second + dt.timedelta(milliseconds=600)

    def answer(title: str, date: str, when: dt.datetime, fetched: dt.datetime) -> DetailsRecord:
        payload = json.dumps({"id": 7, "title": title, "release_date": date})
        return DetailsRecord(7, OK, when, payload, fetched_at=fetched)

    store, hashes, times = DetailsStore(tmp_path / "tie"), {}, {}  # what enrich passes: the store's state
    store.append([answer("Later", "2002-01-01", second, received)], hashes, times)
    store.append([answer("Earlier", "2001-01-01", second, received - dt.timedelta(milliseconds=500))], hashes, times)
    assert store.latest().column("release_year").to_pylist() == [2002]  # received first: it stays older
    store.append([answer("Refetched", "2003-01-01", second, received + dt.timedelta(milliseconds=100))],
                 hashes, times)
    latest = store.latest()
    assert latest.column("release_year").to_pylist() == [2003]
    assert latest.column("observed_at").to_pylist()[0] > second  # seen by whoever compares times

    chain, hashes, times = DetailsStore(tmp_path / "chain"), {}, {}
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    chain.append([answer("A", "2001-01-01", at + dt.timedelta(seconds=10), at + dt.timedelta(seconds=100))],
                 hashes, times)
    chain.append([answer("B", "2002-01-01", at + dt.timedelta(seconds=5), at + dt.timedelta(seconds=50))],
                 hashes, times)  # an old answer, appended late: it stays older …
    chain.append([answer("C", "2003-01-01", at + dt.timedelta(seconds=8), at + dt.timedelta(seconds=200))],
                 hashes, times)  # … and C, received last but dated before A, is ordered after A, not after B
    assert chain.latest().column("release_year").to_pylist() == [2003]


async def test_a_details_run_waiting_for_the_store_keeps_its_event_loop_running(tmp_path):
    """Appends wait for another process's writer in a thread: the run's other workers (and its heartbeat,
    its shared-rate slots) go on meanwhile instead of freezing for as long as the wait."""
    import asyncio

    from movie_assets.harvest.enrich import enrich

    catalog = Catalog(seed=5, movies_per_year=300)
    ids = [s.id for s in catalog.movies_in_year(2020)][:60]
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    with lock_held_elsewhere(tmp_path) as release, running_emulator(catalog=catalog) as emu:
        settings = TMDbSettings(base_url=emu.base_url, requests_per_second=2000)
        async with TMDbClient(settings) as client:
            tick = asyncio.create_task(ticker())
            threading.Timer(1.5, release.set).start()
            result = await enrich(client, ids, DetailsStore(tmp_path), batch_size=20, concurrency=4)
            tick.cancel()
    assert result.requested == len(ids) and not result.failed
    assert max(gaps) < 0.5, max(gaps)  # the 1.5 s wait for the lock never stalled the loop


def test_a_content_stored_twice_and_merged_into_one_shard_is_read_once(tmp_path):
    """A movie whose content came back (a flag flipped and flipped back) has the same payload stored in two
    shards; once a merge puts both in one shard, a build must still read the movie once."""
    store = DetailsStore(tmp_path)
    first = record(7, "2001-01-01")
    flipped = record(7, "2001-01-01", title="T (a video release)", when=WHEN + dt.timedelta(hours=1))
    back = DetailsRecord(7, "ok", WHEN + dt.timedelta(hours=2), first.payload)
    with store.writer():
        store.append([first])
        store.append([flipped], store.latest_hashes())
        store.append([back], store.latest_hashes())  # content A again: its payload is stored a second time
        for n in range(MERGE_AT_SHARDS):
            store.append([record(1000 + n, "2001-01-01")])
        store.compact()
    assert len(store.shard_paths()) == 1
    tables = store.latest_versions(store.latest(ids=[7]))
    assert sum(t.num_rows for t in tables) == 1
