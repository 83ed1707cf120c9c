"""End to end through the UI: `dagster dev` (webserver + daemon) on the built-in emulator, driven by headless
Debian Chromium via Playwright. Launches one year of the ingest assets from the partition dialog and waits
for the run to succeed. Screenshots land in the test's tmp dir (paths printed; run with ``-s`` to see them).

Needs ``apt-get install -y chromium`` and ``pip install playwright`` (its own driver; no browser download).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from movie_assets_tests.helpers import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
YEAR = "1930"
LOCATION = "movie_assets.definitions"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_TIMEOUT = 180
RUN_TIMEOUT = 240

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

if not CHROMIUM.exists():
    pytestmark = [pytestmark, pytest.mark.skip(reason=f"{CHROMIUM} missing: apt-get install -y chromium")]
elif sync_playwright is None:
    pytestmark = [pytestmark, pytest.mark.skip(reason="playwright missing: .venv/bin/pip install playwright")]


def _graphql(base: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{base}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())["data"]


RUNS_QUERY = """
query($partition: String!) {
  runsOrError(filter: {tags: [{key: "dagster/partition", value: $partition}]}) {
    ... on Runs { results { runId status jobName } }
  }
}"""


def _runs_for(base: str, partition: str) -> list[dict]:
    return _graphql(base, RUNS_QUERY, {"partition": partition})["runsOrError"]["results"]


@contextlib.contextmanager
def dagster_dev(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`dagster dev` on a free loopback port with its own DAGSTER_HOME and data dir, emulator-backed."""
    home, data, log_path = tmp_path / "dagster_home", tmp_path / "data", tmp_path / "dagster_dev.log"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMDB_")}
    env.update(
        DAGSTER_HOME=str(home),
        MOVIE_ASSETS_DATA_DIR=str(data),
        TMDB_EMULATOR_MOVIES_PER_YEAR="300",
        # Empty, not unset: a `.env` found by load_dotenv must not bring credentials back (no override).
        TMDB_API_KEY="", TMDB_READ_ACCESS_TOKEN="", TMDB_BASE_URL="",
    )
    port = free_port()
    dagster = Path(sys.executable).parent / "dagster"
    cmd = [str(dagster), "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dagster dev did not come up; log:\n{log_path.read_text()[-4000:]}")
                time.sleep(1)
        # the code location loads after the server answers
        while "ingest_job" not in json.dumps(_graphql(base, "{ repositoriesOrError { ... on RepositoryConnection "
                                                      "{ nodes { jobs { name } } } } }")):
            if time.monotonic() > deadline:
                pytest.fail(f"code location did not load; log:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)
        yield base, data, log_path
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop dagster dev and everything it started (its own process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    # children (webserver, daemon, code servers) may outlive the parent: kill what is left of the group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def test_launch_one_year_from_the_ui_and_watch_it_succeed(tmp_path):
    started = time.monotonic()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    saved: list[Path] = []

    with dagster_dev(tmp_path) as (base, data, log_path), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)

            def shot(name: str) -> None:
                path = shots / f"{len(saved) + 1:02d}_{name}.png"
                page.screenshot(path=str(path))
                saved.append(path)

            # the asset graph: ingest → release, embeddings
            page.goto(f"{base}/asset-groups", wait_until="networkidle")
            page.get_by_text("ingest", exact=True).first.wait_for()
            shot("asset_graph")

            # the ingest job (its assets as a graph) → Materialize all… → partition 1930 → Launch 1 run
            page.goto(f"{base}/locations/{LOCATION}/jobs/ingest_job", wait_until="networkidle")
            page.get_by_text("discover_movies").first.wait_for()
            page.get_by_role("button", name="Materialize all").click()
            dialog = page.get_by_role("dialog")
            partitions = dialog.get_by_placeholder("ex: 1900")
            partitions.fill(YEAR)
            partitions.press("Enter")
            launch = dialog.get_by_role("button", name="Launch 1 run")
            launch.wait_for()
            shot("partition_dialog")
            launch.click()
            dialog.wait_for(state="hidden")

            # the run is launched through the daemon's queue; follow it to a terminal status
            deadline = time.monotonic() + RUN_TIMEOUT
            status, run_id = None, None
            while time.monotonic() < deadline:
                runs = _runs_for(base, YEAR)
                if runs:
                    run_id, status = runs[0]["runId"], runs[0]["status"]
                    if status in ("SUCCESS", "FAILURE", "CANCELED"):
                        break
                time.sleep(2)
            assert run_id is not None, "no run was launched from the dialog"

            page.goto(f"{base}/runs/{run_id}", wait_until="networkidle")
            page.get_by_text("RUN_SUCCESS" if status == "SUCCESS" else "RUN_", exact=False).first.wait_for()
            shot("run")
            assert status == "SUCCESS", f"run {run_id} ended {status}; log:\n{log_path.read_text()[-4000:]}"
            assert runs[0]["jobName"] == "ingest_job"
            assert page.get_by_text("Success", exact=True).first.is_visible()

            # and the typed year is in the lake the UI's run wrote to
            assert list((data / "processed" / "movies_parquet" / f"year={YEAR}").glob("part-*.parquet"))
            page.goto(f"{base}/assets/movies?partition={YEAR}", wait_until="networkidle")
            page.get_by_text("movies").first.wait_for()
            shot("movies_asset")
        finally:
            browser.close()
            for path in saved:
                print(f"screenshot: {path}")
            print(f"browser test took {time.monotonic() - started:.1f}s")
