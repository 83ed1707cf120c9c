"""A `movie-assets sync` killed with SIGKILL at random points resumes to the same lake, byte for byte."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from movie_assets.lake import Lake
from movie_assets_tests.helpers import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ["--seed", "27", "--movies-per-year", "120", "--first-year", "1990", "--last-year", "2026",
            "--as-of", "2026-11-01T09:00:00+00:00", "--churn-move", "0.003", "--churn-delete", "0.001",
            "--churn-add", "0.003"]
SYNC = "import sys; from movie_assets.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture()
def emulator():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "movie_assets.emulator", "--port", str(port), *EMULATOR],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{root}/__emulator/stats", timeout=1).read()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "emulator did not start"
            time.sleep(0.2)
    yield root
    proc.terminate()
    proc.wait(10)


def movie_requests(root: str) -> int:
    return json.loads(urllib.request.urlopen(f"{root}/__emulator/stats", timeout=5).read())["by_path"].get("movie", 0)


def advance(root: str, days: int) -> None:
    request = urllib.request.Request(f"{root}/__emulator/clock", data=json.dumps({"advance_days": days}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()


def sync_command(root: str, data_dir: Path) -> tuple[list[str], dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "DAGSTER_HOME"))}
    env.update(TMDB_BASE_URL=f"{root}/3", TMDB_EXPORTS_BASE_URL=f"{root}/p/exports",
               TMDB_REQUESTS_PER_SECOND="1500", TMDB_API_KEY="", TMDB_READ_ACCESS_TOKEN="")
    return [sys.executable, "-c", SYNC, "sync", "--data-dir", str(data_dir), "--batch-size", "40"], env


def run_sync(root: str, data_dir: Path) -> None:
    cmd, env = sync_command(root, data_dir)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)


def killed_sync(root: str, data_dir: Path, after_requests: int) -> None:
    cmd, env = sync_command(root, data_dir)
    start = movie_requests(root)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and movie_requests(root) - start < after_requests:
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def year_files(data_dir: Path) -> dict[str, bytes]:
    lake = Lake.at(data_dir)
    return {path.parent.name: path.read_bytes() for _, path in lake.movies_year_files()}


def test_a_killed_full_and_incremental_sync_resume_to_the_same_lake(emulator, tmp_path):
    rng = random.Random(5)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    run_sync(emulator, clean)
    movies = movie_requests(emulator)
    for _ in range(2):  # killed twice during the full sync, at random points
        killed_sync(emulator, killed, rng.randint(1, movies - 1))
    run_sync(emulator, killed)
    assert year_files(killed) == year_files(clean)

    advance(emulator, 3)  # three days of churn: moves, deletions, additions, edits
    run_sync(emulator, clean)
    changed = movie_requests(emulator) - 2 * movies  # (roughly) what one incremental sync fetches
    killed_sync(emulator, killed, rng.randint(1, max(2, changed // 2)))
    run_sync(emulator, killed)
    assert year_files(killed) == year_files(clean)
    assert not list(Lake.at(killed).details_store_dir.glob("*.merged"))
