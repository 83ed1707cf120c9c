"""``backfill-credits``: resumable, atomic, keeps the file's list format, remembers movies without credits."""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import json

import pytest
from aiohttp import web

from movie_assets.cli import backfill_credits as backfill_cli
from movie_assets.release import backfill_credits as bf
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets_tests.helpers import serve_handler

WITH_CREDITS = list(range(2, 10))
NO_CREDITS = [10, 11]
UNKNOWN = [12]
BROKEN = [13]
HEADER = ["adult", "id", "title", "runtime", "actors", "directors"]


class FakeTMDb:
    """/movie/{id} with credits; some movies have none, one is unknown (404), one always fails (500)."""

    def __init__(self):
        self.calls: collections.Counter[int] = collections.Counter()

    async def handler(self, request: web.Request) -> web.Response:
        parts = request.path.strip("/").split("/")
        assert parts[:2] == ["3", "movie"], request.path
        movie_id = int(parts[2])
        self.calls[movie_id] += 1
        if movie_id in UNKNOWN:
            return web.json_response({"success": False, "status_code": 34,
                                      "status_message": "The resource you requested could not be found."},
                                     status=404)
        if movie_id in BROKEN:
            return web.json_response({"success": False, "status_code": 11, "status_message": "Internal error"},
                                     status=500)
        credits = {"cast": [], "crew": []}
        if movie_id not in NO_CREDITS:
            credits = {
                "cast": [{"id": movie_id * 10 + 1, "name": f"Second {movie_id}", "order": 1},
                         {"id": movie_id * 10, "name": f"Lead {movie_id}, Jr.", "order": 0}],
                "crew": [{"id": 7, "name": f"Director {movie_id}", "job": "Director"},
                         {"id": 8, "name": "Someone", "job": "Writer"}],
            }
        return web.json_response({"id": movie_id, "title": f"Film {movie_id}", "runtime": 90 + movie_id,
                                  "credits": credits, "keywords": {"keywords": []}})


@pytest.fixture
async def tmdb():
    fake = FakeTMDb()
    async with serve_handler(fake.handler) as base_url:
        fake.base_url = base_url
        yield fake


def settings_for(base_url: str) -> TMDbSettings:
    return TMDbSettings(base_url=base_url, requests_per_second=1000, max_attempts=1, backoff_base=0.01,
                        backoff_max=0.02, read_timeout=2.0, connect_timeout=1.0)


def write_input(path, blank: str, filled_actors: str, filled_directors: str) -> None:
    rows = [["False", "1", "Kept", "100", filled_actors, filled_directors]]
    rows += [["False", str(i), f"Film {i}", "", blank, blank] for i in WITH_CREDITS + NO_CREDITS + UNKNOWN + BROKEN]
    rows.append(["False", "", "no id", "", blank, blank])
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([HEADER, *rows])


def read_rows(path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["id"] or r["title"]: r for r in csv.DictReader(handle)}


class Killed(Exception):
    pass


def kill_after_first_batch(progress: bf.BackfillProgress) -> None:
    if progress.batch == 1:
        raise Killed()


async def run(tmdb, path, **kwargs) -> bf.BackfillResult:
    async with TMDbClient(settings_for(tmdb.base_url)) as client:
        return await bf.backfill_with_client(client, path, concurrency=2, batch_size=3, **kwargs)


async def test_killed_run_resumes_and_movies_without_credits_are_not_refetched(tmdb, tmp_path):
    path = tmp_path / "movies_2020-01-01_2020-12-31.csv"
    write_input(path, "[]", '["Kept Actor"]', '["Kept Director"]')

    with pytest.raises(Killed):
        await run(tmdb, path, progress=kill_after_first_batch)
    rows = read_rows(path)  # intact, complete rows of batch 1 kept
    assert len(rows) == 14
    assert json.loads(rows["2"]["actors"]) == ["Lead 2, Jr.", "Second 2"]
    assert json.loads(rows["2"]["directors"]) == ["Director 2"] and rows["2"]["runtime"] == "92"
    assert rows["5"]["actors"] == "[]"  # batch 2 never ran
    assert sum(tmdb.calls.values()) == 3

    second = await run(tmdb, path)
    assert second.filled == 5 and second.empty == 3 and second.failed == [13]
    assert all(tmdb.calls[i] == 1 for i in WITH_CREDITS + NO_CREDITS + UNKNOWN)  # nothing fetched twice
    rows = read_rows(path)
    assert all(json.loads(rows[str(i)]["actors"]) == [f"Lead {i}, Jr.", f"Second {i}"] for i in WITH_CREDITS)
    assert rows["1"]["actors"] == '["Kept Actor"]' and rows["1"]["runtime"] == "100"
    assert rows["10"]["actors"] == "[]" and rows["13"]["actors"] == "[]"
    state = json.loads(bf.CreditsState.path_for(path).read_text())
    assert state["no_credits"] == NO_CREDITS and state["not_found"] == UNKNOWN  # failures not recorded

    third = await run(tmdb, path)
    assert third.requested == 1 and third.known_empty == 3 and third.failed == [13]
    assert all(tmdb.calls[i] == 1 for i in NO_CREDITS + UNKNOWN)
    assert tmdb.calls[13] == 2  # failures are retried on every run


async def test_old_comma_format_is_kept(tmdb, tmp_path):
    path = tmp_path / "old.csv"
    write_input(path, "", "Kept Actor, Other Actor", "Kept Director")
    result = await run(tmdb, path)
    assert result.formats == {"actors": "comma", "directors": "comma"}
    rows = read_rows(path)
    assert rows["3"]["actors"] == "Lead 3, Jr., Second 3" and rows["3"]["directors"] == "Director 3"
    assert rows["10"]["actors"] == "" and rows["1"]["actors"] == "Kept Actor, Other Actor"


async def test_a_crash_while_writing_leaves_the_previous_csv(tmdb, tmp_path, monkeypatch):
    path = tmp_path / "movies.csv"
    write_input(path, "[]", '["A"]', '["D"]')
    original = path.read_bytes()
    real_write = bf.write_csv

    def crashing_write(rows, header, target):
        def rows_then_crash():
            yield from rows[:4]
            raise OSError("disk full")

        return real_write(rows_then_crash(), header, target)

    monkeypatch.setattr(bf, "write_csv", crashing_write)
    with pytest.raises(OSError, match="disk full"):
        await run(tmdb, path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["movies.csv"]  # no temp file left behind


async def test_cli_exit_codes(tmdb, tmp_path, monkeypatch):
    parser = argparse.ArgumentParser()
    backfill_cli.register_cli(parser.add_subparsers(dest="command"))
    monkeypatch.setenv("TMDB_BASE_URL", tmdb.base_url)
    monkeypatch.setenv("TMDB_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("MOVIE_ASSETS_DATA_DIR", str(tmp_path / "data"))  # the shared-rate file goes there
    for name in ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    bad = tmp_path / "bad.csv"
    bad.write_text("id,title\n1,x\n")
    args = parser.parse_args(["backfill-credits", "--csv", str(bad)])
    assert await asyncio.to_thread(args.handler, args) == backfill_cli.EXIT_USAGE

    good = tmp_path / "good.csv"
    write_input(good, "", "A", "D")
    args = parser.parse_args(["backfill-credits", "--csv", str(good), "--concurrency", "4", "--batch-size", "5"])
    assert (args.concurrency, args.batch_size) == (4, 5)
    assert await asyncio.to_thread(args.handler, args) == backfill_cli.EXIT_FAILED  # movie 13 keeps failing

    BROKEN.clear()
    try:
        assert await asyncio.to_thread(args.handler, args) == backfill_cli.EXIT_OK
    finally:
        BROKEN.append(13)
