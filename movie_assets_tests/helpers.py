"""Small test utilities: free ports and one-handler HTTP servers on loopback."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from aiohttp import web

from movie_assets.common.network import free_loopback_port


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    return free_loopback_port()


@contextlib.asynccontextmanager
async def serve_handler(handler) -> AsyncIterator[str]:
    """Serve every GET with ``handler`` on a free loopback port; yield a TMDb-style base URL."""
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/3"
    finally:
        await runner.cleanup()


EMPTY_PAGE = {"page": 1, "results": [], "total_pages": 0, "total_results": 0}


def rate_limited_once(headers: Callable[[float], dict]) -> tuple[list[float], object]:
    """A handler answering TMDb's 429 (with ``headers(now)``, e.g. a ``Retry-After``) once, then an empty page;
    and the list of the monotonic times it was called at."""
    calls: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            body = {"status_code": 25, "status_message": "Your request count (#) is over the allowed limit of (40).",
                    "success": False}
            return web.json_response(body, status=429, headers=headers(time.time()))
        return web.json_response(EMPTY_PAGE)

    return calls, handler


@contextlib.contextmanager
def instance_of(env: dict[str, str]) -> Iterator:
    """A `DagsterInstance` on ``env``'s ``$DAGSTER_HOME`` and ``DAGSTER_*`` settings (Dagster reads the variables
    when it builds the storage, so they are set for the duration)."""
    from dagster import DagsterInstance

    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("DAGSTER_")})
    try:
        with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            yield instance
    finally:
        os.environ.clear()
        os.environ.update(saved)


def wait_for(condition: Callable, timeout: float, what: str, logs: Path | None = None):
    """``condition()``'s first true value, asked every second; after ``timeout`` seconds an AssertionError with
    the tail of ``logs`` (a log file, or a folder of ``*.log`` files)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1.0)
    files = sorted(logs.glob("*.log")) if logs is not None and logs.is_dir() else [logs] if logs else []
    tails = "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}" for f in files if f.exists())
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")
