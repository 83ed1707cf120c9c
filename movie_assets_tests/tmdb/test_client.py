"""The TMDb client against the emulator (and a few hand-made servers) over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time

import pytest
from aiohttp import web

from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.tmdb.errors import (
    TMDbAuthError,
    TMDbConnectionError,
    TMDbNotFound,
    TMDbPageLimitError,
    TMDbRequestError,
    TMDbUnavailable,
)
from movie_assets.tmdb.ratelimit import AdaptiveRateLimiter
from movie_assets_tests.helpers import free_port, rate_limited_once, serve_handler

SMALL = Catalog(seed=7, movies_per_year=400)
FAKE_KEY = "0123456789abcdef0123456789abcdef"
FAKE_TOKEN = "eyFAKE.tokenvalue-do-not-log-1234567890"
SMALL_DATE = dt.date(2024, 1, 1)


def settings_for(base_url: str, **overrides) -> TMDbSettings:
    values = dict(base_url=base_url, requests_per_second=500, max_attempts=5, backoff_base=0.01,
                  backoff_max=0.05, read_timeout=2.0, connect_timeout=1.0)
    values.update(overrides)
    return TMDbSettings(**values)


async def popular_ids(client: TMDbClient, n: int) -> list[dict]:
    return await asyncio.gather(*(client.popular_movies(page=1 + i % 5) for i in range(n)))


async def test_throttle_matches_server_limit_without_429():
    rate = 40.0
    with running_emulator(catalog=SMALL, options=EmulatorOptions(rate_limit=rate)) as emu:
        async with TMDbClient(settings_for(emu.base_url, requests_per_second=rate)) as client:
            started = time.monotonic()
            await popular_ids(client, 60)
            elapsed = time.monotonic() - started
    assert client.stats.rate_limited == 0
    assert client.stats.requests == 60
    assert elapsed >= (60 - 1) / rate * 0.98  # never faster than the bucket allows


async def test_connection_cap_is_respected():
    in_flight = peak = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return web.json_response({"page": 1, "results": [], "total_pages": 0, "total_results": 0})

    async with serve_handler(handler) as base_url:
        async with TMDbClient(settings_for(base_url, max_connections=4, requests_per_second=1000)) as client:
            await popular_ids(client, 40)
    assert peak == 4


async def test_429_waits_retry_after_then_succeeds():
    calls, handler = rate_limited_once(lambda now: {"Retry-After": "1"})
    async with serve_handler(handler) as base_url, TMDbClient(settings_for(base_url)) as client:
        await client.popular_movies()
        assert client.limiter.rate < client.limiter.target_rate  # bucket slowed down
    assert calls[1] - calls[0] >= 0.95
    assert client.stats.rate_limited == 1 and client.stats.retries["429"] == 1


async def test_429_without_retry_after_backs_off_and_recovers():
    options = EmulatorOptions(rate_limit=20, retry_after=False, seed=3)
    with running_emulator(catalog=SMALL, options=options) as emu:
        settings = settings_for(emu.base_url, requests_per_second=200, max_attempts=10, backoff_base=0.1,
                                backoff_max=1.0)
        async with TMDbClient(settings) as client:
            results = await popular_ids(client, 60)
    assert len(results) == 60 and all("results" in r for r in results)
    assert client.stats.rate_limited > 0


@pytest.mark.parametrize(
    "fault",
    [dict(error_rate=0.3), dict(drop_rate=0.2), dict(truncate_rate=0.2), dict(hang_rate=0.1, hang_seconds=5)],
    ids=["5xx", "drop", "truncated", "hang"],
)
async def test_transient_faults_are_retried(fault):
    options = EmulatorOptions(seed=11, **fault)
    with running_emulator(catalog=SMALL, options=options) as emu:
        settings = settings_for(emu.base_url, read_timeout=0.5, max_attempts=8)
        async with TMDbClient(settings) as client:
            ids = [m["id"] for m in (await client.popular_movies())["results"]]
            details = await asyncio.gather(*(client.movie_details(i) for i in ids))
        injected = sum(emu.stats()["faults"].values())
    assert [d.data["id"] for d in details] == ids
    assert all(d.data["credits"] is not None for d in details)
    assert injected > 0  # the faults happened, and every answer is still right
    # aiohttp itself resends an idempotent request once when a reused connection is dropped, so a dropped
    # connection is not always one of our retries; every other fault is.
    assert sum(client.stats.retries.values()) > 0 or "drop_rate" in fault


async def test_retries_are_bounded_then_typed_error():
    with running_emulator(catalog=SMALL, options=EmulatorOptions(error_rate=1.0)) as emu:
        async with TMDbClient(settings_for(emu.base_url, max_attempts=3)) as client:
            with pytest.raises(TMDbUnavailable, match="after 3 attempts"):
                await client.popular_movies()
    assert client.stats.requests == 3 and client.stats.retries["5xx"] == 2


async def test_401_fails_fast_naming_the_setting_without_the_secret(caplog):
    caplog.set_level(logging.DEBUG)
    with running_emulator(catalog=SMALL, options=EmulatorOptions(api_keys={"the-right-key"})) as emu:
        async with TMDbClient(settings_for(emu.base_url, api_key=FAKE_KEY)) as client:
            with pytest.raises(TMDbAuthError) as caught:
                await client.popular_movies()
    assert client.stats.requests == 1
    message = str(caught.value)
    assert "TMDB_API_KEY" in message and FAKE_KEY not in message
    assert FAKE_KEY not in caplog.text


async def test_bearer_token_is_sent_and_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    options = EmulatorOptions(tokens={FAKE_TOKEN}, error_rate=0.3, seed=5)
    with running_emulator(catalog=SMALL, options=options) as emu:
        settings = settings_for(emu.base_url, read_access_token=FAKE_TOKEN, max_attempts=10)
        async with TMDbClient(settings) as client:
            await popular_ids(client, 10)
            assert FAKE_TOKEN not in repr(client) and FAKE_TOKEN not in repr(settings)
    assert client.stats.retries["5xx"] > 0
    assert FAKE_TOKEN not in caplog.text


async def test_api_key_never_appears_in_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    with running_emulator(catalog=SMALL, options=EmulatorOptions(api_keys={FAKE_KEY}, error_rate=1.0)) as emu:
        async with TMDbClient(settings_for(emu.base_url, api_key=FAKE_KEY, max_attempts=2)) as client:
            with pytest.raises(TMDbUnavailable) as caught:
                await client.movie_details(1)
    assert FAKE_KEY not in str(caught.value) and FAKE_KEY not in caplog.text


async def test_unknown_movie_is_not_found_and_not_retried():
    with running_emulator(catalog=SMALL) as emu:
        async with TMDbClient(settings_for(emu.base_url)) as client:
            with pytest.raises(TMDbNotFound):
                await client.movie_details(999_999_999)
    assert client.stats.requests == 1 and client.stats.not_found == 1


@pytest.mark.parametrize("style", ["live", "documented"])
async def test_page_cap_is_a_typed_error_in_both_forms(style):
    with running_emulator(catalog=SMALL, options=EmulatorOptions(page_error_style=style)) as emu:
        async with TMDbClient(settings_for(emu.base_url)) as client:
            with pytest.raises(TMDbPageLimitError):
                await client.get("/discover/movie", {"page": 501})
            with pytest.raises(TMDbPageLimitError):
                await client.discover_movies(gte=SMALL_DATE, lte=SMALL_DATE, page=501)


async def test_success_false_under_200_is_an_error():
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"status_code": 21, "status_message": "Entry not found.", "success": False})

    async with serve_handler(handler) as base_url, TMDbClient(settings_for(base_url)) as client:
        with pytest.raises(TMDbRequestError, match="Entry not found"):
            await client.popular_movies()


async def test_wrong_base_url_names_the_setting():
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="<html>not here</html>", status=404, content_type="text/html")

    async with serve_handler(handler) as base_url, TMDbClient(settings_for(base_url)) as client:
        with pytest.raises(TMDbRequestError, match="TMDB_BASE_URL"):
            await client.popular_movies()


async def test_unreachable_host_is_a_connection_error():
    port = free_port()
    async with TMDbClient(settings_for(f"http://127.0.0.1:{port}/3", max_attempts=2)) as client:
        with pytest.raises(TMDbConnectionError, match="TMDB_BASE_URL"):
            await client.popular_movies()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_halves_once_per_burst_and_recovers_additively_in_time():
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(40, recovery_seconds=20, cooldown=1.0, clock=clock)
    limiter.penalize()
    limiter.penalize()  # a burst of 429s from requests already in flight counts once
    assert limiter.rate == 20
    for _ in range(6):  # 6 more seconds of 429s, one halving each: down to the floor
        clock.now += 1.0
        limiter.penalize()
    assert limiter.rate == limiter.min_rate == 0.5
    # Successes at whatever request rate: +target/recovery_seconds per second, so back at 40 within 20 s.
    for _ in range(1000):  # a burst of simultaneous successes earns nothing by itself
        limiter.record_success()
    assert limiter.rate == 0.5
    seconds = 0.0
    while limiter.rate < limiter.target_rate:
        clock.now += 0.25
        seconds += 0.25
        limiter.record_success()
        assert limiter.rate <= limiter.target_rate
    assert seconds <= 20.0
    assert limiter.rate == 40


def test_rate_limiter_credits_no_idle_time_and_restarts_after_each_429():
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(40, recovery_seconds=20, clock=clock)
    limiter.penalize()
    clock.now += 3600  # an hour without requests is no evidence the server takes more
    limiter.record_success()
    assert limiter.rate == 20 + limiter.step_per_second * limiter.max_credit
    clock.now += 0.5
    limiter.penalize()  # a new 429 after the cooldown: halves again
    assert limiter.rate == (20 + 2.0) / 2
    clock.now += 0.5
    limiter.record_success()  # the credit counts from the latest 429, not from the last success
    assert limiter.rate == 11 + 0.5 * limiter.step_per_second


def test_settings_from_env_validate_and_hide_secrets():
    env = {"TMDB_API_KEY": FAKE_KEY, "TMDB_REQUESTS_PER_SECOND": "12"}
    settings = TMDbSettings.from_mapping(env)
    assert settings.effective_rps == 12 and not settings.uses_emulator
    assert FAKE_KEY not in repr(settings)
    assert TMDbSettings.from_mapping({}).uses_emulator
    with pytest.raises(ValueError, match="TMDB_REQUESTS_PER_SECOND"):
        TMDbSettings.from_mapping({"TMDB_REQUESTS_PER_SECOND": "fast"})
    with pytest.raises(ValueError, match="TMDB_BASE_URL"):
        dataclasses.replace(settings, base_url="api.themoviedb.org")
