"""Run the emulator: in-process on a background thread (`running_emulator`) or blocking (`serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from movie_assets.common.network import free_loopback_port

from .catalog import Catalog
from .options import EmulatorOptions
from .server import build_app
from .state import app_state


@dataclass
class RunningEmulator:
    """Handle on an emulator started by `running_emulator`."""

    base_url: str  # "http://127.0.0.1:PORT/3"
    root_url: str  # "http://127.0.0.1:PORT"
    host: str
    port: int
    catalog: Catalog
    options: EmulatorOptions
    app: web.Application

    def stats(self, per_second: bool = False) -> dict[str, Any]:
        """Request counters, read directly from memory (same shape as ``GET /__emulator/stats``); with
        ``per_second``, the requests that arrived in each wall-clock second too."""
        return app_state(self.app).stats.snapshot(per_second)

    def advance(self, days: int = 1) -> dt.datetime:
        """Move the emulator's clock ``days`` days on (the living catalog changes day by day); the new time."""
        app_state(self.app).set_clock(self.options.as_of + dt.timedelta(days=days))
        return self.options.as_of

    def configure(self, **changes: Any) -> EmulatorOptions:
        """Change options while it runs (e.g. ``configure(date_header=False)``); the options, updated in place."""
        return app_state(self.app).configure(**changes)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def running_emulator(
    catalog: Catalog | None = None,
    options: EmulatorOptions | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningEmulator]:
    """Start the emulator on ``host:port`` (0 = a free port) in a daemon thread; stop it on exit."""
    catalog = catalog or Catalog()
    options = options or EmulatorOptions()
    app = build_app(catalog, options)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock, shutdown_timeout=0.5).start())
        except BaseException as exc:  # reported to the caller
            failure.append(exc)
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        pending = asyncio.all_tasks(loop)  # e.g. requests still "hanging": cancel them
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, name=f"tmdb-emulator-{bound_port}", daemon=True)
    thread.start()
    started.wait()
    if failure:
        sock.close()
        raise RuntimeError("emulator failed to start") from failure[0]
    root = f"http://{host}:{bound_port}" if ":" not in host else f"http://[{host}]:{bound_port}"
    try:
        yield RunningEmulator(f"{root}/3", root, host, bound_port, catalog, options, app)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        sock.close()


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    catalog: Catalog | None = None,
    options: EmulatorOptions | None = None,
) -> None:
    """Run the emulator in the foreground until interrupted (Ctrl-C)."""
    catalog = catalog or Catalog()
    app = build_app(catalog, options or EmulatorOptions())
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    print(
        f"TMDb emulator on http://{host}:{bound}/3 ({catalog.total_movies} movies, seed {catalog.seed})",
        flush=True,
    )
    web.run_app(app, sock=sock, access_log=None, print=None, shutdown_timeout=0.5, handle_signals=True)


@dataclass(frozen=True)
class RemoteEmulator:
    """An emulator reached over HTTP (e.g. one started by `emulator_process`): its counters and its clock."""

    root_url: str  # "http://127.0.0.1:PORT"

    @classmethod
    def at(cls, base_url: str) -> RemoteEmulator:
        """The emulator whose API is at ``base_url`` (``…/3``)."""
        return cls(base_url.rsplit("/3", 1)[0])

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/3"

    def _call(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.root_url}{path}", data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self, per_second: bool = False) -> dict[str, Any]:
        """``GET /__emulator/stats`` (``per_second``: with the requests of each wall-clock second)."""
        return self._call("/__emulator/stats" + ("?per_second=1" if per_second else ""))

    def reset(self) -> None:
        """Zero the counters."""
        self._call("/__emulator/reset", {})

    def advance(self, days: int = 1) -> str:
        """Move the clock ``days`` days on (the living catalog changes day by day); the new time."""
        return self._call("/__emulator/clock", {"advance_days": days})["as_of"]

    def configure(self, **changes: Any) -> dict[str, Any]:
        """``POST /__emulator/configure``: change JSON-typed options while it runs (e.g. ``date_header=False``)."""
        return self._call("/__emulator/configure", changes)


@contextlib.contextmanager
def emulator_process(*args: str, startup_timeout: float = 60.0) -> Iterator[RemoteEmulator]:
    """Run ``python -m movie_assets.emulator ARGS`` on a free loopback port in its own process (so it does not
    share the caller's GIL); stop it on exit."""
    port = free_loopback_port()
    process = subprocess.Popen([sys.executable, "-m", "movie_assets.emulator", "--port", str(port), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    emulator = RemoteEmulator(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                emulator.stats()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode()[-2000:] if process.poll() is not None else "timeout"
                    raise RuntimeError(f"emulator did not start: {error}") from None
                time.sleep(0.2)
        yield emulator
    finally:
        process.terminate()
        process.wait(timeout=10)
