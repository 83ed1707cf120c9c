"""The Dagster instance on a real PostgreSQL server (a throw-away cluster per session, `pg_cluster`).

Marked ``postgres``: CI installs Debian's ``postgresql`` and runs them (they fail there, never skip, when it
is missing). Each test gets its own database, ``$DAGSTER_HOME`` and data folder, and the built-in emulator
with a small catalog. What they show: the definitions load and runs are stored in PostgreSQL; a backfill of
several years goes through the queued run coordinator and the daemon; sensors' and schedules' state and
cursors outlive the daemon process; two processes materialize different years at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from movie_assets_tests.helpers import instance_of, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


@pytest.fixture
def dagster_env(pg_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment of a Dagster process on the PostgreSQL instance (and its ``$DAGSTER_HOME``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "DAGSTER_", "MOVIE_ASSETS_"))}
    env.update(pg_env)
    env.update({
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "MOVIE_ASSETS_DATA_DIR": str(tmp_path / "data"),
        "TMDB_EMULATOR_MOVIES_PER_YEAR": "40",
        "MOVIE_ASSETS_START_YEAR": "2020",
    })
    # As a team sets an instance up: `movie-assets instance init` (writes dagster.yaml, checks, creates pools).
    init = subprocess.run([str(BIN / "movie-assets"), "instance", "init", "--base", str(ROOT / "dagster.yaml")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    assert "instance storage: PostgreSQL" in init.stdout and pg_env["DAGSTER_PG_PASSWORD"] not in init.stdout
    return env


def dagster(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "dagster"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@contextlib.contextmanager
def daemon(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("a") as out:
        process = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env=env, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_instance_init_creates_the_pools_so_first_runs_do_not_race_for_them(dagster_env):
    """Dagster creates a pool's limit row when a step first claims it; two first claims at once on PostgreSQL
    collide on a unique key and fail a step. `instance init` creates the rows beforehand, and leaves a limit
    the user raised alone."""
    with instance_of(dagster_env) as instance:
        storage = instance.event_log_storage
        assert {"tmdb", "duckdb"} <= storage.get_concurrency_keys()
        assert storage.get_concurrency_info("tmdb").slot_count == 1
        storage.set_concurrency_slots("tmdb", 4)
    again = subprocess.run([str(BIN / "movie-assets"), "instance", "init", "--base", str(ROOT / "dagster.yaml")],
                           env=dagster_env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    with instance_of(dagster_env) as instance:
        assert instance.event_log_storage.get_concurrency_info("tmdb").slot_count == 4


def test_definitions_load_and_runs_are_stored_in_postgres(dagster_env):
    from dagster_postgres import PostgresRunStorage

    result = dagster(dagster_env, "asset", "materialize", "-m", "movie_assets.definitions",
                     "--select", "discover_movies", "--partition", "2024")
    assert result.returncode == 0, result.stderr[-3000:]
    with instance_of(dagster_env) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        runs = instance.get_runs()
        assert [r.status.value for r in runs] == ["SUCCESS"] and runs[0].tags["dagster/partition"] == "2024"


def test_two_processes_materialize_different_years_at_once(dagster_env):
    select = "discover_movies,movie_details,movies"
    processes = {
        year: subprocess.Popen([str(BIN / "dagster"), "asset", "materialize", "-m", "movie_assets.definitions",
                                "--select", select, "--partition", year], env=dagster_env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for year in ("2022", "2023")
    }
    outputs = {year: p.communicate(timeout=240)[0] for year, p in processes.items()}
    for year, process in processes.items():
        assert process.returncode == 0, outputs[year][-3000:]
    data = Path(dagster_env["MOVIE_ASSETS_DATA_DIR"])
    for year in ("2022", "2023"):
        assert list((data / "processed" / "movies_parquet" / f"year={year}").glob("part-*.parquet"))
    with instance_of(dagster_env) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["dagster/partition"] for r in runs) == ["2022", "2023"]
        assert {r.status.value for r in runs} == {"SUCCESS"}
        starts = sorted((r.start_time, r.end_time) for r in instance.get_run_records() for r in [r])
    # Both runs were alive at the same time (the tmdb pool still lets one TMDb step run at a time).
    assert starts[1][0] < starts[0][1]


def test_a_backfill_runs_through_the_queue_and_the_daemon(dagster_env, tmp_path):
    log = tmp_path / "daemon.log"
    with daemon(dagster_env, log):
        result = dagster(dagster_env, "job", "backfill", "-j", "ingest_job", "--partitions", "2021,2022,2023",
                         "--noprompt", "-w", "workspace.yaml")
        assert result.returncode == 0, result.stderr[-3000:]
        with instance_of(dagster_env) as instance:
            def done():
                runs = instance.get_runs()
                return len(runs) == 3 and all(r.status.value in TERMINAL for r in runs) and runs

            runs = wait_for(done, 300, "the backfill's three runs", log)
            assert {r.status.value for r in runs} == {"SUCCESS"}, [(r.run_id, r.status) for r in runs]
            assert sorted(r.tags["dagster/partition"] for r in runs) == ["2021", "2022", "2023"]
            for run in runs:  # each went through the queue (QueuedRunCoordinator), not launched directly
                events = instance.all_logs(run.run_id)
                assert any(e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_ENQUEUED" for e in events)
            backfills = instance.get_backfills()
            assert len(backfills) == 1 and backfills[0].status.value in ("COMPLETED", "COMPLETED_SUCCESS")


def test_sensor_and_schedule_state_outlive_the_daemon(dagster_env, tmp_path):
    """The daemon keeps sensors' cursors and schedules' state in the instance database: a new daemon process
    (another machine, after a deploy) finds them as the old one left them."""
    # Two years (last year and the year in progress, both missing): the sensor's first tick asks for both.
    this_year = time.gmtime().tm_year
    years = {str(this_year - 1), str(this_year)}
    env = {**dagster_env, "MOVIE_ASSETS_START_YEAR": str(this_year - 1)}
    for kind, name in (("sensor", "missing_years_sensor"), ("schedule", "catalog_sync_schedule")):
        result = dagster(env, kind, "start", name, "-w", "workspace.yaml")
        assert result.returncode == 0, result.stderr[-3000:]
    log = tmp_path / "daemon.log"

    def states(instance) -> dict[str, tuple[str, str | None]]:
        return {
            s.instigator_name: (s.status.value, getattr(s.instigator_data, "cursor", None))
            for s in instance.all_instigator_state()
        }

    with daemon(env, log), instance_of(env) as instance:
        def ticked():
            cursor = states(instance).get("missing_years_sensor", ("", None))[1]
            return cursor and json.loads(cursor)

        attempts = wait_for(ticked, 120, "missing_years_sensor's first tick", log)
        assert set(attempts) == years and set(attempts.values()) == {1}
        before = states(instance)
        sensor = next(s for s in instance.all_instigator_state() if s.instigator_name == "missing_years_sensor")
        ticks = instance.get_ticks(sensor.instigator_origin_id, sensor.selector_id)
        assert ticks and ticks[0].status.value == "SUCCESS"
    with daemon(env, log), instance_of(env) as instance:
        wait_for(lambda: instance.get_daemon_heartbeats(), 60, "the new daemon's heartbeat", log)
        after = states(instance)
        assert after["missing_years_sensor"] == before["missing_years_sensor"] == ("RUNNING", before[
            "missing_years_sensor"][1])
        assert after["catalog_sync_schedule"][0] == "RUNNING"
        # The old daemon's run requests are in the same database: the new daemon sees (and dequeues) them.
        assert {r.tags["dagster/partition"] for r in instance.get_runs()} == years
