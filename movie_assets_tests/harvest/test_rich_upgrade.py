"""An existing lake gains the new columns: derived from its stored payloads without a request, and the appends
its payloads predate fetched on demand (`refetch_missing`), counted, never a silent null."""

from __future__ import annotations

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.harvest import sync as catalog_sync
from movie_assets.harvest import year_build
from movie_assets.harvest.refetch import movies_missing, parse_appends, refetch_missing
from movie_assets.harvest.store import DetailsStore
from movie_assets.lake import Lake
from movie_assets.lake.languages import record_languages
from movie_assets.lake.schema import BUILD_KEY
from movie_assets.warehouse import build as warehouse
from movie_assets.warehouse.build import dataset_schema

from .test_sync import CLOCK, client_for

OLD_APPENDS = ("credits", "keywords")  # what the details call asked for before


def small_catalog() -> Catalog:
    return Catalog(seed=23, movies_per_year=40, first_year=2019, last_year=2022)


async def old_lake(emu, lake: Lake, monkeypatch) -> None:
    """A lake as an older release left it: payloads with credits and keywords only, year files built by
    other rules."""
    with monkeypatch.context() as patch:
        patch.setattr(catalog_sync, "details_appends", lambda lake: OLD_APPENDS)
        patch.setattr(year_build, "TYPED_FINGERPRINT", "an older release")
        async with client_for(emu) as client:
            await catalog_sync.sync(client, lake, batch_size=100, concurrency=20)


def fingerprints(lake: Lake) -> set[str]:
    return {pq.read_schema(path).metadata[BUILD_KEY.encode()].decode() for _, path in lake.movies_year_files()}


@pytest.mark.slow
async def test_an_older_lake_gets_the_new_columns_without_a_request_then_its_missing_appends_on_demand(
        tmp_path, monkeypatch):
    lake = Lake.at(tmp_path / "data")
    with running_emulator(catalog=small_catalog(), options=EmulatorOptions(as_of=CLOCK)) as emu:
        await old_lake(emu, lake, monkeypatch)
        years = len(lake.movies_year_files())
        assert fingerprints(lake) == {"an older release;"}

        requests = emu.stats()["requests_total"]
        difference, view = year_build.reconcile_years(lake)
        assert emu.stats()["requests_total"] == requests  # derived from the stored payloads alone
        assert len(difference.years) == years and difference.stale == view.members.num_rows
        assert fingerprints(lake) == {view.build_fingerprint}
        movies = warehouse.read_movies(lake)
        assert pc.all(pc.is_valid(movies.column("production_countries"))).as_py()  # in the base payload
        assert movies.column("release_events").null_count == movies.num_rows  # never asked for: unknown …
        assert set(pc.list_flatten(movies.column("missing_appends")).to_pylist()) == {
            "release_dates", "external_ids", "videos", "alternative_titles"}  # … and said so
        assert year_build.reconcile_years(lake)[0].years == []  # idempotent

        store = DetailsStore(lake.details_store_dir)
        lacking = movies_missing(store, parse_appends("release_dates,videos"))
        assert len(lacking) == movies.num_rows
        async with client_for(emu) as client:
            report = await refetch_missing(client, lake, parse_appends("release_dates,videos"))
        assert report.requested == report.lacking == len(lacking) and not report.failed
        assert len(movies_missing(store, parse_appends("release_dates,external_ids,videos"))) == 0
        movies = warehouse.read_movies(lake)
        assert movies.column("release_events").null_count == 0
        assert pc.all(pc.equal(pc.list_value_length(movies.column("missing_appends")), 0)).as_py()
        dated = movies.filter(pc.is_valid(movies.column("release_date")))
        assert pc.sum(pc.is_valid(dated.column("first_theatrical_date"))).as_py() > 0

        async with client_for(emu) as client:
            again = await refetch_missing(client, lake, parse_appends("release_dates"))
        assert again.requested == 0 and again.years_rebuilt == []


@pytest.mark.slow
async def test_more_languages_rebuild_every_year_with_their_columns_and_fetch_translations(tmp_path):
    lake = Lake.at(tmp_path / "data")
    with running_emulator(catalog=small_catalog(), options=EmulatorOptions(as_of=CLOCK)) as emu:
        async with client_for(emu) as client:
            await catalog_sync.sync(client, lake, batch_size=100, concurrency=20)
        assert record_languages(lake, ("en", "de"))
        # The undated partition's own build takes every year built otherwise with it: one way per generation.
        year_build.build_movies_undated(lake)
        assert fingerprints(lake) == {year_build.build_fingerprint(("de",))}
        assert year_build.reconcile_years(lake)[0].years == []
        warehouse.build_movies_db(lake)
        movies = warehouse.read_movies(lake)
        assert dataset_schema(lake).names[-4:] == ["title_de", "overview_de", "title_de_fallback",
                                                   "overview_de_fallback"]
        assert pc.all(movies.column("title_de_fallback")).as_py()  # no translation stored yet: English, flagged
        assert pc.all(pc.equal(movies.column("title_de"), movies.column("title"))).as_py()
        async with client_for(emu) as client:
            report = await refetch_missing(client, lake, parse_appends("translations"))
        assert report.requested == movies.num_rows
        movies = warehouse.read_movies(lake)
        assert not pc.all(movies.column("overview_de_fallback")).as_py()
        assert pc.all(pc.equal(pc.list_value_length(movies.column("missing_appends")), 0)).as_py()
