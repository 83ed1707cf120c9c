"""The catalog sync against the living emulator: the lake equals TMDb's truth, day after day of churn."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pytest

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import cursor
from movie_assets.harvest import sync as catalog_sync
from movie_assets.harvest.store import DetailsStore, StoreBusy
from movie_assets.lake import Lake, remove_dir_atomic
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.warehouse import build as warehouse

CLOCK = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
CHURN = ChurnRates(move=0.003, delete=0.001, add=0.003)


def living_catalog() -> Catalog:
    return Catalog(seed=19, movies_per_year=150, first_year=1990, last_year=2026, churn=CHURN)


def client_for(emu, **overrides) -> TMDbClient:
    values = dict(base_url=emu.base_url, exports_base_url=emu.root_url + "/p/exports", requests_per_second=3000,
                  max_connections=50, backoff_base=0.01, backoff_max=0.05, max_attempts=4)
    values.update(overrides)
    return TMDbClient(TMDbSettings(**values))


def truth(catalog: Catalog) -> dict[int, int | None]:
    """Every live movie of the catalog today under the default policy (no adult, no video): its year."""
    return catalog.live_movies()


def lake_movies(lake: Lake) -> dict[int, int | None]:
    table = warehouse.read_movies(lake)
    ids = table.column("movie_id").to_pylist()
    assert len(ids) == len(set(ids)), "a movie is in two partitions"
    return dict(zip(ids, table.column("year").to_pylist(), strict=True))


def assert_fresh(lake: Lake, catalog: Catalog) -> None:
    """No stale row: every movie's votes and release date are today's."""
    table = warehouse.read_movies(lake)
    for row in table.select(["movie_id", "vote_count", "release_date"]).to_pylist():
        details = catalog.details(row["movie_id"], catalog.day)
        assert row["vote_count"] == details["vote_count"], row["movie_id"]
        assert (row["release_date"].isoformat() if row["release_date"] else "") == details["release_date"]


async def run_sync(emu, lake: Lake, **overrides) -> catalog_sync.SyncReport:
    async with client_for(emu, **overrides) as client:
        return await catalog_sync.sync(client, lake, batch_size=200, concurrency=40)


@pytest.mark.slow
async def test_full_then_incremental_syncs_keep_the_lake_exactly_equal_to_tmdb(tmp_path):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        full = await run_sync(emu, lake)
        assert full.full and lake_movies(lake) == truth(catalog)
        assert full.requests <= 1.01 * full.listed + 10  # one request per movie, plus a handful

        for days in (1, 6):  # one day of churn, then almost a week
            emu.advance(days)
            overlay_day = catalog.overlay()
            report = await run_sync(emu, lake)
            expected = truth(catalog)
            movies = lake_movies(lake)
            assert not set(expected) - set(movies), "missing movies"
            assert not set(movies) - set(expected), "deleted or extra movies"
            assert {i for i in movies if movies[i] != expected[i]} == set(), "misplaced movies"
            assert None in movies.values()  # undated titles arrived
            assert_fresh(lake, catalog)
            assert report.requests <= 1.2 * (report.changed + report.new) + 20 * days
            assert overlay_day.deleted and report.vanished

        quiet = await run_sync(emu, lake)  # nothing happened since: a few requests, nothing lost
        assert quiet.new == 0 and lake_movies(lake) == truth(catalog)


async def test_a_failed_sync_keeps_its_cursor_and_the_next_one_catches_up(tmp_path):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        emu.advance(3)
        cursor = lake.sync_cursor_file.read_bytes()
    # The API is gone: the sync fails before anything moves.
    with pytest.raises(Exception):  # noqa: B017 - connection errors surface as the client's typed error
        await run_sync(emu, lake, max_attempts=1)
    assert lake.sync_cursor_file.read_bytes() == cursor
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=emu.options.as_of)) as emu2:
        await run_sync(emu2, lake)
        assert lake_movies(lake) == truth(catalog)


async def test_two_syncs_cannot_run_at_once(tmp_path):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        with DetailsStore(lake.details_store_dir).writer():  # another sync (or details run) is writing
            with pytest.raises(StoreBusy, match="being written by"):
                await run_sync(emu, lake)
        assert not lake.sync_cursor_file.exists()


async def test_a_cursor_in_the_future_is_refused_naming_the_file(tmp_path):
    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    lake.sync_cursor_file.parent.mkdir(parents=True)
    lake.sync_cursor_file.write_text('{"changes_through": "2030-01-01", "export_day": "2029-12-31"}')
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        with pytest.raises(cursor.SyncError, match="sync.json.*after today"):
            await run_sync(emu, lake)


async def test_completeness_is_a_set_comparison_with_the_export(tmp_path):

    from movie_assets.warehouse.completeness import check_complete

    catalog = Catalog(seed=20, movies_per_year=60, first_year=2015, last_year=2026, churn=CHURN)
    lake = Lake.at(tmp_path / "data")
    assert check_complete(lake).passed  # nothing synced: nothing to compare yet
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
    warehouse.build_movies_db(lake)
    outcome = check_complete(lake)
    assert outcome.passed and outcome.metadata["missing"] == outcome.metadata["misplaced"] == 0, outcome
    lost = warehouse.read_movies(lake).filter(pc.equal(pc.field("year"), 2020)).num_rows
    remove_dir_atomic(lake.movies_year_dir(2020))  # a whole year goes missing
    warehouse.build_movies_db(lake)
    outcome = check_complete(lake)
    assert not outcome.passed and outcome.metadata["missing"] == lost > 0


async def test_a_sync_that_fails_midway_is_finished_by_the_next_without_a_movie_in_two_places(tmp_path, monkeypatch):
    from movie_assets.tmdb.errors import TMDbUnavailable

    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        emu.advance(4)
        # Every third details call fails: what succeeded is stored (dates moved), no partition is rebuilt.
        real = TMDbClient.movie_details

        async def flaky(self, movie_id, *args, **kwargs):
            if movie_id % 3 == 0:
                raise TMDbUnavailable(f"GET /movie/{movie_id} failed after 1 attempts; last: HTTP 503")
            return await real(self, movie_id, *args, **kwargs)

        monkeypatch.setattr(TMDbClient, "movie_details", flaky)
        with pytest.raises(cursor.SyncError, match="cursor did not move"):
            await run_sync(emu, lake)
        monkeypatch.setattr(TMDbClient, "movie_details", real)
        await run_sync(emu, lake)
    assert lake_movies(lake) == truth(catalog)


async def test_a_listed_movie_stored_as_404_is_fetched_again(tmp_path):
    from movie_assets.harvest.store import DetailsRecord

    catalog, lake = living_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        movie_id = next(iter(truth(catalog)))
        store = DetailsStore(lake.details_store_dir)
        with store.writer():  # a transient 404 was stored for a movie TMDb still lists
            store.append([DetailsRecord(movie_id, "not_found", CLOCK, None)])
        await run_sync(emu, lake)  # the same day: a 404 seen after the export was made decides for that day
        assert movie_id not in lake_movies(lake)
        emu.advance(1)
        await run_sync(emu, lake)  # the next export still lists it: asked again, and back
    assert movie_id in lake_movies(lake) and lake_movies(lake) == truth(catalog)
