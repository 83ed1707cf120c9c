"""Unlucky days for the living catalog: partial exports twice, a clock that was ahead, a 404 restored, a flag
that changed after the export was made, two policies, the policy in SQL history."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.emulator import exports as emulator_exports
from movie_assets.harvest.store import NOT_FOUND, OK, DetailsRecord, DetailsStore
from movie_assets.lake import Lake
from movie_assets.warehouse import build as warehouse
from movie_assets.warehouse.completeness import check_complete

from .test_anti_entropy import omitting
from .test_sync import CLOCK, client_for, lake_movies, run_sync, truth

pytestmark = pytest.mark.slow


def small_catalog(churn: ChurnRates | None = None, seed: int = 19) -> Catalog:
    return Catalog(seed=seed, movies_per_year=60, first_year=2010, last_year=2026,
                   churn=churn or ChurnRates(move=0.0, delete=0.0, add=0.0))


async def test_two_partial_exports_omitting_the_same_movies_delete_movies_tmdb_still_has(tmp_path, monkeypatch):
    """Issue 20 bullet 2: a partial export's deletions apply "only from a later whole export". deletions.py
    instead applies, from a partial export, every candidate the previous snapshot did not list either; when
    that previous snapshot was itself partial (a file cut short the same way two days running), movies TMDb
    still has are deleted, and every one of them costs a refetch when a whole export lists them again."""
    catalog, lake = small_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        monkeypatch.setattr(emulator_exports, "export_lines", omitting(share=0.05))
        emu.advance(1)
        first = await run_sync(emu, lake)
        assert not first.deletions.trusted and first.deletions.applied == 0
        emu.advance(1)
        second = await run_sync(emu, lake)
        assert not second.deletions.trusted
        # Nothing was deleted on TMDb (no churn): nothing may leave the lake.
        assert second.deletions.applied == 0, f"{second.deletions.applied} live movies deleted from a partial export"
        assert set(truth(catalog)) <= set(lake_movies(lake))


async def test_a_per_year_run_refetches_a_discovered_movie_whose_stored_version_is_a_404(tmp_path):
    """Issue 20 bullet 8: "a year's own discover list is fully present in its partition". run_details skips
    every id whose latest status is in DONE_STATUSES, NOT_FOUND included: a movie that answered 404 once (a
    transient 404, or a movie TMDb deleted and restored) and that discover lists again is never fetched
    again by the per-year path (the sync would refetch it: the export lists it), and the build omits it."""
    from movie_assets.harvest import stages

    catalog, lake = small_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        async with client_for(emu) as client:
            await stages.harvest_year(client, lake, 2018)
            victim = stages.discover_ids(lake, 2018)[3]
            store = DetailsStore(lake.details_store_dir)
            with store.writer():  # an earlier run saw a 404 for it (TMDb has since restored it)
                store.append([DetailsRecord(victim, NOT_FOUND, CLOCK, None)])
            emu.advance(1)
            await stages.harvest_year(client, lake, 2018)
    assert victim in stages.discover_ids(lake, 2018)
    assert victim in lake_movies(lake), "a movie of the year's own discover list is missing from its partition"


async def test_an_observation_stamped_by_a_clock_that_was_ahead_hides_every_later_change(tmp_path):
    """Issue 20 bullet 4: a server clock stepping back. One answer's Date was ahead (say a day); after the
    clock is corrected, each refetch is observed earlier than that stored version, loses to it
    (store.latest: max observed_at), and the lake keeps the old release date although TMDb moved the movie:
    neither the anti-entropy (it compares with the store) nor the completeness check notices."""
    churn = ChurnRates(move=0.05, delete=0.0, add=0.0, move_to_undated=0.0, move_any_year=1.0)
    catalog, lake = small_catalog(churn, seed=31), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        emu.advance(1)
        moved = sorted(i for i in catalog.overlay().moved if i in truth(catalog))
        assert moved
        victim = moved[0]
        store = DetailsStore(lake.details_store_dir)
        (record,) = store.records(store.latest(ids=[victim])).values()
        with store.writer():  # the same payload, observed by a server whose clock was 2 days ahead
            store.append([DetailsRecord(victim, OK, record.harvested_at + dt.timedelta(days=2), record.payload)])
        await run_sync(emu, lake)
        movies = lake_movies(lake)
        assert movies.get(victim) == truth(catalog)[victim], "the lake kept the release date TMDb changed"


async def test_the_sql_history_macro_applies_the_catalog_policy_like_movies_as_of(tmp_path):
    """Issue 20 bullets 3/5 and DESIGN §5 ("policy exclusions ... history (movies_as_of, the DuckDB views)
    never returns a movie ..."): movie_details_as_of(now) returns movies the policy keeps out of movies (a
    movie that became a video release), so the macro and movies_as_of(now) disagree."""
    from movie_assets.warehouse.history import movies_as_of

    catalog, lake = small_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
    store = DetailsStore(lake.details_store_dir)
    victim = sorted(truth(catalog))[5]
    (record,) = store.records(store.latest(ids=[victim])).values()
    flipped = record.payload.replace('"video":false', '"video":true')
    assert flipped != record.payload
    with store.writer():  # it became a video release
        store.append([DetailsRecord(victim, OK, CLOCK + dt.timedelta(hours=1), flipped)])
    later = CLOCK + dt.timedelta(days=1)
    assert victim not in movies_as_of(lake, later).column("movie_id").to_pylist()
    warehouse.build_movies_db(lake)
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as db:
        ids = {i for (i,) in db.execute("SELECT movie_id FROM movie_details_as_of(?)", [later]).fetchall()}
    assert victim not in ids, "movie_details_as_of returns a movie the catalog policy excludes"


async def test_completeness_fails_on_a_policy_violating_row_but_not_on_an_export_flag_that_lags_details(tmp_path,
                                                                                                      monkeypatch):
    """The export is made at 00:00; a flag that flips during the day makes the export and the details disagree
    until the next export. The completeness check then reports the movie as missing (export says allowed,
    details say excluded) although the lake is right: the check should judge membership by the store's
    current flags, as the sync does."""
    catalog, lake = small_catalog(), Lake.at(tmp_path / "data")
    victim = None
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        victim = sorted(truth(catalog))[9]
        real_details = Catalog.details

        def details(self, movie_id, as_of=None):
            found = real_details(self, movie_id, as_of)
            if found is not None and movie_id == victim:
                found = {**found, "video": True}
            return found

        monkeypatch.setattr(Catalog, "details", details)
        real_changed = Catalog.changed_ids
        monkeypatch.setattr(Catalog, "changed_ids", lambda self, s, e: sorted({*real_changed(self, s, e), victim}))
        emu.advance(1)
        await run_sync(emu, lake)
    assert victim not in lake_movies(lake)  # the policy holds on rows
    warehouse.build_movies_db(lake)
    outcome = check_complete(lake)
    assert outcome.passed, outcome


async def test_one_year_run_under_another_policy_rewrites_every_year_of_a_video_including_lake(tmp_path):
    """The lake does not record its adult/video policy (it records its source). A lake synced with
    include_video=True, then one per-year run (stages.harvest_year, or ingest_job under a different
    MOVIE_ASSETS_INCLUDE_VIDEO) rebuilds every partition holding a video row (build_year_and_moves treats every
    row of the lake as involved) and drops the video releases of years it was never asked about; the next
    sync adds them back: the two writers flip the lake between policies instead of one refusing the other."""
    from movie_assets.harvest import stages
    from movie_assets.harvest import sync as catalog_sync

    catalog, lake = small_catalog(), Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        async with client_for(emu) as client:
            await catalog_sync.sync(client, lake, include_video=True, batch_size=200, concurrency=40)
            videos = set(lake_movies(lake)) - set(truth(catalog))
            assert videos
            before = {y for i, y in lake_movies(lake).items() if i in videos}
            await stages.harvest_year(client, lake, 2018)
    after = set(lake_movies(lake))
    assert videos <= after, (f"a run of 2018 dropped {len(videos - after)} video releases of years "
                             f"{sorted(before - {2018}, key=str)[:8]}")

