"""Bad-input catalogue, part 2: hostile servers and odd settings (part 1: `movie_assets_tests/test_bad_input.py`).

Kinds (each against a real aiohttp server on 127.0.0.1 started by the test, asserting what the user sees and
that no secret appears in it):
 1 ``Retry-After`` in every form: an HTTP-date with a ``-0000`` zone, ``1e12``, ``inf``, a date a year away
   (all capped by ``TMDB_RETRY_AFTER_MAX``), and junk / negative / ``nan`` (ignored: exponential backoff);
 2 a server dripping a valid body byte by byte (cut off by the attempt deadline, 4 × ``TMDB_READ_TIMEOUT``),
   for API calls and file downloads, while a slow but steady download still completes;
 3 every numeric setting nan / inf / 1e-300 / out of range, a non-numeric seed, from the environment,
   built directly and through the Dagster resource (and every setting reaching a Dagster run); a
   ``TMDB_RATE_SHARE_FILE`` that is a directory or lies under a file (the client, a Dagster step and
   ``movie-assets tmdb check`` each name the variable);
 4 ``user:pass@`` in ``TMDB_BASE_URL`` / ``TMDB_EXPORTS_BASE_URL``: redacted in errors, logs, ``repr`` and
   ``movie-assets tmdb check``;
 5 an image host answering 200 with something that is not an image (not cached), 5xx / 429 / empty bodies
   (retried by the client's policy), and no API credentials sent to it;
 6 answers without end or decompressing to gigabytes (an endless JSON body, a gzip bomb image, an endless
   export file): refused at ``TMDB_MAX_RESPONSE_MB`` / ``TMDB_MAX_DOWNLOAD_MB``, not retried;
 7 base URLs that cannot work: malformed, credentials in the URL together with a token; a server echoing the
   HTTP Basic header of ``user:pass@``; an export sent with ``Content-Encoding: gzip``.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import logging
import math
import os
import time
from pathlib import Path

import dagster as dg
import pytest
from aiohttp import web

from movie_assets.cli import main
from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.posters import cache, year_posters
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import SettingsError, TMDbSettings
from movie_assets.tmdb.errors import (
    TMDbConnectionError,
    TMDbRequestError,
    TMDbResponseTooLarge,
    TMDbUnavailable,
    display_url,
)
from movie_assets.tmdb.responses import parse_retry_after
from movie_assets.wiring.resources import TMDbResource
from movie_assets_tests.helpers import free_port, rate_limited_once, serve_handler
from movie_assets_tests.posters.images import POSTER_PNG, YEAR, poster_lake

SECRET = "hostileSECRETkey0123456789abcdef"
TOKEN = "hostileSECRETtoken.eyJhbGciOi.zz"
PASSWORD = "hostileSECRETpassword"
USERINFO = f"alice:{PASSWORD}"


def settings(base_url: str | None, **overrides) -> TMDbSettings:
    values = dict(base_url=base_url, requests_per_second=2000.0, backoff_base=0.01, backoff_max=0.02,
                  max_attempts=3, read_timeout=2.0, connect_timeout=1.0, api_key=SECRET)
    values.update(overrides)
    return TMDbSettings(**values)


def assert_clear(message: str, *needles: str) -> None:
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    for secret in (SECRET, TOKEN, PASSWORD, USERINFO):
        assert secret not in message, f"{secret!r} in {message!r}"


def with_userinfo(base_url: str) -> str:
    return base_url.replace("http://", f"http://{USERINFO}@", 1)


# 1 Retry-After ------------------------------------------------------------------------------------------
@pytest.fixture
def far_local_zone(monkeypatch):
    """This process's local zone set to UTC+9, so that a date read as local time instead of UTC shows."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def test_retry_after_http_date_with_minus_0000_zone_is_utc(far_local_zone):
    # formatdate(localtime=False) writes the zone as "-0000": parsedate_to_datetime gives a naive datetime.
    def headers(now: float) -> dict[str, str]:
        return {"Date": email.utils.formatdate(now, usegmt=True),
                "Retry-After": email.utils.formatdate(now + 1, localtime=False)}

    calls, handler = rate_limited_once(headers)
    assert headers(0)["Retry-After"].endswith("-0000")
    async with serve_handler(handler) as base_url, TMDbClient(settings(base_url)) as client:
        await asyncio.wait_for(client.popular_movies(), 10)
    assert 0.9 <= calls[1] - calls[0] < 3  # about one second: the date, read as UTC
    assert client.stats.rate_limited == 1 and client.stats.retries["429"] == 1
    assert client.stats.retry_after_capped == client.stats.retry_after_invalid == 0


@pytest.mark.parametrize("value", ["1e12", "inf", "year"], ids=["1e12", "inf", "date-a-year-away"])
async def test_huge_retry_after_waits_the_cap_and_says_so(value, caplog):
    caplog.set_level(logging.DEBUG)

    def headers(now: float) -> dict[str, str]:
        return {"Retry-After": email.utils.formatdate(now + 365 * 86400, usegmt=True) if value == "year" else value}

    calls, handler = rate_limited_once(headers)
    async with serve_handler(handler) as base_url, TMDbClient(settings(base_url, retry_after_max=0.3)) as client:
        # The retry goes through the shared bucket too: had the limiter been handed 1e12, this never returns.
        await asyncio.wait_for(client.popular_movies(), 10)
    assert 0.25 <= calls[1] - calls[0] < 3
    assert client.stats.retry_after_capped == 1 and client.stats.as_dict()["retry_after_capped"] == 1
    assert "TMDB_RETRY_AFTER_MAX=0.3" in caplog.text


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "", "Wed, 99 Oct 2015 07:28:00 GMT"])
async def test_unusable_retry_after_falls_back_to_backoff(value):
    calls, handler = rate_limited_once(lambda now: {"Retry-After": value})
    async with serve_handler(handler) as base_url, TMDbClient(settings(base_url)) as client:
        await asyncio.wait_for(client.popular_movies(), 10)
    assert calls[1] - calls[0] < 1.5  # backoff of at most 0.02 s (plus the bucket), not a long wait
    assert client.stats.retry_after_invalid == 1 and client.stats.retries["429"] == 1


async def test_endless_429_with_infinite_retry_after_ends_in_a_typed_error_soon():
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"status_code": 25, "status_message": "over the limit", "success": False},
                                 status=429, headers={"Retry-After": "inf"})

    started = time.monotonic()
    async with serve_handler(handler) as base_url:
        async with TMDbClient(settings(base_url, retry_after_max=0.2, max_attempts=3)) as client:
            with pytest.raises(TMDbUnavailable) as caught:
                await asyncio.wait_for(client.popular_movies(), 20)
    assert time.monotonic() - started < 10
    assert_clear(str(caught.value), "after 3 attempts", "HTTP 429")
    assert client.stats.retry_after_capped == 3


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0", 0.0), ("2.5", 2.5), ("1e12", 1e12), ("inf", math.inf), ("-1", None), ("nan", None),
     ("junk", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("Wed, 21 Oct 2015 07:28:30 -0000", 30.0),
     ("Wed, 21 Oct 2015 09:28:10 +0200", 10.0)],
)
def test_parse_retry_after_forms(header, expected, far_local_zone):
    # An HTTP-date is measured against the response's own Date (the server's clock).
    headers = {"Retry-After": header, "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert parse_retry_after(headers) == expected


# 2 slow drip -----------------------------------------------------------------------------------------------
def dripping(body: bytes, every: float, content_type: str = "application/json"):
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": content_type, "Content-Length": str(len(body))})
        await resp.prepare(request)
        try:
            for i in range(len(body)):
                await resp.write(body[i:i + 1])
                await asyncio.sleep(every)
        except ConnectionError:  # the client gave up: that is the point
            pass
        return resp

    return handler


async def test_slow_drip_body_is_cut_off_by_the_attempt_deadline():
    body = b'{"page": 1, "results": [], "total_pages": 0, "total_results": 0}'  # 20 s at 10 bytes/s
    started = time.monotonic()
    async with serve_handler(dripping(body, 0.1)) as base_url:
        async with TMDbClient(settings(base_url, read_timeout=0.3, max_attempts=2)) as client:
            with pytest.raises(TMDbUnavailable) as caught:
                await client.popular_movies()
    elapsed = time.monotonic() - started
    assert 2 * 1.2 <= elapsed < 8  # two attempts of 4 × 0.3 s each, never the 13 s the body would take
    assert_clear(str(caught.value), "after 2 attempts", "within 1.2 s (4 × TMDB_READ_TIMEOUT)")
    assert client.stats.retries["timeout"] == 1


async def test_slow_drip_download_is_cut_off_but_a_slow_steady_one_completes(tmp_path):
    chunk = 1 << 16

    async def steady(request: web.Request) -> web.StreamResponse:
        # 20 × 64 KiB, one every 0.15 s: 3 s in all, longer than the 2 s deadline, yet always moving.
        resp = web.StreamResponse(headers={"Content-Length": str(20 * chunk)})
        await resp.prepare(request)
        for _ in range(20):
            await resp.write(b"x" * chunk)
            await asyncio.sleep(0.15)
        return resp

    async with serve_handler(steady) as base_url:
        async with TMDbClient(settings(base_url, read_timeout=0.5)) as client:
            done = await client.download(base_url + "/big.json.gz", tmp_path / "big")
    assert done.size == 20 * chunk and client.stats.retries == {}

    async with serve_handler(dripping(b"x" * 1000, 0.05)) as base_url:
        async with TMDbClient(settings(base_url, read_timeout=0.3, max_attempts=2)) as client:
            with pytest.raises(TMDbUnavailable) as caught:
                await client.download(with_userinfo(base_url) + "/drip.json.gz", tmp_path / "drip")
    assert_clear(str(caught.value), "within 1.2 s", "http://***@127.0.0.1")


# 3 settings ----------------------------------------------------------------------------------------------
NUMERIC = [f for f in TMDbSettings.fields() if f.metadata["bounds"]]


def _bad_values(f) -> list[str]:
    low, high = f.metadata["bounds"]
    values = ["nan", "inf", "-inf", repr(high * 10 if high > 0 else high + 1), "-1"]
    if low > 0:
        values.append("1e-300")
    return values


BAD_SETTINGS = [(f.metadata["env"], v) for f in NUMERIC for v in _bad_values(f)] + [
    ("TMDB_EMULATOR_SEED", "abc"), ("TMDB_MAX_ATTEMPTS", "2.5"), ("TMDB_REQUESTS_PER_SECOND", "1e-300"),
]


@pytest.mark.parametrize(("name", "raw"), BAD_SETTINGS, ids=[f"{n}={v}" for n, v in BAD_SETTINGS])
def test_bad_numeric_setting_is_refused_naming_the_variable_and_value(name, raw):
    if name == "TMDB_EMULATOR_SEED" and raw == "-1":
        pytest.skip("a negative seed is a valid seed")
    with pytest.raises(SettingsError) as caught:
        TMDbSettings.from_mapping({name: raw, "TMDB_API_KEY": SECRET, "TMDB_BASE_URL": f"http://{USERINFO}@h/3"})
    message = str(caught.value)
    assert_clear(message, name)
    assert raw.lstrip("-") in message or repr(float(raw)) in message or str(float(raw)) in message


@pytest.mark.parametrize("f", NUMERIC, ids=[f.metadata["env"] for f in NUMERIC])
def test_bad_numeric_setting_is_refused_when_built_directly_and_by_the_dagster_resource(f):
    name = f.metadata["env"]
    nan_message = f"{name}=nan is not a valid int" if f.type == "int" else f"{name} must be a finite number, got nan"
    with pytest.raises(SettingsError, match=nan_message):
        TMDbSettings(**{f.name: math.nan})
    with pytest.raises(SettingsError, match=name):
        TMDbSettings(**{f.name: f.metadata["bounds"][1] * 10 + 1})
    resource = TMDbResource(**{f.name: math.nan}) if f.type != "int" else None
    if resource is not None:
        with pytest.raises(SettingsError, match=name):
            resource.settings()
    with pytest.raises(SettingsError, match=f"{name}='abc' is not a valid"):
        TMDbSettings(**{f.name: "abc"})


def test_a_bad_setting_fails_the_dagster_step_naming_the_variable():
    @dg.asset
    async def probe(tmdb: TMDbResource) -> None:
        async with tmdb.client():
            pass

    result = dg.materialize([probe], resources={"tmdb": TMDbResource(requests_per_second=1e-300)},
                            raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert "TMDB_REQUESTS_PER_SECOND must be in range (0.01 to 10000), got 1e-300" in str(
        failure.event_specific_data.error)


def test_every_setting_reaches_dagster_runs_through_the_resource(monkeypatch):
    non_defaults = {
        "TMDB_BASE_URL": "http://127.0.0.1:9/3", "TMDB_READ_ACCESS_TOKEN": TOKEN, "TMDB_API_KEY": SECRET,
        "TMDB_EXPORTS_BASE_URL": f"http://{USERINFO}@127.0.0.1:9/p/exports", "TMDB_REQUESTS_PER_SECOND": "12.5",
        "TMDB_MAX_CONNECTIONS": "7", "TMDB_MAX_ATTEMPTS": "4", "TMDB_CONNECT_TIMEOUT": "4.5",
        "TMDB_READ_TIMEOUT": "21", "TMDB_BACKOFF_BASE": "0.25", "TMDB_BACKOFF_MAX": "9",
        "TMDB_RETRY_AFTER_MAX": "17", "TMDB_LANGUAGE": "fr-FR", "TMDB_EMULATOR_MOVIES_PER_YEAR": "123",
        "TMDB_EMULATOR_SEED": "5", "TMDB_MAX_RESPONSE_MB": "3", "TMDB_MAX_DOWNLOAD_MB": "99",
        "TMDB_RATE_SHARE_FILE": "/srv/shared/tmdb-rate", "TMDB_IMAGE_REQUESTS_PER_SECOND": "33",
    }
    assert set(non_defaults) == {f.metadata["env"] for f in TMDbSettings.fields()}  # a new setting is listed here
    for name, value in non_defaults.items():
        monkeypatch.setenv(name, value)
    expected = TMDbSettings.from_mapping(non_defaults)
    assert all(getattr(expected, f.name) != f.default for f in TMDbSettings.fields())
    seen: list[TMDbSettings] = []

    @dg.asset
    def probe(tmdb: TMDbResource) -> None:
        seen.append(tmdb.settings())

    resource = TMDbResource.from_environment()
    assert PASSWORD not in repr(resource) and SECRET not in repr(resource)
    assert dg.materialize([probe], resources={"tmdb": resource}).success
    assert seen == [expected]


@pytest.fixture
def unusable_share_files(tmp_path) -> list[str]:
    """A directory, a path under a regular file, and a file every write to fails as on a full disk."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return [str(tmp_path), str(blocker / "tmdb-rate"), *(["/dev/full"] if Path("/dev/full").exists() else [])]


async def test_a_rate_share_file_that_fails_later_is_a_settings_error_not_an_os_error(tmp_path, monkeypatch):
    """The disk fills up (or the lock is refused) after the client opened the file: the request fails with the
    setting named, not with a bare OSError and a traceback."""
    from movie_assets.tmdb import shared_rate

    async with TMDbClient(settings("http://127.0.0.1:9/3", rate_share_file=str(tmp_path / "rate"))) as client:
        def full(*args):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(shared_rate.os, "pwrite", full)
        with pytest.raises(SettingsError) as caught:
            await client.get("/configuration")
        assert_clear(str(caught.value), "TMDB_RATE_SHARE_FILE=", "No space left on device")
        with pytest.raises(SettingsError):
            client._rate_limited({"Retry-After": "5"}, "HTTP 429")  # a 429 pauses the shared schedule too


async def test_an_unusable_rate_share_file_is_refused_naming_the_setting(unusable_share_files):
    for path in unusable_share_files:
        with pytest.raises(SettingsError) as caught:
            async with TMDbClient(settings("http://127.0.0.1:9/3", rate_share_file=path)):
                pass
        assert_clear(str(caught.value), f"TMDB_RATE_SHARE_FILE={path!r} cannot be used", "or set it to off")


def test_an_unusable_rate_share_file_fails_the_dagster_step_and_tmdb_check(unusable_share_files, clean_env,
                                                                           capsys):
    @dg.asset
    async def probe(tmdb: TMDbResource) -> None:
        async with tmdb.client():
            pass

    resource = TMDbResource(base_url="http://127.0.0.1:9/3", api_key=SECRET, rate_share_file=unusable_share_files[0])
    result = dg.materialize([probe], resources={"tmdb": resource}, raise_on_error=False)
    assert not result.success
    assert_clear(str(result.get_step_failure_events()[0].event_specific_data.error), "TMDB_RATE_SHARE_FILE=")
    clean_env.setenv("TMDB_BASE_URL", with_userinfo("http://127.0.0.1:9/3"))
    clean_env.setenv("TMDB_API_KEY", SECRET)
    clean_env.setenv("TMDB_RATE_SHARE_FILE", unusable_share_files[1])
    assert main(["tmdb", "check"]) == 2
    assert_clear(capsys.readouterr().err, "error: TMDB_RATE_SHARE_FILE=", "cannot be used to share the request rate")


# 4 credentials in URLs -------------------------------------------------------------------------------------
async def test_userinfo_in_base_url_is_redacted_in_errors_logs_and_repr(caplog):
    caplog.set_level(logging.DEBUG)
    down = with_userinfo(f"http://127.0.0.1:{free_port()}/3")
    async with TMDbClient(settings(down, max_attempts=2)) as client:
        assert_clear(repr(client), "http://***@127.0.0.1")
        with pytest.raises(TMDbConnectionError) as caught:
            await client.popular_movies()
    assert_clear(str(caught.value), "cannot connect to http://***@127.0.0.1", "check TMDB_BASE_URL")
    assert_clear(caplog.text)

    async def not_an_api(request: web.Request) -> web.Response:
        return web.Response(text="<html>not here</html>", status=404, content_type="text/html")

    async with serve_handler(not_an_api) as base_url:
        async with TMDbClient(settings(with_userinfo(base_url) + "?api_key=" + SECRET)) as client:
            with pytest.raises(TMDbRequestError) as caught:
                await client.popular_movies()
    assert_clear(str(caught.value), "TMDB_BASE_URL=http://***@127.0.0.1")
    with pytest.raises(SettingsError) as caught:
        TMDbSettings(base_url=f"ftp://{USERINFO}@example.org/3")
    assert_clear(str(caught.value), "TMDB_BASE_URL='ftp://***@example.org/3'")
    assert display_url(f"http://{USERINFO}@h/3?x=1&api_key={SECRET}") == "http://***@h/3?x=1&api_key=***"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for f in TMDbSettings.fields():
        monkeypatch.delenv(f.metadata["env"], raising=False)
    monkeypatch.setenv("MOVIE_ASSETS_DATA_DIR", str(tmp_path / "data"))  # the shared-rate file goes there
    monkeypatch.setattr("movie_assets.cli.load_env_file", lambda: None)
    return monkeypatch


def test_tmdb_check_shows_base_urls_without_userinfo(clean_env, capsys):
    options = EmulatorOptions(api_keys={SECRET})
    with running_emulator(catalog=Catalog(seed=3, movies_per_year=300), options=options) as emu:
        clean_env.setenv("TMDB_BASE_URL", with_userinfo(emu.base_url))
        clean_env.setenv("TMDB_API_KEY", SECRET)
        assert main(["tmdb", "check"]) == 0
    out = capsys.readouterr().out
    assert_clear(out, "TMDb reachable at http://***@127.0.0.1")

    clean_env.setenv("TMDB_BASE_URL", with_userinfo(f"http://127.0.0.1:{free_port()}/3"))
    assert main(["tmdb", "check", "--attempts", "1"]) == 1
    err = capsys.readouterr().err
    assert_clear(err, "error: ", "http://***@127.0.0.1", "TMDB_BASE_URL")


# 5 image hosts ------------------------------------------------------------------------------------------
async def test_poster_200_that_is_not_an_image_is_not_cached(tmp_path):
    calls = []

    async def proxy_page(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.Response(text="<!doctype html><p>Please log in</p>", content_type="text/html")

    lake = poster_lake(tmp_path, {1: "/p.jpg"})
    async with serve_handler(proxy_page) as base_url, TMDbClient(settings(base_url)) as client:
        result = await year_posters.fetch_year_posters(lake, YEAR, client, concurrency=1,
                                                       image_base=base_url.rsplit("/3", 1)[0] + "/t/p/")
    [row] = result.table.to_pylist()
    assert row["status"] == "not_image" and len(calls) == 1  # not retried: it will not change
    assert_clear(row["reason"], "no JPEG, PNG, GIF or WebP", "<!doctype")
    assert not cache.poster_file(lake, "/p.jpg").exists() and not list(lake.posters_dir.rglob("*.jpg"))


async def test_poster_fetch_uses_the_client_retry_policy_without_api_credentials(tmp_path):
    answers = [web.Response(status=503),
               web.json_response({"status_code": 25, "status_message": "slow down"}, status=429,
                                 headers={"Retry-After": "0.1"}),
               web.Response(body=b"", content_type="image/png"),
               web.Response(body=POSTER_PNG, content_type="image/png")]
    seen = []

    async def flaky(request: web.Request) -> web.Response:
        seen.append((request.headers.get("Authorization"), request.query.get("api_key"),
                     request.headers.get("Accept")))
        return answers[len(seen) - 1]

    lake = poster_lake(tmp_path, {1: "/p.png"})
    async with serve_handler(flaky) as base_url:
        async with TMDbClient(settings(base_url, read_access_token=TOKEN, max_attempts=4)) as client:
            result = await year_posters.fetch_year_posters(lake, YEAR, client, concurrency=1,
                                                           image_base=base_url.rsplit("/3", 1)[0] + "/t/p/")
    assert result.counts() == {"ok": 1} and result.downloaded == 1, result.table.to_pylist()
    assert cache.poster_file(lake, "/p.png").read_bytes() == POSTER_PNG
    assert dict(client.stats.retries) == {"5xx": 1, "429": 1, "empty": 1} and client.stats.rate_limited == 1
    assert seen == [(None, None, "image/*")] * 4


# 6 answers without end ----------------------------------------------------------------------------------
def endless(prefix: bytes, content_type: str = "application/json", *, headers: dict | None = None):
    """A handler streaming ``prefix`` and then 1 MiB chunks for ever; counts the requests it served."""
    served: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        served.append(1)
        response = web.StreamResponse(headers={"Content-Type": content_type, **(headers or {})})
        await response.prepare(request)
        await response.write(prefix)
        chunk = b" " * (1 << 20)
        while True:
            await response.write(chunk)

    return served, handler


async def test_an_endless_api_answer_is_refused_at_the_size_limit_not_retried():
    served, handler = endless(b'{"page": 1, "results": [')
    async with serve_handler(handler) as base:
        async with TMDbClient(settings(base, max_response_mb=2.0)) as client:
            started = time.monotonic()
            with pytest.raises(TMDbResponseTooLarge) as info:
                await client.get("/discover/movie")
    assert_clear(str(info.value), "TMDB_MAX_RESPONSE_MB", "2 MiB")
    assert len(served) == 1 and time.monotonic() - started < 10


async def test_a_gzip_bomb_image_is_refused_at_the_size_limit(tmp_path):
    import gzip

    bomb = gzip.compress(b"\xff\xd8\xff" + b"\0" * (64 << 20))  # 64 MiB of "JPEG" in ~64 KiB

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Type": "image/jpeg", "Content-Encoding": "gzip"})

    async with serve_handler(handler) as base:
        async with TMDbClient(settings(base, max_response_mb=8.0)) as client:
            with pytest.raises(TMDbResponseTooLarge, match="TMDB_MAX_RESPONSE_MB"):
                await client.get_bytes(base + "/t/p/w185/bomb.jpg")


async def test_an_endless_export_is_refused_at_the_download_limit(tmp_path):
    served, handler = endless(b"\x1f\x8b", "application/gzip")
    target = tmp_path / "export.json.gz"
    async with serve_handler(handler) as base:
        async with TMDbClient(settings(base, max_download_mb=3.0)) as client:
            with pytest.raises(TMDbResponseTooLarge, match="TMDB_MAX_DOWNLOAD_MB"):
                await client.download(base + "/p/exports/movie_ids_11_26_2026.json.gz", target)
    assert len(served) == 1 and target.stat().st_size <= (3 << 20) + (1 << 16)


# 7 base URLs that cannot work ----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://a:b@[::1/3", "http://host:port/3", "http:///3", "ftp://host/3"])
def test_a_malformed_base_url_is_refused_naming_the_setting(url):
    with pytest.raises(SettingsError) as info:
        TMDbSettings.from_mapping({"TMDB_BASE_URL": url})
    assert "TMDB_BASE_URL" in str(info.value) and "b@" not in str(info.value)


def test_credentials_in_the_url_and_a_token_are_refused_together():
    with pytest.raises(SettingsError) as info:
        TMDbSettings(base_url=f"http://{USERINFO}@127.0.0.1:9/3", read_access_token=TOKEN)
    assert_clear(str(info.value), "TMDB_BASE_URL", "TMDB_READ_ACCESS_TOKEN", "***@127.0.0.1:9")


async def test_a_server_echoing_the_basic_auth_header_does_not_leak_the_password():
    async def handler(request: web.Request) -> web.Response:
        echoed = request.headers.get("Authorization", "")
        return web.json_response({"status_code": 3, "status_message": f"denied: {echoed}", "success": False},
                                 status=403)

    async with serve_handler(handler) as base:
        async with TMDbClient(settings(with_userinfo(base), api_key=None)) as client:
            with pytest.raises(TMDbRequestError) as info:
                await client.get("/configuration")
    import base64

    assert base64.b64encode(USERINFO.encode()).decode() not in str(info.value)
    assert_clear(str(info.value), "denied: Basic ***")


async def test_an_export_sent_with_content_encoding_gzip_is_stored_as_sent(tmp_path):
    import gzip

    raw = gzip.compress(b'{"id": 1, "original_title": "A", "popularity": 1.0, "adult": false, "video": false}\n')
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Accept-Encoding", ""))
        encoding = {} if request.headers.get("Accept-Encoding") == "identity" else {"Content-Encoding": "gzip"}
        return web.Response(body=raw, headers={"Content-Type": "application/gzip", **encoding})

    target = tmp_path / "movie_ids.json.gz"
    async with serve_handler(handler) as base:
        async with TMDbClient(settings(base)) as client:
            await client.download(base + "/p/exports/movie_ids.json.gz", target)
    assert seen == ["identity"] and target.read_bytes() == raw
