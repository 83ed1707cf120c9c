"""Point in time: each movie as the lake knew it at a moment, from the versions the details store keeps."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import changes, stages, year_build
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.warehouse import build as warehouse
from movie_assets.warehouse.history import movies_as_of

CLOCK = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
YEAR = 2022


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """One year harvested at CLOCK, then its changed movies refetched ten days later."""
    import asyncio

    lake = Lake.at(tmp_path_factory.mktemp("history") / "data")
    catalog = Catalog(seed=17, movies_per_year=1500, first_year=2000, last_year=2026,
                      churn=ChurnRates(move=0.0, delete=0.0, add=0.0))
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:

        async def run():
            async with TMDbClient(TMDbSettings(base_url=emu.base_url, requests_per_second=2000)) as client:
                await stages.harvest_year(client, lake, YEAR)
                first = warehouse.read_movies(lake)
                emu.advance(10)
                changed = await changes.changed_ids_since(client, CLOCK.date(), catalog.day)
                mine = changes.affected_years(lake, changed.ids).get(YEAR, [])  # what changes_sensor passes
                await stages.run_details(client, lake, YEAR, refetch=set(mine))
                year_build.build_movies_year(lake, YEAR)
                return first, changed.ids

        first, changed = asyncio.run(run())
    return lake, first, [i for i in changed if i in set(first.column("movie_id").to_pylist())]


def test_the_past_is_what_the_lake_held_then_and_the_present_is_the_lake(refreshed):
    lake, first, changed = refreshed
    assert changed, "some movies of the year must have changed for this test to mean anything"
    then = movies_as_of(lake, CLOCK + dt.timedelta(days=1))
    assert then.equals(first)  # before the refetch: exactly the first harvest
    now = movies_as_of(lake, CLOCK + dt.timedelta(days=30))
    assert now.equals(warehouse.read_movies(lake)) and not now.equals(first)
    assert movies_as_of(lake, CLOCK - dt.timedelta(days=1)).num_rows == 0  # nothing was known yet
    with pytest.raises(ValueError, match="timezone-aware"):
        movies_as_of(lake, dt.datetime(2026, 11, 2))


def test_duckdb_macro_gives_each_movies_details_as_known_then(refreshed):
    lake, first, changed = refreshed
    warehouse.build_movies_db(lake)
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as connection:
        query = "SELECT movie_id, details FROM movie_details_as_of(TIMESTAMPTZ '{}') WHERE movie_id = ?"
        before = connection.execute(query.format("2026-11-02 00:00:00+00"), [changed[0]]).fetchone()
        after = connection.execute(query.format("2026-12-01 00:00:00+00"), [changed[0]]).fetchone()
        known_then = connection.execute(
            "SELECT count(*) FROM movie_details_as_of(TIMESTAMPTZ '2026-11-02 00:00:00+00')").fetchone()[0]
        observations = connection.execute("SELECT count(*) FROM movie_versions").fetchone()[0]
    assert known_then == first.num_rows and observations == first.num_rows + len(changed)
    assert json.loads(before[1])["vote_count"] != json.loads(after[1])["vote_count"]
