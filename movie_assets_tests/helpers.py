"""Small test utilities: free ports and one-handler HTTP servers on loopback."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable

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
