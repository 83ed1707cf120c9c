"""TMDb's daily ID export: fetched from the emulator's files host, stored as typed snapshots, bad files refused."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pyarrow.parquet as pq
import pytest
from aiohttp import web

from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.harvest import exports
from movie_assets.lake import Lake
from movie_assets.lake.schema import EXPORT_SCHEMA
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets_tests.helpers import free_port, serve_handler

CLOCK = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)  # after 08:00 UTC: today's export is published


def client_for(exports_base_url: str) -> TMDbClient:
    return TMDbClient(TMDbSettings(base_url="http://127.0.0.1:9/3", exports_base_url=exports_base_url,
                                   requests_per_second=1000, max_attempts=2, backoff_base=0.01, backoff_max=0.02))


def truth(catalog: Catalog, adult: bool | None) -> set[int]:
    """Every id of the catalog (``adult=None``), or only the adult / non-adult ones (videos included)."""
    everything = set(catalog.live_movies(include_adult=True, include_video=True))
    non_adult = set(catalog.live_movies(include_adult=False, include_video=True))
    return everything if adult is None else everything - non_adult if adult else non_adult


@pytest.fixture(scope="module")
def emulator():
    catalog = Catalog(seed=8, movies_per_year=200)
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        yield emu


async def fetch(base_url: str, lake: Lake, now: dt.datetime = CLOCK, **kwargs) -> exports.ExportSnapshot:
    async with client_for(base_url) as client:
        return await exports.fetch_export(client, lake, now=now, **kwargs)


async def test_export_is_the_set_of_every_non_adult_movie_typed_and_sorted(emulator, tmp_path):
    lake = Lake.at(tmp_path / "data")
    snapshot = await fetch(emulator.root_url + "/p/exports", lake)
    assert snapshot.day == CLOCK.date() and not snapshot.skipped_days and not snapshot.reused
    table = pq.read_table(snapshot.path)
    assert table.schema.equals(EXPORT_SCHEMA)
    ids = table.column("id").to_pylist()
    assert ids == sorted(ids) and set(ids) == truth(emulator.catalog, adult=False)
    assert set(table.column("day").to_pylist()) == {CLOCK.date()}
    assert table.column("original_title").null_count == 0 and table.column("popularity").null_count == 0

    before = emulator.stats()["by_path"]["exports"]
    again = await fetch(emulator.root_url + "/p/exports", lake)
    assert again.reused and again.ids == snapshot.ids
    assert emulator.stats()["by_path"]["exports"] == before  # a stored day is never downloaded again


async def test_adult_titles_come_from_their_own_file_when_included(emulator, tmp_path):
    snapshot = await fetch(emulator.root_url + "/p/exports", Lake.at(tmp_path / "data"), include_adult=True)
    table = pq.read_table(snapshot.path)
    assert set(table.column("id").to_pylist()) == truth(emulator.catalog, adult=None)
    assert sum(table.column("adult").to_pylist()) == len(truth(emulator.catalog, adult=True)) > 0


async def test_before_eight_utc_yesterdays_export_is_used_and_the_skip_is_said(emulator, tmp_path):
    lake = Lake.at(tmp_path / "data")
    early = await fetch(emulator.root_url + "/p/exports", lake, now=CLOCK.replace(hour=7))
    assert early.day == CLOCK.date() - dt.timedelta(days=1)
    # The client thinks it is tomorrow morning; the host has nothing newer than today: it falls back a day.
    later = await fetch(emulator.root_url + "/p/exports", lake, now=CLOCK + dt.timedelta(days=1))
    assert later.day == CLOCK.date() and later.skipped_days == [f"{CLOCK.date() + dt.timedelta(days=1)}: HTTP 403"]
    assert later.previous_day == early.day and later.added == later.removed == 0  # the static catalog
    popularity = {d: pq.read_table(lake.export_snapshot_file(d)).column("popularity") for d in lake.export_days()}
    assert len(popularity) == 2 and not popularity[early.day].equals(popularity[later.day])  # a daily history


# -- bad input: each a clear error naming what to fix, nothing written ----------------------------------------
async def test_unreachable_exports_host_names_the_setting(tmp_path):
    lake = Lake.at(tmp_path / "data")
    with pytest.raises(exports.ExportError, match="TMDB_EXPORTS_BASE_URL"):
        await fetch(f"http://127.0.0.1:{free_port()}/p/exports", lake)
    assert lake.export_days() == []


async def test_no_export_for_several_days_names_the_setting(tmp_path):
    async def nothing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="Not Found")

    async with serve_handler(nothing) as base:
        with pytest.raises(exports.ExportError, match="TMDB_EXPORTS_BASE_URL.*08:00 UTC"):
            await fetch(base.removesuffix("/3") + "/p/exports", Lake.at(tmp_path / "data"))


def _gzip_lines(lines: list[dict]) -> bytes:
    return gzip.compress(("\n".join(json.dumps(x) for x in lines) + "\n").encode(), mtime=0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda good: good[: len(good) // 2], "truncated or corrupt"),
        (lambda good: b"not gzip at all", "truncated or corrupt"),
        (lambda good: gzip.compress(b'{"id": 1}\n{"id": 2, oops\n'), "line 2 is not JSON"),
        (lambda good: gzip.compress(b'{"id": "x"}\n'), "no valid movie id"),
    ],
    ids=["truncated", "not-gzip", "bad-json-line", "bad-id"],
)
async def test_corrupt_export_is_refused_and_nothing_is_written(tmp_path, body, message):
    good = _gzip_lines([{"adult": False, "id": i, "original_title": f"T{i}", "popularity": 1.0, "video": False}
                        for i in range(1, 5000)])

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=body(good))

    lake = Lake.at(tmp_path / "data")
    async with serve_handler(serve) as base:
        with pytest.raises(exports.ExportError, match=message):
            await fetch(base.removesuffix("/3") + "/p/exports", lake)
    assert lake.export_days() == [] and not list(lake.exports_dir.glob("*.download"))


async def test_an_empty_export_is_refused_and_a_partial_one_stored_for_the_sync_to_judge(tmp_path):
    sizes = {CLOCK.date() - dt.timedelta(days=2): 1000, CLOCK.date() - dt.timedelta(days=1): 850,
             CLOCK.date(): 0}  # 15 % of the ids missing, then none at all

    async def serve(request: web.Request) -> web.Response:
        for day, n in sizes.items():
            if request.path.endswith(exports.export_file_name(day)):
                return web.Response(body=_gzip_lines([{"id": i, "adult": False} for i in range(1, n + 1)]))
        return web.Response(status=403)

    lake = Lake.at(tmp_path / "data")
    async with serve_handler(serve) as base:
        url = base.removesuffix("/3") + "/p/exports"
        await fetch(url, lake, now=CLOCK - dt.timedelta(days=2))
        partial = await fetch(url, lake, now=CLOCK - dt.timedelta(days=1))  # stored: its additions are real
        assert (partial.ids, partial.removed) == (850, 150)
        first = partial
        kept = first.path.read_bytes()
        with pytest.raises(exports.ExportError, match="lists no movie at all, where that of .* listed 850"):
            await fetch(url, lake)
    assert lake.export_days()[-1] == first.day and first.path.read_bytes() == kept


async def test_an_id_listed_twice_is_stored_once(tmp_path):
    lines = [{"adult": False, "id": i, "original_title": f"T{i}", "popularity": float(i), "video": False}
             for i in (3, 1, 2, 3, 1)]

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=_gzip_lines(lines))

    lake = Lake.at(tmp_path / "data")
    async with serve_handler(serve) as base:
        snapshot = await fetch(base.removesuffix("/3") + "/p/exports", lake)
    table = pq.read_table(snapshot.path)
    assert table.column("id").to_pylist() == [1, 2, 3] and snapshot.ids == 3
    assert table.column("popularity").to_pylist() == [1.0, 2.0, 3.0]  # the first line of each id


async def test_a_stored_snapshot_that_turned_corrupt_is_set_aside_and_downloaded_again(emulator, tmp_path):
    lake = Lake.at(tmp_path / "data")
    snapshot = await fetch(emulator.root_url + "/p/exports", lake)
    good = snapshot.path.read_bytes()
    snapshot.path.write_bytes(good[:100])
    again = await fetch(emulator.root_url + "/p/exports", lake)
    assert not again.reused and again.path.read_bytes() == good
    assert snapshot.path.with_suffix(".corrupt").exists()
