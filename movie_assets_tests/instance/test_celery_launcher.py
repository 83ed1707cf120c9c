"""The Celery launcher's health check (`movie_assets.wiring.celery.CeleryRunLauncher`) without a broker: the task
states and the workers' answers are stood in for; `movie_assets_tests/cluster/test_celery.py` runs it for real."""

from __future__ import annotations

from types import SimpleNamespace

import dagster as dg
import pytest
from dagster._core.launcher import WorkerStatus
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from movie_assets.wiring import celery as launcher_module
from movie_assets.wiring.celery import LOST_AFTER_CHECKS, CeleryRunLauncher


class Backend:
    """Task states by id, and which worker answers for which task."""

    def __init__(self) -> None:
        self.states: dict[str, tuple[str, object]] = {}
        self.held: dict[str, str] = {}
        self.asked: list[list[str] | None] = []

    def result(self, task_id: str):
        state, info = self.states.get(task_id, ("PENDING", None))
        return SimpleNamespace(state=state, info=info)

    def inspect(self, destination=None, timeout=None, limit=None):
        def query_task(task_id):
            self.asked.append(destination)
            holder = self.held.get(task_id)
            if holder is None or (destination and holder not in destination):
                return {}
            return {holder: {task_id: ["active", {}]}}

        return SimpleNamespace(query_task=query_task)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(monkeypatch):
    launcher = CeleryRunLauncher(default_queue="dagster", broker="memory://", backend="cache+memory://")
    backend = Backend()
    monkeypatch.setattr(launcher.celery, "AsyncResult", backend.result)
    monkeypatch.setattr(launcher.celery.control, "inspect", backend.inspect)
    run = dg.DagsterRun(job_name="ingest_job", run_id="run-1", tags={DAGSTER_CELERY_TASK_ID_TAG: "task-1"},
                        status=dg.DagsterRunStatus.STARTED)
    runs = {"run-1": run}
    instance = SimpleNamespace(get_run_by_id=runs.get)
    monkeypatch.setattr(CeleryRunLauncher, "_instance", property(lambda _: instance))
    clock = Clock()
    monkeypatch.setattr(launcher_module.time, "monotonic", clock)
    backend.clock, backend.runs = clock, runs
    return launcher, backend, run


def test_a_worker_that_holds_its_run_is_running(setup):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})
    backend.held["task-1"] = "w1@host"
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    assert backend.asked == [["w1@host"]]  # only the worker that took it is asked


def test_a_worker_that_stops_answering_is_lost_after_the_time_and_the_checks(setup):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})
    first = launcher.check_run_worker_health(run)
    assert first.status == WorkerStatus.RUNNING and "1 checks unanswered" in first.msg
    backend.clock.now += launcher_module.LOST_AFTER_SECONDS / 2  # two misses, but not yet long enough
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    backend.clock.now += launcher_module.LOST_AFTER_SECONDS
    lost = launcher.check_run_worker_health(run)
    assert lost.status == WorkerStatus.FAILED and "w1@host" in lost.msg and "the run's worker is lost" in lost.msg
    assert LOST_AFTER_CHECKS <= 3


def test_one_answer_between_misses_starts_the_count_again(setup):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})
    for _ in range(4):
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING  # a miss
        backend.clock.now += launcher_module.LOST_AFTER_SECONDS
        backend.held["task-1"] = "w1@host"
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING  # an answer
        del backend.held["task-1"]


def test_a_task_waiting_in_the_broker_is_never_lost(setup):
    """A resumed run's task waits while every worker is busy: that is a queue, not a lost worker (counting it
    would resume the run again, and two resumed run workers would run at once)."""
    launcher, backend, run = setup
    for _ in range(5):
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
        backend.clock.now += launcher_module.LOST_AFTER_SECONDS
    assert backend.asked == []


def test_a_run_whose_task_id_is_not_tagged_yet_is_running(setup):
    launcher, _, _ = setup
    untagged = dg.DagsterRun(job_name="ingest_job", run_id="run-2", status=dg.DagsterRunStatus.STARTED)
    assert launcher.check_run_worker_health(untagged).status == WorkerStatus.RUNNING


def test_finished_tasks_are_reported_as_such(setup):
    launcher, backend, run = setup
    backend.runs["run-1"] = run.with_status(dg.DagsterRunStatus.SUCCESS)
    backend.states["task-1"] = ("SUCCESS", 0)
    assert launcher.check_run_worker_health(run).status == WorkerStatus.SUCCESS
    backend.states["task-1"] = ("FAILURE", None)
    assert launcher.check_run_worker_health(run).status == WorkerStatus.FAILED


def test_a_task_that_succeeded_while_its_run_goes_on_asks_the_workers(setup):
    """A second delivery of the run's message (after Redis' visibility timeout) ends at once, Dagster ignoring the
    duplicate run worker, and stores SUCCESS: the run still runs where it ran, and is judged by that worker."""
    launcher, backend, run = setup
    backend.states["task-1"] = ("SUCCESS", 0)
    backend.held["task-1"] = "w2@host"
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    assert backend.asked == [None]


def test_an_unreachable_broker_decides_nothing(setup, monkeypatch):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})

    def unreachable(*_, **__):
        raise ConnectionError("broker down")

    monkeypatch.setattr(launcher.celery.control, "inspect", unreachable)
    for _ in range(LOST_AFTER_CHECKS + 2):
        backend.clock.now += launcher_module.LOST_AFTER_SECONDS
        with pytest.raises(ConnectionError):
            launcher.check_run_worker_health(run)  # run monitoring logs it and asks again on its next pass
