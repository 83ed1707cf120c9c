"""The emulator's middleware: request stats, then for API paths rate limiting, auth, latency and faults, and
for the image host (``/t/p/``) its own rate limit (`EmulatorOptions.image_rate_limit`) and image counters.

Every ``/3/...`` request gets a sequence number ``n``; all per-request fault decisions are drawn from
``mix64(options.seed, n, ...)``, so a given request order always yields the same faults. Order of
checks for an API request: rate limit (429) → auth (401) → latency → injected fault → handler.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
from aiohttp import web

from .hashing import mix64, unit
from .options import EmulatorOptions
from .protocol import ERR_INVALID_KEY, ERR_RATE, SERVER_ERRORS, BadParam, json_headers, tmdb_error
from .state import STATE_KEY, AppState


class TokenBucket:
    """A plain token bucket (monotonic clock); `take` returns None or the seconds until a token frees up."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now

    def take(self, now: float) -> float | None:
        """Consume one token at time ``now`` if available."""
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


class _Dropped(Exception):
    """Raised after the connection has been aborted on purpose."""


def _path_kind(path: str) -> str:
    if path.startswith("/t/p/"):
        return "images"
    if path.startswith("/p/exports/"):
        return "exports"
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "3":
        return "other"
    if parts[2] == "movie" and len(parts) > 3:
        return {"popular": "popular", "changes": "changes"}.get(parts[3], "movie")
    return {
        "discover": "discover",
        "configuration": "configuration",
        "genre": "genre",
        "authentication": "authentication",
    }.get(parts[2], "other")


def _authorized(request: web.Request, options: EmulatorOptions) -> bool:
    if not options.api_keys and not options.tokens:
        return True
    if request.query.get("api_key") in options.api_keys:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.strip() in options.tokens


def _rate_limited(request: web.Request, options: EmulatorOptions, wait: float) -> web.Response:
    response = tmdb_error(request, ERR_RATE)
    if options.retry_after:
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


async def _image_request(request: web.Request, handler: Any, state: AppState) -> web.StreamResponse:
    rate = state.options.image_rate_limit
    if rate is not None:
        now = asyncio.get_running_loop().time()
        if state.image_bucket is None:
            state.image_bucket = TokenBucket(rate, max(1.0, rate), now)
        wait = state.image_bucket.take(now)
        if wait is not None:
            state.stats.image(429)
            return _rate_limited(request, state.options, wait)
    response = await handler(request)
    state.stats.image(response.status)
    return response


async def _api_request(request: web.Request, handler: Any, state: AppState) -> web.StreamResponse:
    options = state.options
    state.request_seq += 1
    n = state.request_seq
    if options.rate_limit is not None:
        now = asyncio.get_running_loop().time()
        if state.bucket is None:
            burst = options.rate_limit_burst or max(1.0, options.rate_limit)
            state.bucket = TokenBucket(options.rate_limit, burst, now)
        wait = state.bucket.take(now)
        if wait is not None:
            state.stats.fault("rate_limited")
            return _rate_limited(request, options, wait)
    if not _authorized(request, options):
        state.stats.fault("unauthorized")
        return tmdb_error(request, ERR_INVALID_KEY)
    if options.latency or options.latency_jitter:
        await asyncio.sleep(options.latency + options.latency_jitter * unit(options.seed, n, 1))
    u = unit(options.seed, n, 0)
    edges = np.cumsum([options.error_rate, options.hang_rate, options.drop_rate, options.truncate_rate])
    if u < edges[0]:
        state.stats.fault("error")
        return tmdb_error(request, SERVER_ERRORS[mix64(options.seed, n, 2) % len(SERVER_ERRORS)])
    if u < edges[1]:
        state.stats.fault("hang")
        await asyncio.sleep(options.hang_seconds)
    elif u < edges[2]:
        state.stats.fault("drop")
        if request.transport is not None:
            request.transport.abort()
        raise _Dropped
    try:
        response = await handler(request)
    except BadParam as exc:
        response = exc.response
    if edges[2] <= u < edges[3] and isinstance(response, web.Response) and response.body:
        state.stats.fault("truncate")
        body = bytes(response.body)
        cut = body[: max(1, len(body) // 2)]
        response = web.Response(body=cut, status=response.status, headers=json_headers(state, body, 14400))
    return response


@web.middleware
async def emulator_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Stats, rate limiting, auth and fault injection (faults only on ``/3/`` paths)."""
    state = request.app[STATE_KEY]
    if request.path.startswith("/__emulator/"):
        return await handler(request)
    state.stats.request(_path_kind(request.path))
    try:
        if request.path.startswith("/3/"):
            response = await _api_request(request, handler, state)
        elif request.path.startswith("/t/p/"):
            response = await _image_request(request, handler, state)
        else:
            response = await handler(request)
    except _Dropped:
        raise asyncio.CancelledError from None  # connection already aborted: nothing to send
    except web.HTTPException as exc:
        state.stats.status(exc.status)
        raise
    state.stats.status(response.status)
    return response
