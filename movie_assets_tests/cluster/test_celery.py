"""Runs on Celery workers, deployed the way a team runs them (`movie_assets.cluster.topology`, what `make cluster`
starts): a throw-away PostgreSQL cluster for the instance, Redis as broker and result backend, the daemon with the
project's Celery run launcher, two workers started from the project's worker app, and one TMDb-compatible server
(the emulator in its own process, with a rate limit) that every worker calls.

Marked ``celery``: CI installs Debian's ``redis-server`` and ``postgresql`` and runs them (they fail there, never
skip, when either is missing). The tests share one cluster and run in order: a four-year backfill of ``ingest_job``
with a worker SIGKILLed in the middle of a details step, then a four-year backfill of ``embeddings_job`` with the
broker restarted while runs wait, then the checks of the rate, of the lake against a single-process build of the
same years, and of a worker whose lake is not mounted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from movie_assets.cluster import topology
from movie_assets.cluster.postgres import pg_bindir
from movie_assets.cluster.redis import redis_binary
from movie_assets.emulator.runner import RemoteEmulator, emulator_process
from movie_assets_tests.helpers import instance_of, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
YEARS = ["2019", "2020", "2021", "2022"]
API_RATE = 20.0  # the emulator's limit (requests/second); the workers are told the same
IMAGE_RATE = 40.0
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
WORKER_TAG = "movie_assets/celery_worker"


def _require_services() -> None:
    missing = [name for name, found in (("redis-server", redis_binary()), ("postgresql", pg_bindir())) if not found]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{' and '.join(missing)} not installed: .ci/run installs Debian's packages")
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install redis-server postgresql)")


def _settings(emulator: RemoteEmulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "DAGSTER_", "MOVIE_ASSETS_"))}
    env.update({
        "TMDB_BASE_URL": emulator.base_url,
        "TMDB_API_KEY": "celery-test-key",
        "TMDB_REQUESTS_PER_SECOND": str(API_RATE),
        "TMDB_IMAGE_REQUESTS_PER_SECOND": str(IMAGE_RATE),
        "MOVIE_ASSETS_START_YEAR": YEARS[0],
    })
    return env


@pytest.fixture(scope="module")
def emulator() -> Iterator[RemoteEmulator]:
    _require_services()
    with emulator_process("--movies-per-year", "120", "--first-year", "2015", "--last-year", "2024",
                          "--rate-limit", str(API_RATE), "--image-rate-limit", str(IMAGE_RATE)) as server:
        yield server


@pytest.fixture(scope="module")
def cluster(emulator, tmp_path_factory) -> Iterator[topology.Cluster]:
    """The cluster, with run monitoring polling every 3 s (a team's dagster.yaml: 30 s) so a lost worker is
    noticed within seconds."""
    tmp = tmp_path_factory.mktemp("cluster")
    base = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    base["run_monitoring"]["poll_interval_seconds"] = 3
    (tmp / "dagster.yaml").write_text(yaml.safe_dump(base))
    started = topology.up(tmp / "cluster", ROOT, tmp / "lake", workers=2, webserver_port=0,
                          base_config=tmp / "dagster.yaml", env=_settings(emulator))
    try:
        yield started
    finally:
        with contextlib.suppress(Exception):
            topology.down(started.root)


def dagster(cluster: topology.Cluster, *args: str) -> None:
    result = subprocess.run([str(BIN / "dagster"), *args, "-w", "workspace.yaml"], env=cluster.env, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def runs_of(instance, job: str) -> list:
    return [r for r in instance.get_runs() if r.job_name == job]


def backfill_done(instance, job: str):
    runs = runs_of(instance, job)
    return len(runs) == len(YEARS) and all(r.status.value in TERMINAL for r in runs) and runs


def step_started(instance, run, step: str) -> bool:
    return any(e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_START"
               and e.dagster_event.step_key == step for e in instance.all_logs(run.run_id))


def messages(instance, run) -> list[str]:
    return [e.message or "" for e in instance.all_logs(run.run_id)]


def test_a_worker_killed_in_the_middle_of_details_loses_its_run_to_the_other_worker(cluster):
    """SIGKILL the worker (and every process it started) that is fetching a year's details: run monitoring finds
    the worker gone and resumes the run on the other worker; the backfill completes, every run a success."""
    dagster(cluster, "job", "backfill", "-j", "ingest_job", "--partitions", ",".join(YEARS), "--noprompt")
    with instance_of(cluster.env) as instance:
        def fetching():
            return next((r for r in runs_of(instance, "ingest_job") if r.status.value == "STARTED"
                         and step_started(instance, r, "movie_details")), None)

        victim = wait_for(fetching, 240, "a run in its details step", cluster.logs)
        time.sleep(1.5)  # well inside the step: it takes ~6 s at the shared rate
        holder = instance.get_run_by_id(victim.run_id).tags[WORKER_TAG]
        killed = holder.split("@")[0]
        cluster.kill_worker(killed)
        cluster.start_worker("worker3")  # what a supervisor (systemd, Kubernetes) does for a lost machine
        runs = wait_for(lambda: backfill_done(instance, "ingest_job"), 600, "the ingest backfill", cluster.logs)
        assert {r.status.value for r in runs} == {"SUCCESS"}, [(r.tags["dagster/partition"], r.status) for r in runs]
        assert sorted(r.tags["dagster/partition"] for r in runs) == YEARS  # one run per year: resumed, not doubled
        resumed = instance.get_run_by_id(victim.run_id)
        assert resumed.tags[WORKER_TAG] != holder
        log = messages(instance, resumed)
        assert any("the run's worker is lost" in m and killed in m for m in log), log
        assert any("resumes this run" in m for m in log)
        backfill = instance.get_backfills()[0]
        assert backfill.status.value in ("COMPLETED", "COMPLETED_SUCCESS")


def test_queued_runs_still_run_after_the_broker_restarts(cluster):
    """Restart Redis while the embeddings backfill has runs waiting (in Dagster's queue and in the broker): they
    run, on both live workers."""
    dagster(cluster, "job", "backfill", "-j", "embeddings_job", "--partitions", ",".join(YEARS), "--noprompt")
    with instance_of(cluster.env) as instance:
        wait_for(lambda: any(r.status.value == "STARTED" for r in runs_of(instance, "embeddings_job")), 240,
                 "the first embeddings run", cluster.logs)
        cluster.restart_broker()
        runs = wait_for(lambda: backfill_done(instance, "embeddings_job"), 900, "the embeddings backfill",
                        cluster.logs)
        assert {r.status.value for r in runs} == {"SUCCESS"}, [(r.tags["dagster/partition"], r.status) for r in runs]
        workers = {r.tags[WORKER_TAG] for r in instance.get_runs()}
        assert len(workers) >= 2, workers  # the run records show runs on more than one worker


def test_the_workers_kept_the_shared_rate(cluster, emulator):
    stats = emulator.stats(per_second=True)
    assert stats["faults"]["rate_limited"] == 0 and stats["images"]["rate_limited"] == 0, stats["faults"]
    assert stats["by_path"].get("movie", 0) > 0


PUBLISHED = ("movies_parquet", "embeddings_parquet", "poster_embeddings_parquet")


def _year_files(lake: Path) -> dict[str, str]:
    """sha256 of each year file of the published datasets (movies, text and poster vectors), by dataset/year/name
    (``movies_parquet`` is a link to its current generation: read through it)."""
    return {f"{dataset}/{path.parent.name}/{path.name}": hashlib.sha256(path.read_bytes()).hexdigest()
            for dataset in PUBLISHED for path in sorted((lake / "processed" / dataset).glob("year=*/*.parquet"))}


def test_the_lake_equals_a_single_process_build_of_the_same_years(cluster, emulator, tmp_path):
    """Each year's files, byte for byte, as one process materializing the same years builds them."""
    env = {**_settings(emulator), "DAGSTER_HOME": str(tmp_path / "home"),
           "MOVIE_ASSETS_DATA_DIR": str(tmp_path / "lake")}
    (tmp_path / "home").mkdir()
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "home" / "dagster.yaml")
    for year in YEARS:
        for selection in ("discover_movies,movie_details,movies", "movie_embeddings,movie_posters,poster_embeddings"):
            result = subprocess.run([str(BIN / "dagster"), "asset", "materialize", "-m", "movie_assets.definitions",
                                     "--select", selection, "--partition", year], env=env, cwd=ROOT,
                                    capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
    reference, clustered = _year_files(tmp_path / "lake"), _year_files(cluster.data_dir)
    assert {p.rsplit("/", 1)[0] for p in reference} == {f"{d}/year={y}" for d in PUBLISHED for y in YEARS}
    assert clustered == reference


def test_terminate_stops_the_run_and_leaves_the_worker_up(cluster):
    """Terminate (the UI's button: the run coordinator's cancel_run) interrupts the run's process on its worker:
    the run ends CANCELED, and the worker takes the next run."""
    dagster(cluster, "job", "launch", "-j", "ingest_job", "--tags", '{"dagster/partition": "2023"}')
    with instance_of(cluster.env) as instance:
        def running():
            return next((r for r in instance.get_runs() if r.tags.get("dagster/partition") == "2023"
                         and r.status.value == "STARTED" and step_started(instance, r, "discover_movies")), None)

        run = wait_for(running, 240, "the 2023 run", cluster.logs)
        instance.run_coordinator.cancel_run(run.run_id)
        ended = wait_for(lambda: instance.get_run_by_id(run.run_id).status.value in TERMINAL
                         and instance.get_run_by_id(run.run_id), 120, "the canceled run", cluster.logs)
        assert ended.status.value == "CANCELED"
        assert set(cluster.workers) <= {name.split(" ")[-1] for name in cluster.processes()}


def test_a_worker_without_the_lake_fails_its_run_naming_the_setting(cluster, tmp_path):
    """A worker whose shared volume is not mounted (its mount point an empty folder) fails the run in one line
    naming MOVIE_ASSETS_DATA_DIR, and writes nothing there."""
    mount_point = tmp_path / "unmounted"
    mount_point.mkdir()
    cluster.start_worker("nolake", queue="nolake", env={"MOVIE_ASSETS_DATA_DIR": str(mount_point)})
    dagster(cluster, "job", "launch", "-j", "ingest_job", "--tags",
            '{"dagster/partition": "2019", "dagster-celery/queue": "nolake"}')
    with instance_of(cluster.env) as instance:
        def failed():
            runs = [r for r in instance.get_runs() if r.tags.get("dagster-celery/queue") == "nolake"]
            return runs and runs[0].status.value in TERMINAL and runs[0]

        run = wait_for(failed, 240, "the run on the worker without the lake", cluster.logs)
        assert run.status.value == "FAILURE"
        failures = [e.dagster_event.step_failure_data.error for e in instance.all_logs(run.run_id)
                    if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_FAILURE"]
        text = " ".join(str(err.to_string()) for err in failures)
        assert f"MOVIE_ASSETS_DATA_DIR={str(mount_point)!r} holds no lake" in text, text[-2000:]
    assert list(mount_point.iterdir()) == []
    cluster.stop_worker("nolake")
