"""The emulator over real HTTP: shapes (OpenAPI), paging, errors, auth, faults, headers, stats."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.emulator.runner import RunningEmulator

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "tmdb-openapi-movie-subset.json"
DISCOVER_KEYS = {
    "adult",
    "backdrop_path",
    "genre_ids",
    "id",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "release_date",
    "title",
    "video",
    "vote_average",
    "vote_count",
}
DETAIL_KEYS = {
    "adult",
    "backdrop_path",
    "belongs_to_collection",
    "budget",
    "genres",
    "homepage",
    "id",
    "imdb_id",
    "origin_country",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "production_companies",
    "production_countries",
    "release_date",
    "revenue",
    "runtime",
    "spoken_languages",
    "status",
    "tagline",
    "title",
    "video",
    "vote_average",
    "vote_count",
}
# The spec declares these as plain strings/objects/booleans, but TMDb returns null for them.
NULLABLE = {
    "backdrop_path",
    "poster_path",
    "belongs_to_collection",
    "imdb_id",
    "logo_path",
    "profile_path",
    "adult",
}


def _nullable(schema: Any, name: str | None = None) -> Any:
    if isinstance(schema, dict):
        out = {k: _nullable(v) for k, v in schema.items() if k != "properties"}
        if "properties" in schema:
            out["properties"] = {k: _nullable(v, k) for k, v in schema["properties"].items()}
        if name in NULLABLE and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_nullable(x) for x in schema]
    return schema


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def schema_for(spec: dict[str, Any], path: str) -> dict[str, Any]:
    raw = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return _nullable(copy.deepcopy(raw))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(seed=42)


@pytest.fixture(scope="module")
def emulator(catalog: Catalog) -> Iterator[RunningEmulator]:
    with running_emulator(catalog) as emu:
        yield emu


async def get(emu: RunningEmulator, path: str, **params: Any) -> tuple[int, Any, Any]:
    async with aiohttp.ClientSession() as session, session.get(emu.base_url + path, params=params) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


def window(gte: str, lte: str, **extra: Any) -> dict[str, Any]:
    return {"primary_release_date.gte": gte, "primary_release_date.lte": lte, **extra}


# ---------------------------------------------------------------------- shapes
async def test_discover_shape_and_schema(emulator: RunningEmulator, spec: dict[str, Any]) -> None:
    status, body, headers = await get(emulator, "/discover/movie", **window("2024-01-01", "2024-12-31"))
    assert status == 200
    jsonschema.validate(body, schema_for(spec, "/3/discover/movie"))
    assert len(body["results"]) == 20
    for item in body["results"]:
        assert set(item) == DISCOVER_KEYS
        assert isinstance(item["release_date"], str) and item["release_date"].startswith("2024-")
    pops = [r["popularity"] for r in body["results"]]
    assert pops == sorted(pops, reverse=True)  # popularity.desc is the default
    assert headers["Content-Type"] == "application/json;charset=utf-8"
    assert headers["Cache-Control"].startswith("public, max-age=")
    assert headers["ETag"] and headers["Date"] == "Sun, 01 Nov 2026 00:00:00 GMT"
    assert not any(h.lower().startswith("x-ratelimit") for h in headers) and "Retry-After" not in headers


async def test_details_append_shape_and_schema(
    emulator: RunningEmulator, spec: dict[str, Any], catalog: Catalog
) -> None:
    movie_id = catalog.discover_ids(dt.date(2001, 5, 1), dt.date(2001, 5, 31))[0]
    status, body, _ = await get(emulator, f"/movie/{movie_id}", append_to_response="credits,keywords,bogus")
    assert status == 200
    jsonschema.validate(body, schema_for(spec, "/3/movie/{movie_id}"))
    assert set(body) == DETAIL_KEYS | {"credits", "keywords"}
    assert set(body["credits"]) == {"cast", "crew"}  # appended: no id
    assert set(body["keywords"]) == {"keywords"}
    credit_schema = schema_for(spec, "/3/movie/{movie_id}/credits")
    jsonschema.validate({"id": movie_id, **body["credits"]}, credit_schema)
    jsonschema.validate(
        {"id": movie_id, **body["keywords"]}, schema_for(spec, "/3/movie/{movie_id}/keywords")
    )
    truth = catalog.details(movie_id, dt.date(2026, 11, 1))
    assert body == {k: truth[k] for k in DETAIL_KEYS | {"credits", "keywords"}}
    status, plain, _ = await get(emulator, f"/movie/{movie_id}")
    assert set(plain) == DETAIL_KEYS
    status, credits, _ = await get(emulator, f"/movie/{movie_id}/credits")
    assert status == 200 and credits["id"] == movie_id and credits["cast"] == body["credits"]["cast"]


async def test_static_endpoints_schema(emulator: RunningEmulator, spec: dict[str, Any]) -> None:
    status, config, _ = await get(emulator, "/configuration")
    assert status == 200
    jsonschema.validate(config, schema_for(spec, "/3/configuration"))
    assert config["images"]["secure_base_url"] == "https://image.tmdb.org/t/p/"
    assert len(config["change_keys"]) == 53
    status, genres, _ = await get(emulator, "/genre/movie/list")
    jsonschema.validate(genres, schema_for(spec, "/3/genre/movie/list"))
    assert len(genres["genres"]) == 19 and {"id": 878, "name": "Science Fiction"} in genres["genres"]
    status, auth, _ = await get(emulator, "/authentication")
    assert status == 200 and auth == {"success": True, "status_code": 1, "status_message": "Success."}


async def test_popular_and_changes_schema(emulator: RunningEmulator, spec: dict[str, Any]) -> None:
    status, popular, _ = await get(emulator, "/movie/popular", page=2)
    assert status == 200 and popular["page"] == 2 and len(popular["results"]) == 20
    jsonschema.validate(popular, schema_for(spec, "/3/movie/popular"))
    assert not any(r["adult"] or r["video"] for r in popular["results"])
    status, changes, _ = await get(
        emulator, "/movie/changes", start_date="2026-10-20", end_date="2026-10-25"
    )
    assert status == 200
    jsonschema.validate(changes, schema_for(spec, "/3/movie/changes"))
    assert len(changes["results"]) == 100 and changes["total_pages"] == math.ceil(
        changes["total_results"] / 100
    )
    truth = emulator.catalog.changed_ids(dt.date(2026, 10, 20), dt.date(2026, 10, 25))
    assert changes["total_results"] == len(truth) and [r["id"] for r in changes["results"]] == truth[:100]


# ---------------------------------------------------------------------- discover semantics
async def test_true_totals_above_10000(emulator: RunningEmulator) -> None:
    status, body, _ = await get(emulator, "/discover/movie", **window("2023-01-01", "2023-12-31"))
    assert status == 200 and body["total_results"] > 10000
    assert body["total_pages"] == math.ceil(body["total_results"] / 20) > 500
    truth = emulator.catalog.discover_ids(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert body["total_results"] == len(truth)


async def test_paging_a_window_returns_exactly_the_truth(emulator: RunningEmulator) -> None:
    params = window("1987-09-01", "1987-10-31", sort_by="primary_release_date.asc")
    async with aiohttp.ClientSession() as session:
        async with session.get(emulator.base_url + "/discover/movie", params=params) as resp:
            first = await resp.json()
        pages = [first]
        for page in range(2, first["total_pages"] + 1):
            async with session.get(
                emulator.base_url + "/discover/movie", params={**params, "page": page}
            ) as r:
                pages.append(await r.json())
    ids = [item["id"] for p in pages for item in p["results"]]
    truth = emulator.catalog.discover_ids(dt.date(1987, 9, 1), dt.date(1987, 10, 31))
    assert len(ids) == len(set(ids)) == first["total_results"] == len(truth)
    assert set(ids) == set(truth)
    dates = [item["release_date"] for p in pages for item in p["results"]]
    assert dates == sorted(dates)
    items = [item for p in pages for item in p["results"]]
    for a, b in zip(items, items[1:], strict=False):  # same-date ties: popularity desc
        if a["release_date"] == b["release_date"]:
            assert a["popularity"] >= b["popularity"]
    status, desc, _ = await get(
        emulator, "/discover/movie", **{**params, "sort_by": "primary_release_date.desc"}
    )
    assert desc["results"][0]["release_date"] == max(dates)


async def test_title_sorts_order_by_title_then_popularity(emulator: RunningEmulator) -> None:
    """TMDb's documented ``original_title``/``title`` sorts: code-point order, ties by popularity desc."""
    params = window("2022-03-01", "2022-03-20", sort_by="original_title.asc")
    async with aiohttp.ClientSession() as session:
        first = await (await session.get(emulator.base_url + "/discover/movie", params=params)).json()
        pages = [first] + [
            await (await session.get(emulator.base_url + "/discover/movie", params={**params, "page": p})).json()
            for p in range(2, first["total_pages"] + 1)
        ]
    items = [item for p in pages for item in p["results"]]
    assert len(items) == first["total_results"] > 40
    titles = [item["original_title"] for item in items]
    assert titles == sorted(titles) and len(set(titles)) < len(titles)  # same-titled films exist
    for a, b in zip(items, items[1:], strict=False):
        if a["original_title"] == b["original_title"]:
            assert a["popularity"] >= b["popularity"]
    _, desc, _ = await get(emulator, "/discover/movie", **{**params, "sort_by": "original_title.desc"})
    assert desc["results"][0]["original_title"] == max(titles)
    _, by_title, _ = await get(emulator, "/discover/movie", **{**params, "sort_by": "title.asc"})
    assert by_title["results"][0]["title"] == min(item["title"] for item in items)


async def test_page_beyond_total_is_empty(emulator: RunningEmulator) -> None:
    status, body, _ = await get(emulator, "/discover/movie", **window("1950-02-01", "1950-02-03"), page=400)
    assert status == 200 and body["results"] == [] and body["page"] == 400


async def test_dense_day_splits_on_vote_count() -> None:
    catalog = Catalog(seed=11, day_cluster=0.4, first_year=2020, last_year=2024)
    with running_emulator(catalog) as emu:
        day = window("2024-01-01", "2024-01-01", sort_by="primary_release_date.asc")
        _, whole, _ = await get(emu, "/discover/movie", **day)
        assert whole["total_results"] > 10000
        _, low, _ = await get(emu, "/discover/movie", **day, **{"vote_count.lte": 3})
        _, high, _ = await get(emu, "/discover/movie", **day, **{"vote_count.gte": 4})
        assert low["total_results"] + high["total_results"] == whole["total_results"]
        assert max(low["total_results"], high["total_results"]) <= 10000
        assert all(r["vote_count"] >= 4 for r in high["results"])


async def test_drift_reorders_between_requests(catalog: Catalog) -> None:
    params = window("2022-01-01", "2022-01-01", sort_by="primary_release_date.asc", page=3)
    with running_emulator(catalog, EmulatorOptions(drift=0.5)) as emu:
        orders = [
            [r["id"] for r in (await get(emu, "/discover/movie", **params))[1]["results"]] for _ in range(4)
        ]
    assert len({tuple(o) for o in orders}) > 1
    with running_emulator(catalog, EmulatorOptions(drift=0.0)) as emu:
        stable = [
            [r["id"] for r in (await get(emu, "/discover/movie", **params))[1]["results"]] for _ in range(3)
        ]
    assert len({tuple(o) for o in stable}) == 1


# ---------------------------------------------------------------------- errors
async def test_page_errors_live_and_documented(catalog: Catalog, emulator: RunningEmulator) -> None:
    status, body, _ = await get(emulator, "/discover/movie", page=501)
    assert status == 422 and body == {
        "errors": ["page must be less than or equal to 500"],
        "success": False,
    }
    status, body, _ = await get(emulator, "/discover/movie", page=0)
    assert status == 422 and body == {"errors": ["page must be greater than 0"], "success": False}
    with running_emulator(catalog, EmulatorOptions(page_error_style="documented")) as emu:
        status, body, _ = await get(emu, "/discover/movie", page=501)
    assert status == 400 and body == {
        "status_code": 22,
        "success": False,
        "status_message": "Invalid page: Pages start at 1 and max at 500. "
        "They are expected to be an integer.",
    }


async def test_parameter_errors(emulator: RunningEmulator) -> None:
    status, body, _ = await get(emulator, "/discover/movie", **{"primary_release_date.gte": "2020-13-01"})
    assert status == 400 and body["status_code"] == 23 and body["success"] is False
    status, body, _ = await get(emulator, "/discover/movie", sort_by="nonsense.desc")
    assert status == 422 and body["success"] is False and body["errors"]
    status, body, _ = await get(emulator, "/movie/changes", start_date="2026-10-01", end_date="2026-10-20")
    assert status == 422 and body == {
        "status_code": 20,
        "success": False,
        "status_message": "Invalid date range: Should be a range no longer than 14 days.",
    }
    status, body, _ = await get(emulator, "/movie/changes", start_date="yesterday")
    assert status == 400 and body["status_code"] == 23
    status, body, _ = await get(
        emulator, "/movie/5", append_to_response=",".join(f"x{i}" for i in range(21))
    )
    assert status == 400 and body["status_code"] == 27


async def test_unknown_movie_is_404_34(emulator: RunningEmulator) -> None:
    expected = {
        "status_code": 34,
        "status_message": "The resource you requested could not be found.",
        "success": False,
    }
    hole = 2 + len(emulator.catalog.years) * 13  # slot 13 of the first year: a hole in the id space
    assert not emulator.catalog.exists(hole) and emulator.catalog.exists(hole - 1)
    for path in ("/movie/999999999", f"/movie/{hole}", "/movie/abc", "/no/such/path"):
        status, body, _ = await get(emulator, path)
        assert (status, body) == (404, expected), path


async def test_auth_required_when_configured(catalog: Catalog) -> None:
    options = EmulatorOptions(api_keys={"k3y"}, tokens={"t0ken"})
    expected = {
        "status_code": 7,
        "status_message": "Invalid API key: You must be granted a valid key.",
        "success": False,
    }
    with running_emulator(catalog, options) as emu:
        for path in ("/configuration", "/discover/movie", "/movie/5", "/nope"):
            assert (await get(emu, path))[:2] == (401, expected)
            assert (await get(emu, path, api_key="wrong"))[:2] == (401, expected)
        assert (await get(emu, "/configuration", api_key="k3y"))[0] == 200
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer t0ken"}) as session:
            async with session.get(emu.base_url + "/authentication") as resp:
                assert resp.status == 200
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer nope"}) as session:
            async with session.get(emu.base_url + "/authentication") as resp:
                assert resp.status == 401


# ---------------------------------------------------------------------- faults
async def _burst(emu: RunningEmulator, n: int) -> list[tuple[int, str | None]]:
    async with aiohttp.ClientSession() as session:

        async def one() -> tuple[int, str | None]:
            async with session.get(emu.base_url + "/configuration") as resp:
                body = await resp.json()
                if resp.status == 429:
                    assert body == {
                        "status_code": 25,
                        "success": False,
                        "status_message": "Your request count (#) is over the allowed limit of (40).",
                    }
                return resp.status, resp.headers.get("Retry-After")

        return await asyncio.gather(*[one() for _ in range(n)])


@pytest.mark.parametrize("retry_after", [True, False])
async def test_rate_limit_429(catalog: Catalog, retry_after: bool) -> None:
    with running_emulator(catalog, EmulatorOptions(rate_limit=5, retry_after=retry_after)) as emu:
        results = await _burst(emu, 30)
        assert emu.stats()["faults"]["rate_limited"] == sum(s == 429 for s, _ in results)
    limited = [ra for s, ra in results if s == 429]
    assert 20 <= len(limited) <= 26 and sum(s == 200 for s, _ in results) >= 4
    if retry_after:
        assert all(ra is not None and int(ra) >= 1 for ra in limited)
    else:
        assert all(ra is None for ra in limited)


async def _outcomes(emu: RunningEmulator, n: int) -> list[str]:
    out = []
    timeout = aiohttp.ClientTimeout(total=0.5)
    connector = aiohttp.TCPConnector(force_close=True)  # no keep-alive: no automatic client retries
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for i in range(n):
            try:
                async with session.get(emu.base_url + "/movie/popular", params={"page": i % 5 + 1}) as resp:
                    raw = await resp.read()
                    try:
                        json.loads(raw)
                        out.append(str(resp.status))
                    except ValueError:
                        out.append(f"truncated-{resp.status}")
            except TimeoutError:
                out.append("timeout")
            except aiohttp.ClientError:
                out.append("dropped")
    return out


async def test_fault_knobs_are_reproducible() -> None:
    catalog = Catalog(seed=42, movies_per_year=500)
    catalog.select(None, None)  # warm up so that only injected hangs can time out

    def opts(seed: int) -> EmulatorOptions:
        return EmulatorOptions(
            seed=seed, error_rate=0.15, drop_rate=0.1, truncate_rate=0.1, hang_rate=0.05, hang_seconds=2.0
        )

    runs, stats = [], []
    for seed in (1, 1, 2):
        with running_emulator(catalog, opts(seed)) as emu:
            runs.append(await _outcomes(emu, 40))
            stats.append(emu.stats())
    assert runs[0] == runs[1] != runs[2]
    assert stats[0] == stats[1] != stats[2]
    kinds = set(runs[0])
    assert {"200", "timeout"} <= kinds and kinds & {"500", "502", "503", "504"}
    assert any(k.startswith("truncated-200") for k in kinds)
    # aiohttp's client silently retries a GET once when the server drops the connection, so the drops
    # show up in the server's fault counter (and the extra request), not necessarily in the outcomes.
    faults = stats[0]["faults"]
    assert faults["drop"] > 0 and faults["hang"] == runs[0].count("timeout")
    assert stats[0]["requests_total"] == 40 + faults["drop"] - runs[0].count("dropped")


async def test_images(emulator: RunningEmulator, catalog: Catalog) -> None:
    movie_id = next(
        i
        for i in catalog.discover_ids(dt.date(2010, 6, 1), dt.date(2010, 6, 30))
        if catalog.details(i)["poster_path"]
    )
    poster = catalog.details(movie_id)["poster_path"]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{emulator.root_url}/t/p/w500{poster}") as resp:
            first = await resp.read()
            assert resp.status == 200 and resp.headers["Content-Type"] == "image/jpeg"
            assert first.startswith(b"\xff\xd8\xff")
        async with session.get(f"{emulator.root_url}/t/p/w500{poster}") as resp:
            assert await resp.read() == first
        async with session.get(f"{emulator.root_url}/t/p/original{poster}") as resp:
            assert resp.status == 200 and (await resp.read()) != first  # another size, other pixels
        for bad in (f"/t/p/w500/{'A' * 27}.jpg", f"/t/p/w9999{poster}"):
            async with session.get(emulator.root_url + bad) as resp:
                assert resp.status == 404


async def test_stats_endpoint_counts_and_resets(catalog: Catalog) -> None:
    with running_emulator(catalog) as emu:
        await get(emu, "/configuration")
        await get(emu, "/genre/movie/list")
        await get(emu, "/movie/999999999")
        await get(emu, "/discover/movie", page=501)
        async with aiohttp.ClientSession() as session:
            async with session.get(emu.root_url + "/__emulator/stats") as resp:
                stats = await resp.json()
            assert stats == emu.stats()
            assert stats["requests_total"] == 4
            assert stats["by_path"] == {"configuration": 1, "genre": 1, "movie": 1, "discover": 1}
            assert stats["by_status"] == {"200": 2, "404": 1, "422": 1}
            async with session.post(emu.root_url + "/__emulator/reset") as resp:
                assert resp.status == 200
        assert emu.stats()["requests_total"] == 0 and emu.stats()["by_status"] == {}


def test_cli_arguments_build_options_and_catalog() -> None:
    import argparse

    from movie_assets.emulator.command import add_emulator_arguments, catalog_from_args, options_from_args

    parser = add_emulator_arguments(argparse.ArgumentParser())
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--movies-per-year",
            "300",
            "--seed",
            "9",
            "--rate-limit",
            "40",
            "--error-rate",
            "0.1",
            "--hang-rate",
            "0.01",
            "--drop-rate",
            "0.02",
            "--truncate-rate",
            "0.03",
            "--drift",
            "0.2",
            "--latency",
            "0.01",
            "--page-error-style",
            "documented",
            "--api-key",
            "abc",
            "--no-retry-after",
            "--image-rate-limit",
            "15",
            "--churn-poster",
            "0.3",
        ]
    )
    options, catalog = options_from_args(args), catalog_from_args(args)
    assert options.image_rate_limit == 15 and catalog.churn_rates.poster == 0.3
    assert (catalog.seed, catalog.movies_per_year, args.port) == (9, 300, 0)
    assert options.rate_limit == 40 and options.retry_after is False and options.error_rate == 0.1
    assert options.page_error_style == "documented" and options.api_keys == frozenset({"abc"})
    assert options.seed == 9 and options.drift == 0.2 and options.truncate_rate == 0.03


def test_module_entry_point_serves(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time
    import urllib.request

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "movie_assets.emulator", "--port", "0", "--movies-per-year", "200"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(url + "/configuration", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
