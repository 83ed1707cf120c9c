"""A `movie-assets sync` killed with SIGKILL at random points resumes to the same lake, byte for byte."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from movie_assets.emulator import RemoteEmulator, emulator_process
from movie_assets.lake import Lake

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ["--seed", "27", "--movies-per-year", "120", "--first-year", "1990", "--last-year", "2026",
            "--as-of", "2026-11-01T09:00:00+00:00", "--churn-move", "0.003", "--churn-delete", "0.001",
            "--churn-add", "0.003"]
SYNC = "import sys; from movie_assets.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture()
def emulator():
    with emulator_process(*EMULATOR) as remote:
        yield remote


def movie_requests(emulator: RemoteEmulator) -> int:
    return emulator.stats()["by_path"].get("movie", 0)


def sync_command(emulator: RemoteEmulator, data_dir: Path) -> tuple[list[str], dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "DAGSTER_HOME"))}
    env.update(TMDB_BASE_URL=emulator.base_url, TMDB_EXPORTS_BASE_URL=f"{emulator.root_url}/p/exports",
               TMDB_REQUESTS_PER_SECOND="1500", TMDB_API_KEY="", TMDB_READ_ACCESS_TOKEN="")
    return [sys.executable, "-c", SYNC, "sync", "--data-dir", str(data_dir), "--batch-size", "40"], env


def run_sync(emulator: RemoteEmulator, data_dir: Path) -> None:
    cmd, env = sync_command(emulator, data_dir)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)


def killed_sync(emulator: RemoteEmulator, data_dir: Path, after_requests: int) -> None:
    cmd, env = sync_command(emulator, data_dir)
    start = movie_requests(emulator)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and movie_requests(emulator) - start < after_requests:
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

    emulator.advance(3)  # three days of churn: moves, deletions, additions, edits
    run_sync(emulator, clean)
    changed = movie_requests(emulator) - 2 * movies  # (roughly) what one incremental sync fetches
    killed_sync(emulator, killed, rng.randint(1, max(2, changed // 2)))
    run_sync(emulator, killed)
    assert year_files(killed) == year_files(clean)
    assert not list(Lake.at(killed).details_store_dir.glob("*.merged"))
