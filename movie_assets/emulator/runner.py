"""Run the emulator: in-process on a background thread (`running_emulator`) or blocking (`serve`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

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

    def stats(self) -> dict[str, Any]:
        """Request counters, read directly from memory (same shape as ``GET /__emulator/stats``)."""
        return app_state(self.app).stats.snapshot()


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


def add_emulator_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the emulator's command-line options (``--port``, ``--seed``, fault knobs, …) to ``parser``."""
    d = EmulatorOptions()
    g = parser.add_argument_group("TMDb emulator")
    g.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    g.add_argument("--port", type=int, default=8765, help="port (0 = any free port; default 8765)")
    g.add_argument(
        "--seed", type=int, default=42, help="catalog seed (also the fault seed unless --fault-seed)"
    )
    g.add_argument("--fault-seed", type=int, default=None, help="seed of the per-request fault stream")
    g.add_argument(
        "--movies-per-year", type=int, default=30000, help="movies in a peak year (default 30000)"
    )
    g.add_argument("--first-year", type=int, default=1900)
    g.add_argument("--last-year", type=int, default=2026)
    g.add_argument("--day-cluster", type=float, default=None, help="share of a year's movies dated Jan 1")
    g.add_argument(
        "--rate-limit", type=float, default=None, help="requests/second before 429 (default: none)"
    )
    g.add_argument("--no-retry-after", action="store_true", help="send 429 without a Retry-After header")
    g.add_argument("--latency", type=float, default=d.latency, help="seconds added to every API request")
    g.add_argument("--latency-jitter", type=float, default=d.latency_jitter)
    g.add_argument(
        "--error-rate", type=float, default=d.error_rate, help="fraction answered 500/502/503/504"
    )
    g.add_argument("--hang-rate", type=float, default=d.hang_rate, help="fraction delayed --hang-seconds")
    g.add_argument("--hang-seconds", type=float, default=d.hang_seconds)
    g.add_argument(
        "--drop-rate", type=float, default=d.drop_rate, help="fraction closed without a response"
    )
    g.add_argument(
        "--truncate-rate", type=float, default=d.truncate_rate, help="fraction with truncated JSON"
    )
    g.add_argument(
        "--drift", type=float, default=d.drift, help="popularity noise between discover requests"
    )
    g.add_argument("--page-error-style", choices=["live", "documented"], default=d.page_error_style)
    g.add_argument("--api-key", action="append", default=[], help="accepted v3 api_key (repeatable)")
    g.add_argument("--token", action="append", default=[], help="accepted Bearer token (repeatable)")
    g.add_argument("--as-of", default=None, help="frozen clock, ISO date/datetime (default 2026-11-01)")
    return parser


def options_from_args(args: argparse.Namespace) -> EmulatorOptions:
    """`EmulatorOptions` from arguments added by `add_emulator_arguments`."""
    kwargs: dict[str, Any] = {}
    if args.as_of:
        as_of = dt.datetime.fromisoformat(args.as_of)
        kwargs["as_of"] = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
    return EmulatorOptions(
        seed=args.seed if args.fault_seed is None else args.fault_seed,
        rate_limit=args.rate_limit,
        retry_after=not args.no_retry_after,
        latency=args.latency,
        latency_jitter=args.latency_jitter,
        error_rate=args.error_rate,
        hang_rate=args.hang_rate,
        hang_seconds=args.hang_seconds,
        drop_rate=args.drop_rate,
        truncate_rate=args.truncate_rate,
        drift=args.drift,
        page_error_style=args.page_error_style,
        api_keys=frozenset(args.api_key),
        tokens=frozenset(args.token),
        **kwargs,
    )


def catalog_from_args(args: argparse.Namespace) -> Catalog:
    """`Catalog` from arguments added by `add_emulator_arguments`."""
    return Catalog(
        seed=args.seed,
        movies_per_year=args.movies_per_year,
        first_year=args.first_year,
        last_year=args.last_year,
        day_cluster=args.day_cluster,
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m movie_assets.emulator``."""
    parser = add_emulator_arguments(
        argparse.ArgumentParser(prog="movie_assets.emulator", description="Deterministic TMDb v3 emulator")
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, catalog_from_args(args), options_from_args(args))
