"""A throw-away Redis broker: Debian's ``redis-server`` on a loopback port, its append-only file in its own folder,
so that a restart keeps the messages of runs already handed to the broker."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

from movie_assets.cluster.processes import start_process


def redis_binary() -> str | None:
    """``redis-server`` on PATH (Debian: ``apt-get install redis-server``), else None."""
    return shutil.which("redis-server")


def redis_command(root: Path, port: int) -> list[str]:
    """The command line of a Redis that keeps its data in ``root`` and listens on ``127.0.0.1:port`` only."""
    binary = redis_binary()
    if binary is None:
        raise FileNotFoundError("redis-server not found: apt-get install redis-server")
    return [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(root), "--appendonly", "yes",
            "--appendfsync", "everysec", "--save", "", "--daemonize", "no", "--protected-mode", "yes",
            "--logfile", str(root / "redis.log")]


def start_redis(root: Path, port: int, timeout: float = 30.0) -> int:
    """Start Redis (data in ``root``) and wait until it answers PING; its pid."""
    root.mkdir(parents=True, exist_ok=True)
    pid = start_process(redis_command(root, port), log=root / "redis.out")
    wait_for_redis(port, timeout)
    return pid


def wait_for_redis(port: int, timeout: float = 30.0) -> None:
    """Return once ``127.0.0.1:port`` answers ``PING`` with ``+PONG``; `TimeoutError` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"Redis on 127.0.0.1:{port} did not answer within {timeout:.0f} s")
        time.sleep(0.1)
