"""A small lake whose movies changed over simulated days, for the recsys tests: two years harvested from the
emulator at CLOCK, the changed movies refetched ten days later, every year embedded with a fake encoder."""

from __future__ import annotations

import asyncio
import datetime as dt

import numpy as np
import pyarrow as pa

from movie_assets.embeddings import partitions
from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import changes, stages, year_build
from movie_assets.lake import Lake
from movie_assets.recsys.events import EVENTS_SCHEMA, SYNTHETIC, SourceEvents
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.embeddings.conftest import FakeEncoder

CLOCK = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
REFETCHED = CLOCK + dt.timedelta(days=10)
YEARS = (2021, 2022)
MODEL_ID = "fake-text-model"


def changed_lake(root) -> tuple[Lake, pa.Table, list[int]]:
    """(the lake, its movies as first harvested, the ids refetched with changes)."""
    lake = Lake.at(root / "data")
    catalog = Catalog(seed=23, movies_per_year=250, first_year=2015, last_year=2026,
                      churn=ChurnRates(move=0.0, delete=0.0, add=0.0))
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:

        async def run():
            async with TMDbClient(TMDbSettings(base_url=emu.base_url, requests_per_second=2000)) as client:
                for year in YEARS:
                    await stages.harvest_year(client, lake, year)
                first = warehouse.read_movies(lake)
                emu.advance(10)
                changed = await changes.changed_ids_since(client, CLOCK.date(), catalog.day)
                for year, ids in sorted(changes.affected_years(lake, changed.ids).items()):
                    await stages.run_details(client, lake, year, refetch=set(ids))
                    year_build.build_movies_year(lake, year)
                return first, changed.ids

        first, changed = asyncio.run(run())
    encoder = FakeEncoder()
    for year, _ in lake.movies_year_files():
        partitions.embed_year(lake, year, encoder, MODEL_ID, dimension=384)
    known = set(first.column("movie_id").to_pylist())
    return lake, first, sorted(i for i in changed if i in known)


def events_over(lake_movies: pa.Table, users: int, per_user: int, start: dt.datetime, end: dt.datetime,
                seed: int = 5) -> SourceEvents:
    """Random explicit events of ``users`` users over the lake's movies between ``start`` and ``end``."""
    rng = np.random.default_rng(seed)
    ids = lake_movies.column("movie_id").to_numpy()
    n = users * per_user
    seconds = rng.integers(int(start.timestamp()), int(end.timestamp()), n)
    table = pa.table({
        "user_id": pa.array([str(u) for u in np.repeat(np.arange(1, users + 1), per_user)]),
        "movie_id": pa.array(rng.choice(ids, n), pa.int64()),
        "source_item_id": pa.array([None] * n, pa.string()),
        "timestamp": pa.array(seconds, pa.int64()).cast(pa.timestamp("s", tz="UTC")),
        "rating": pa.array(rng.integers(1, 11, n) / 2, pa.float32()),
        "event": pa.array(["rating"] * n),
        "weight": pa.array(np.ones(n), pa.float32()),
    }, schema=EVENTS_SCHEMA)
    table = table.set_column(2, "source_item_id", pa.compute.cast(table.column("movie_id"), pa.string()))
    return SourceEvents(kind=SYNTHETIC, events=table)
