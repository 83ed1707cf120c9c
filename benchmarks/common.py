"""Shared bits of the benchmark scripts: a standalone emulator process and result printing."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """Run ``movie-assets emulator`` in its own process (so it does not share our GIL); yield its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "movie_assets.emulator", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{root}/__emulator/stats", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"emulator did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield f"{root}/3"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def emulator_stats(base_url: str) -> dict:
    root = base_url.rsplit("/3", 1)[0]
    return json.loads(urllib.request.urlopen(f"{root}/__emulator/stats", timeout=5).read())


def reset_emulator(base_url: str) -> None:
    root = base_url.rsplit("/3", 1)[0]
    urllib.request.urlopen(urllib.request.Request(f"{root}/__emulator/reset", method="POST"), timeout=5).read()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def report(name: str, figures: dict) -> None:
    """Print figures as aligned lines plus one JSON line (collected by benchmarks/run_all.py)."""
    print(f"== {name}")
    for key, value in figures.items():
        print(f"   {key:<40} {value}")
    print("BENCH_JSON " + json.dumps({"benchmark": name, **figures}, sort_keys=True))
