"""The ingest stages as plain Python against the emulator: completeness, resume, determinism."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import aiohttp
import pyarrow.parquet as pq
import pytest
from aiohttp import web

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import stages, year_build
from movie_assets.harvest.discover import DiscoverHarvester
from movie_assets.harvest.discover_windows import RESULT_CAP, VOTE_SORT, Ordering, Window
from movie_assets.harvest.enrich import enrich
from movie_assets.harvest.store import DetailsStore
from movie_assets.lake import Lake, readers
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.tmdb.errors import TMDbAuthError, TMDbPageLimitError
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.helpers import serve_handler

YEAR = 2023


def client_for(emu, **overrides) -> TMDbClient:
    values = dict(base_url=emu.base_url, requests_per_second=2000, backoff_base=0.01, backoff_max=0.05,
                  read_timeout=2.0, max_attempts=8)
    values.update(overrides)
    return TMDbClient(TMDbSettings(**values))


def movie_requests(emu) -> int:
    return emu.stats()["by_path"].get("movie", 0)


def test_window_splits_votes_from_no_votes_then_bisects_dates_then_vote_counts():
    year = Window.for_year(2024)
    none, some = year.split()
    assert (none.votes, some.votes) == ((0, 0), (1, 10**9)) and none.gte == year.gte and none.lte == year.lte
    left, right = some.split()
    assert (left.gte, left.lte, right.gte, right.lte) == (
        dt.date(2024, 1, 1), dt.date(2024, 7, 1), dt.date(2024, 7, 2), dt.date(2024, 12, 31))
    assert left.votes == right.votes == (1, 10**9)
    day = Window(dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    low, high = day.split()
    assert low.votes == (0, 0) and high.votes[0] == 1
    below, above = high.split()  # vote counts are skewed: bisected on a log scale
    assert below.votes[0] == 1 and above.votes[0] == below.votes[1] + 1 and below.votes[1] < 100_000
    assert Window.from_key(below.key) == below
    assert Window(day.gte, day.lte, (5, 5)).split() is None
    assert Ordering().sort_by(day) == "original_title.asc" and Ordering().sort_by(year) == "primary_release_date.asc"
    assert Ordering(VOTE_SORT).sort_by(day) == "vote_count.asc" and not Ordering().narrowable(day)


def dense_day_catalog() -> tuple[Catalog, dt.date, dt.date]:
    """A quarter under the cap whose January 1 holds ~1,500 films: one date-sorted tie group of 75 pages."""
    return Catalog(seed=8, movies_per_year=7_000, day_cluster=0.2), dt.date(YEAR, 1, 1), dt.date(YEAR, 3, 31)


async def test_a_dense_day_inside_a_window_is_read_on_its_own_by_title():
    """Inside a date-sorted window a dense day is one tie group of hundreds of movies whose order drifts;
    sampled pages find it, its inner pages are never read, and it is paged alone by title instead."""
    catalog, gte, lte = dense_day_catalog()
    truth = catalog.discover_ids(gte, lte)
    assert len(catalog.discover_ids(gte, gte)) > 1_000 and len(truth) < RESULT_CAP
    progress: list[str] = []
    with running_emulator(catalog=catalog, options=EmulatorOptions(drift=0.003, seed=3)) as emu:
        async with client_for(emu) as client:
            snapshot = await DiscoverHarvester(client, progress=progress.append).harvest_dates(gte, lte)
    assert sorted(snapshot.items) == sorted(truth)  # every movie, each once
    assert any(f"the dense day {gte.isoformat()} read by original_title.asc" in m for m in progress), progress
    # The pages plus the samples that fell inside the day (1 in 6 of its pages): ~1.12x; aiming repairs at
    # the boundaries inside the 75-page tie group instead cost ~1.23x.
    assert snapshot.requests <= len(truth) / 20 * 1.12 + 6, snapshot.requests


async def test_a_server_refusing_title_sorts_is_harvested_by_vote_count():
    """TMDb documents ``original_title.asc``; a server answering it with a validation error still gets every
    movie, with days sorted by vote_count."""
    catalog, gte, lte = dense_day_catalog()
    truth = catalog.discover_ids(gte, lte)
    progress: list[str] = []
    with running_emulator(catalog=catalog) as emu:
        async def refuse_titles(request: web.Request) -> web.Response:
            if request.query.get("sort_by", "").startswith("original_title."):
                return web.json_response({"errors": ["sort_by must be one of ..."], "success": False}, status=422)
            async with aiohttp.ClientSession() as session, session.get(
                emu.base_url + request.path.removeprefix("/3"), params=request.query
            ) as upstream:
                return web.json_response(await upstream.json(), status=upstream.status)

        async with serve_handler(refuse_titles) as base_url, client_for(emu, base_url=base_url) as client:
            snapshot = await DiscoverHarvester(client, progress=progress.append).harvest_dates(gte, lte)
    assert sorted(snapshot.items) == sorted(truth)
    assert any("refused sort_by=original_title.asc" in m for m in progress), progress
    # Only the day that met the refusal is read again: the window's verified pages are kept (restarting the
    # whole harvest re-read them all, ~1.67x the pages).
    assert snapshot.requests <= len(truth) / 20 * 1.25, snapshot.requests


def title_sorts_answered(emu, refuse) -> object:
    """A proxy to the emulator answering title-sorted discover requests with ``refuse(n)`` (n: how many title
    requests so far) when that is not None."""
    count = [0]

    async def handler(request: web.Request) -> web.Response:
        if request.query.get("sort_by", "").startswith("original_title."):
            count[0] += 1
            answer = refuse(count[0])
            if answer is not None:
                return web.json_response(answer[1], status=answer[0])
        async with aiohttp.ClientSession() as session, session.get(
            emu.base_url + request.path.removeprefix("/3"), params=request.query
        ) as upstream:
            return web.json_response(await upstream.json(), status=upstream.status)

    return handler


async def test_one_validation_error_on_a_title_sort_does_not_give_up_titles():
    """A single 422 for a title-sorted request is retried: the days stay sorted by title."""
    catalog, gte, lte = dense_day_catalog()
    truth = catalog.discover_ids(gte, lte)
    progress: list[str] = []
    body = {"errors": ["something went wrong"], "success": False}
    with running_emulator(catalog=catalog) as emu:
        handler = title_sorts_answered(emu, lambda n: (422, body) if n == 3 else None)
        async with serve_handler(handler) as base_url, client_for(emu, base_url=base_url) as client:
            snapshot = await DiscoverHarvester(client, progress=progress.append).harvest_dates(gte, lte)
    assert sorted(snapshot.items) == sorted(truth)
    assert not any("refused" in m for m in progress), progress
    assert any("read by original_title.asc" in m for m in progress), progress


async def test_a_page_error_on_a_title_sort_is_not_read_as_a_refused_sort():
    """TMDb's page error (400, status_code 22) says nothing about sort_by: it is raised, not taken for a
    server without title sorts."""
    catalog, gte, lte = dense_day_catalog()
    body = {"status_code": 22, "status_message": "Invalid page: Pages start at 1 and max at 500.", "success": False}
    with running_emulator(catalog=catalog) as emu:
        handler = title_sorts_answered(emu, lambda n: (400, body))
        async with serve_handler(handler) as base_url, client_for(emu, base_url=base_url) as client:
            with pytest.raises(TMDbPageLimitError):
                await DiscoverHarvester(client).harvest_dates(gte, lte)


@pytest.mark.slow
@pytest.mark.parametrize(("drift", "max_overhead"), [(0.0, 1.02), (0.05, 3.0), (0.3, 4.0)])
async def test_year_above_the_cap_is_complete_with_drift(drift, max_overhead):
    catalog = Catalog(seed=3, movies_per_year=14_000)
    truth = catalog.discover_ids(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))
    assert len(truth) > RESULT_CAP
    with running_emulator(catalog=catalog, options=EmulatorOptions(drift=drift, seed=9)) as emu:
        async with client_for(emu) as client:
            snapshot = await DiscoverHarvester(client).harvest_year(YEAR)
    assert sorted(snapshot.items) == sorted(truth)  # every movie, each once
    assert snapshot.children  # the year was split before paging
    # Without drift paging costs one request per 20 movies plus the windows' first pages; movies shifting
    # between pages cost re-queries of the affected days (measured in benchmarks/bench_harvest.py).
    assert snapshot.requests <= len(truth) / 20 * max_overhead + 10


@pytest.mark.slow
async def test_drift_costs_little_more_than_the_pages():
    """Popularity drifting between pages reorders movies released the same day, so a page boundary inside a
    day can skip a movie. The pages tile the window, so each day's size is known from where its movies sat;
    only the boundaries that lost a movie are re-read, from a query that puts them mid-page."""
    catalog = Catalog(seed=3, movies_per_year=14_000)
    truth = catalog.discover_ids(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))
    with running_emulator(catalog=catalog, options=EmulatorOptions(drift=0.003, seed=3)) as emu:
        async with client_for(emu) as client:
            snapshot = await DiscoverHarvester(client).harvest_year(YEAR)
        served = emu.stats()["by_path"]["discover"]
    assert sorted(snapshot.items) == sorted(truth)  # every movie, each once
    assert served == snapshot.requests
    # One request per 20 movies, a few first pages, and the re-reads: ~1.04x; re-reading every day a page
    # boundary fell in (the repair before) cost ~1.68x.
    assert snapshot.requests <= len(truth) / 20 * 1.1, snapshot.requests


@pytest.mark.slow
async def test_a_single_day_above_the_cap_is_split_on_vote_count():
    catalog = Catalog(seed=4, movies_per_year=16_000, day_cluster=0.75)
    day = dt.date(YEAR, 1, 1)
    truth = set(catalog.discover_ids(day, day))
    assert len(truth) > RESULT_CAP
    with running_emulator(catalog=catalog) as emu:
        async with client_for(emu) as client:
            snapshot = await DiscoverHarvester(client).harvest_dates(day, day)
    assert set(snapshot.items) == truth
    assert any("votes=" in key for key in snapshot.totals)


async def harvest_year(emu, lake: Lake, *, concurrency: int = 20, batch_size: int = 50) -> None:
    async with client_for(emu) as client:
        await stages.harvest_year(client, lake, YEAR, concurrency=concurrency, batch_size=batch_size)


async def test_killed_run_resumes_to_identical_output_refetching_at_most_one_batch(tmp_path):
    catalog = Catalog(seed=5, movies_per_year=600)
    clean, killed = Lake.at(tmp_path / "clean"), Lake.at(tmp_path / "killed")
    batch = 40
    with running_emulator(catalog=catalog, options=EmulatorOptions(latency=0.002)) as emu:
        await harvest_year(emu, clean, batch_size=batch)
        emu_total = movie_requests(emu)
        movies_in_year = len(readers.discover_ids(clean, YEAR))
        assert emu_total == movies_in_year

        async with client_for(emu) as client:
            await stages.run_discover(client, killed, YEAR)
            before = movie_requests(emu)
            task = asyncio.create_task(stages.run_details(client, killed, YEAR, batch_size=batch))
            while movie_requests(emu) - before < 3 * batch + batch // 2:  # kill in the middle of batch 4
                await asyncio.sleep(0.001)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        after_kill = movie_requests(emu)
        await harvest_year(emu, killed, batch_size=batch)
        refetched = movie_requests(emu) - before - movies_in_year
    assert 0 <= refetched <= batch
    assert after_kill > before
    assert clean.movies_year_file(YEAR).read_bytes() == killed.movies_year_file(YEAR).read_bytes()


async def test_concurrency_does_not_change_the_bytes(tmp_path):
    catalog = Catalog(seed=6, movies_per_year=500)
    one, many = Lake.at(tmp_path / "one"), Lake.at(tmp_path / "many")
    with running_emulator(catalog=catalog) as emu:
        await harvest_year(emu, one, concurrency=1, batch_size=7)
        await harvest_year(emu, many, concurrency=50, batch_size=500)
    assert one.movies_year_file(YEAR).read_bytes() == many.movies_year_file(YEAR).read_bytes()


async def test_an_unchanged_year_is_paged_again_unless_a_sync_of_today_vouches_for_it(tmp_path):
    """An equal total_results proves nothing (one deletion plus one addition keeps it): a year's windows are
    reused only when a catalog sync of today says its membership is unchanged."""
    from movie_assets.harvest import sync as catalog_sync

    catalog = Catalog(seed=7, movies_per_year=900, first_year=2020, last_year=2026)
    lake = Lake.at(tmp_path)
    options = EmulatorOptions(as_of=dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC))
    with running_emulator(catalog=catalog, options=options) as emu:
        await harvest_year(emu, lake)
        movies = len(readers.discover_ids(lake, YEAR))
        first = emu.stats()["requests_total"]
        await harvest_year(emu, lake)
        again = emu.stats()["requests_total"] - first
        assert movies // 20 <= again <= movies // 20 + 5  # one discover pass, no details call
        async with client_for(emu, exports_base_url=emu.root_url + "/p/exports") as client:
            await catalog_sync.sync(client, lake)
        first = emu.stats()["requests_total"]
        await harvest_year(emu, lake)
        vouched = emu.stats()["requests_total"] - first
    assert vouched <= 6, vouched


async def test_typed_output_follows_the_contract(tmp_path):
    catalog = Catalog(seed=8, movies_per_year=700)
    lake = Lake.at(tmp_path)
    with running_emulator(catalog=catalog) as emu:
        await harvest_year(emu, lake)
    table = warehouse.read_movies(lake)
    rows = table.to_pylist()
    assert len({r["movie_id"] for r in rows}) == len(rows)
    assert all((r["poster_url"] is None) == (r["poster_path"] is None) for r in rows)
    assert all((r["backdrop_url"] is None) == (r["backdrop_path"] is None) for r in rows)
    assert any(r["poster_path"] is None for r in rows)
    assert all(r["runtime"] is None or r["runtime"] > 0 for r in rows)
    assert all(r["year"] == YEAR and r["release_date"].year == YEAR for r in rows)
    assert any(r["cast"] for r in rows) and any(r["directors"] for r in rows)
    order = [(r["release_date"], r["movie_id"]) for r in rows]
    assert order == sorted(order)
    files = list(lake.movies_dataset_dir.rglob("*"))
    assert [p.name for p in files if p.is_file()] == [lake.movies_year_file(YEAR).name]
    assert re.fullmatch(r"part-[0-9a-f]{16}\.parquet", lake.movies_year_file(YEAR).name)  # named by content


async def test_corrupt_store_shard_is_discarded_and_refetched(tmp_path):
    catalog = Catalog(seed=9, movies_per_year=400)
    lake = Lake.at(tmp_path)
    with running_emulator(catalog=catalog) as emu:
        await harvest_year(emu, lake, batch_size=30)
        shards = DetailsStore(lake.details_store_dir).shard_paths()
        lost = pq.read_table(shards[0]).num_rows
        good = lake.movies_year_file(YEAR).read_bytes()
        shards[0].write_bytes(b"PAR1 this is not parquet")
        before = movie_requests(emu)
        async with client_for(emu) as client:
            summary = await stages.run_details(client, lake, YEAR)
        assert summary.discarded_shards == [shards[0].name]
        assert movie_requests(emu) - before == lost == summary.requested  # only the movies of that shard
    year_build.build_movies_year(lake, YEAR)
    assert lake.movies_year_file(YEAR).read_bytes() == good


async def test_failed_movies_fail_the_step_and_keep_what_succeeded(tmp_path):
    catalog = Catalog(seed=10, movies_per_year=300)
    lake = Lake.at(tmp_path)
    with running_emulator(catalog=catalog, options=EmulatorOptions(error_rate=0.5, seed=1)) as emu:
        async with client_for(emu, max_attempts=20) as client:
            await stages.run_discover(client, lake, YEAR)
        async with client_for(emu, max_attempts=1) as client:
            with pytest.raises(stages.IngestError, match="still failed after retries"):
                await stages.run_details(client, lake, YEAR)
    statuses = DetailsStore(lake.details_store_dir).statuses()
    assert set(statuses.values()) == {"ok"} and 0 < len(statuses) < len(readers.discover_ids(lake, YEAR))
    with pytest.raises(stages.IngestError, match="no details yet"):
        year_build.build_movies_year(lake, YEAR)


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(Exception, match="MOVIE_ASSETS_DATA_DIR"):
        Lake.at(blocker / "data").ensure_writable()


def test_discover_output_parquet_is_read_back(tmp_path):
    lake = Lake.at(tmp_path)
    with pytest.raises(readers.LakeInputError, match="materialize discover_movies"):
        readers.discover_ids(lake, YEAR)


async def test_a_401_stops_the_whole_batch(tmp_path):
    catalog = Catalog(seed=11, movies_per_year=300)
    ids = catalog.discover_ids(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))
    options = EmulatorOptions(api_keys={"the-right-key"}, latency=0.01)
    with running_emulator(catalog=catalog, options=options) as emu:
        async with client_for(emu, api_key="a-wrong-key") as client:
            store = DetailsStore(tmp_path / "store")
            with pytest.raises(TMDbAuthError):
                await enrich(client, ids, store, batch_size=len(ids), concurrency=20)
            await asyncio.sleep(0.5)  # without cancellation the other 299 calls would go on in the background
            sent = emu.stats()["requests_total"]
    assert sent <= 1 + 20  # the failing call and, at most, those already in flight
    assert store.shard_paths() == []


@pytest.mark.parametrize("after", [50, 110])
async def test_a_catalog_changing_mid_harvest_loses_no_movie_silently(after):
    """TMDb's catalog moves on while a window is paged: a day passes (movies added, deleted, re-dated) after
    the ``after``-th discover request. Unique ids beyond ``total_results`` (some came, others left) or short
    of it make the window be read again; every movie present before and after is harvested, nothing else."""
    catalog = Catalog(seed=8, movies_per_year=7_000, day_cluster=0.2, first_year=2021, last_year=2025,
                      churn=ChurnRates(move=0.002, delete=0.002, add=0.002, move_any_year=0.0, add_old_year=1.0,
                                       add_undated=0.0))
    gte, lte = dt.date(2023, 1, 1), dt.date(2023, 3, 31)
    before = set(catalog.discover_ids(gte, lte))
    seen = [0]
    with running_emulator(catalog=catalog, options=EmulatorOptions(drift=0.05, seed=3)) as emu:
        async def day_passes(request: web.Request) -> web.Response:
            seen[0] += 1
            if seen[0] == after:
                emu.advance(1)
            async with aiohttp.ClientSession() as session, session.get(
                emu.base_url + request.path.removeprefix("/3"), params=request.query
            ) as upstream:
                return web.json_response(await upstream.json(), status=upstream.status)

        async with serve_handler(day_passes) as base_url, client_for(emu, base_url=base_url) as client:
            snapshot = await DiscoverHarvester(client).harvest_dates(gte, lte)
        after_ids = set(catalog.discover_ids(gte, lte))
    got = set(snapshot.items)
    assert before != after_ids  # the catalog did change under the harvest
    assert before & after_ids <= got <= before | after_ids
