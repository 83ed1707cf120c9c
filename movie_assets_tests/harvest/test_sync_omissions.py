"""An export that leaves out a movie by mistake deletes nothing: the sync asks each candidate's details, and
only a movie that no longer answers is deleted (found by the churn drill: a whole export omitting 0.2 % of
the movies deleted them until the next day's export listed them again)."""

from __future__ import annotations

import datetime as dt

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import sync as catalog_sync
from movie_assets.harvest.store import NOT_FOUND, DetailsStore
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.warehouse import build as warehouse

CLOCK = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


async def run_sync(emu, lake: Lake) -> catalog_sync.SyncReport:
    settings = TMDbSettings(base_url=emu.base_url, exports_base_url=emu.root_url + "/p/exports",
                            requests_per_second=3000, max_connections=50, backoff_base=0.01, backoff_max=0.05,
                            max_attempts=4)
    async with TMDbClient(settings) as client:
        return await catalog_sync.sync(client, lake, batch_size=200, concurrency=40)


async def test_a_movie_the_export_omits_by_mistake_is_not_deleted(tmp_path):
    catalog = Catalog(seed=31, movies_per_year=60, first_year=2000, last_year=2026,
                      churn=ChurnRates(move=0.0, delete=0.002, add=0.0, export_omit=0.005))
    lake = Lake.at(tmp_path / "data")
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        await run_sync(emu, lake)
        emu.advance(2)
        omitted = catalog.export_omitted(catalog.day) & set(catalog.live_movies())
        deleted = set(catalog.overlay().deleted)
        report = await run_sync(emu, lake)
        assert omitted and deleted, "the catalog should omit and delete movies these days"
        movies = set(warehouse.read_movies(lake).column("movie_id").to_pylist())
        assert movies == set(catalog.live_movies())
        assert report.deletions.trusted and report.vanished == len(deleted & set(catalog.live_movies(day=CLOCK.date())))
    latest = DetailsStore(lake.details_store_dir).latest()
    gone = {r["movie_id"] for r in latest.select(["movie_id", "status"]).to_pylist() if r["status"] == NOT_FOUND}
    assert not gone & omitted, "an omitted movie was recorded as gone"
