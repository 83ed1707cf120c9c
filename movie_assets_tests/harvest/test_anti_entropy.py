"""Every sync ends with a set reconciliation: the lake equals TMDb's truth whatever happened on the way (a
partial export, a dropped movie, a lost snapshot, versions appended out of order, a lake broken by hand)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow.compute as pc
import pytest

from movie_assets.emulator import EmulatorOptions, running_emulator
from movie_assets.emulator import exports as emulator_exports
from movie_assets.harvest.store import OK, DetailsRecord, DetailsStore
from movie_assets.lake import Lake
from movie_assets.warehouse import build as warehouse
from movie_assets.warehouse.history import movies_as_of

from .test_sync import CLOCK, lake_movies, living_catalog, run_sync, truth

pytestmark = pytest.mark.slow


def omitting(share: float | None = None, ids: set[int] | None = None):
    """An `export_lines` that leaves out ``ids``, or every movie whose id hashes under ``share``: a file
    cut short upstream, or a day that drops movies by mistake (they still exist)."""
    real = emulator_exports.export_lines

    def lines(catalog, day, adult):
        for chunk in real(catalog, day, adult):
            kept = [line for line in chunk.decode().splitlines()
                    if not _left_out(int(line.split('"id":')[1].split(",")[0]), share, ids)]
            if kept:
                yield ("\n".join(kept) + "\n").encode()

    return lines


def _left_out(movie_id: int, share: float | None, ids: set[int] | None) -> bool:
    if ids is not None:
        return movie_id in ids
    return (movie_id * 2654435761) % 1000 < share * 1000


def assert_equal_to_tmdb(lake: Lake, catalog, now: dt.datetime) -> None:
    movies = lake_movies(lake)
    expected = truth(catalog)
    assert set(expected) - set(movies) == set(), "missing movies"
    assert set(movies) - set(expected) == set(), "extra movies"
    assert {i for i in movies if movies[i] != expected[i]} == set(), "misplaced movies"
    assert movies_as_of(lake, now).equals(warehouse.read_movies(lake)), "movies_as_of(now) differs from movies"


async def test_a_partial_export_deletes_nothing_and_the_next_whole_one_deletes_the_rest(tmp_path, monkeypatch):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        emu.advance(1)
        monkeypatch.setattr(emulator_exports, "export_lines", omitting(share=0.05))
        partial = await run_sync(emu, lake)
        assert not partial.deletions.trusted and partial.deletions.kept > 100
        # Nothing TMDb still has left the lake; what TMDb really deleted that day waits for a whole export.
        assert set(truth(catalog)) <= set(lake_movies(lake))
        monkeypatch.undo()
        emu.advance(1)
        whole = await run_sync(emu, lake)
        assert whole.deletions.trusted
        assert_equal_to_tmdb(lake, catalog, emu.options.as_of)


async def test_a_movie_one_export_drops_by_mistake_is_asked_about_and_kept(tmp_path, monkeypatch):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        dropped = sorted(truth(catalog))[100]
        emu.advance(1)
        monkeypatch.setattr(emulator_exports, "export_lines", omitting(ids={dropped}))
        before = emu.stats()["requests_total"]
        report = await run_sync(emu, lake)
        assert report.deletions.trusted and report.deletions.candidates >= 1
        assert dropped in lake_movies(lake)  # its details still answer: it exists
        latest = DetailsStore(lake.details_store_dir).latest(ids=[dropped])
        assert latest.column("status").to_pylist() == [OK] and latest.column("observed_at")[0].as_py() > CLOCK
        assert emu.stats()["requests_total"] - before < 60  # a day of changes, and one question about it
        assert_equal_to_tmdb(lake, catalog, emu.options.as_of)


async def test_deletions_are_not_lost_when_the_previous_snapshot_is_gone_or_corrupt(tmp_path):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        first_day = lake.export_days()[-1]
        emu.advance(3)
        lake.export_snapshot_file(first_day).write_bytes(b"PAR1 not really")  # corrupt by hand
        report = await run_sync(emu, lake)
        assert report.vanished > 0 and lake.export_snapshot_file(first_day).with_suffix(".corrupt").exists()
        assert_equal_to_tmdb(lake, catalog, emu.options.as_of)
        emu.advance(3)
        for day in lake.export_days():  # every snapshot deleted by hand
            lake.export_snapshot_file(day).unlink()
        report = await run_sync(emu, lake)
        assert report.vanished > 0
        assert_equal_to_tmdb(lake, catalog, emu.options.as_of)
        tombstoned = set(warehouse.read_movies(lake).column("movie_id").to_pylist())
        from movie_assets.harvest.tombstones import tombstones
        assert not tombstoned & set(tombstones(lake).column("movie_id").to_pylist()), "a row and a tombstone"


async def test_a_lake_broken_by_hand_is_repaired_by_the_next_sync(tmp_path):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        year, path = lake.movies_year_files()[5]
        path.unlink()  # a whole year lost (e.g. restored from an old backup without it)
        report = await run_sync(emu, lake)
        assert year in report.years_rebuilt and report.repaired.missing > 0
        assert_equal_to_tmdb(lake, catalog, emu.options.as_of)
        quiet = await run_sync(emu, lake)
        assert quiet.years_rebuilt == [] and quiet.requests < 30  # nothing differs: nothing rebuilt


async def test_history_and_the_sql_macro_follow_one_order_of_versions(tmp_path):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
    store = DetailsStore(lake.details_store_dir)
    movie_id = sorted(truth(catalog))[7]
    (record,) = store.records(store.latest(ids=[movie_id])).values()
    newer = record.payload.replace(record.details()["release_date"], "2001-02-03")
    older = record.payload.replace(record.details()["release_date"], "1999-09-09")
    with store.writer():  # the newer observation is appended first, the older one after it
        store.append([DetailsRecord(movie_id, OK, CLOCK + dt.timedelta(hours=2), newer)])
        store.append([DetailsRecord(movie_id, OK, CLOCK + dt.timedelta(hours=1), older)])
    later = CLOCK + dt.timedelta(days=1)
    as_of = movies_as_of(lake, later)
    row = as_of.filter(pc.equal(as_of.column("movie_id"), movie_id))
    assert str(row.column("release_date")[0]) == "2001-02-03"
    warehouse.build_movies_db(lake)
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as db:
        (details,) = db.execute("SELECT details FROM movie_details_as_of(?) WHERE movie_id = ?",
                                [later, movie_id]).fetchone()
        order = db.execute("SELECT observed_at FROM movie_versions WHERE movie_id = ?", [movie_id]).fetchall()
    assert '"release_date":"2001-02-03"' in details
    assert [t for (t,) in order] == sorted(t for (t,) in order)


async def test_an_answer_without_a_date_header_is_observed_on_the_local_clock_and_marked(tmp_path):
    from movie_assets.harvest.enrich import fetch_one
    from movie_assets.tmdb.responses import TMDbResponse

    class NoDate:
        async def movie_details(self, movie_id, append=()):
            return TMDbResponse(data={"id": movie_id, "release_date": "2020-01-01"}, server_time=None)

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    record = await fetch_one(NoDate(), 5)
    assert record.clock == "local" and before <= record.harvested_at <= dt.datetime.now(dt.UTC)
    store = DetailsStore(tmp_path / "store")
    with store.writer():
        store.append([record])
    assert store.latest().column("clock").to_pylist() == ["local"]


async def test_the_per_year_path_converges_to_what_the_sync_gives(tmp_path):
    from movie_assets.emulator import Catalog, ChurnRates
    from movie_assets.harvest import changes, stages

    from .test_sync import client_for

    catalog = Catalog(seed=23, movies_per_year=150, first_year=2015, last_year=2020,
                      churn=ChurnRates(move=0.01, delete=0.0, add=0.0, move_to_undated=0.0, move_any_year=1.0))
    lake = Lake.at(tmp_path / "data")
    years = range(2015, 2021)
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        async with client_for(emu) as client:
            for year in years:
                await stages.harvest_year(client, lake, year)
            assert lake_movies(lake) == truth(catalog)
            emu.advance(3)
            changed = await changes.changed_ids_since(client, CLOCK.date(), catalog.day)
            affected = changes.affected_years(lake, changed.ids)  # what changes_sensor launches
            assert len(affected) > 1
            for year, ids in sorted(affected.items()):
                await stages.harvest_year(client, lake, year, refetch=set(ids))
            assert lake_movies(lake) == truth(catalog), "a moved movie is missing, extra or in its old year"
            for year in years:  # each year's own discover list is in the lake
                listed = set(stages.discover_ids(lake, year))
                assert listed <= set(lake_movies(lake))


async def test_discovered_movies_that_answer_404_send_the_year_back_to_discover(tmp_path):
    from movie_assets.emulator import Catalog, ChurnRates
    from movie_assets.harvest import stages

    from .test_sync import client_for

    catalog = Catalog(seed=29, movies_per_year=400, first_year=2015, last_year=2020,
                      churn=ChurnRates(move=0.0, delete=0.02, add=0.0))
    lake = Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        async with client_for(emu) as client:
            await stages.run_discover(client, lake, 2018)
            emu.advance(1)  # movies deleted after discover counted them
            deleted = set(catalog.overlay().deleted) & set(stages.discover_ids(lake, 2018))
            assert deleted
            summary = await stages.run_details(client, lake, 2018)
    assert set(summary.vanished) == deleted
    assert not set(stages.discover_ids(lake, 2018)) & deleted  # the year's discover was read again
    assert set(stages.discover_ids(lake, 2018)) == {i for i, y in truth(catalog).items() if y == 2018}


async def test_years_built_in_batches_are_the_bytes_a_year_alone_gives(tmp_path, monkeypatch):
    from movie_assets.harvest import year_build

    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    monkeypatch.setattr(year_build, "BATCH_MOVIES", 500)  # several batches of several years
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
    batched = {year: path.name for year, path in lake.movies_year_files()}
    view = year_build.StoreView.load(lake)
    for year in batched:
        if year is None:
            year_build.build_movies_undated(lake, view=view)
        else:
            year_build.build_movies_year(lake, year, require_discover=False, view=view)
    assert {year: path.name for year, path in lake.movies_year_files()} == batched  # content-named files


def test_a_movie_twice_in_one_partition_is_seen_by_the_reconciliation():
    import pyarrow as pa

    from movie_assets.harvest.reconcile import differing_years

    when = pa.scalar(CLOCK, pa.timestamp("us", tz="UTC"))
    rows = pa.table({"movie_id": pa.array([1, 2, 2, 3], pa.int64()), "year": pa.array([2001, 2002, 2002, 2003],
                                                                                       pa.int32()),
                     "observed_at": pa.array([when.as_py()] * 4, pa.timestamp("us", tz="UTC"))})
    expected = pa.concat_tables([rows.slice(0, 2), rows.slice(3)])
    difference = differing_years(rows, expected)
    assert difference.years == [2002] and difference.extra == 1
