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

    def inspect(self, destination=None, timeout=None):
        def query_task(task_id):
            self.asked.append(destination)
            holder = self.held.get(task_id)
            if holder is None or (destination and holder not in destination):
                return {}
            return {holder: {task_id: ["active", {}]}}

        return SimpleNamespace(query_task=query_task)


@pytest.fixture
def setup(monkeypatch):
    launcher = CeleryRunLauncher(default_queue="dagster", broker="memory://", backend="cache+memory://")
    backend = Backend()
    monkeypatch.setattr(launcher.celery, "AsyncResult", backend.result)
    monkeypatch.setattr(launcher.celery.control, "inspect", backend.inspect)
    run = dg.DagsterRun(job_name="ingest_job", run_id="run-1", tags={DAGSTER_CELERY_TASK_ID_TAG: "task-1"})
    return launcher, backend, run


def test_a_worker_that_holds_its_run_is_running(setup):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})
    backend.held["task-1"] = "w1@host"
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    assert backend.asked == [["w1@host"]]  # only the worker that took it is asked


def test_a_worker_that_stops_answering_is_lost_after_the_checks_in_a_row(setup):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})
    results = [launcher.check_run_worker_health(run) for _ in range(LOST_AFTER_CHECKS)]
    assert [r.status for r in results[:-1]] == [WorkerStatus.RUNNING] * (LOST_AFTER_CHECKS - 1)
    assert results[-1].status == WorkerStatus.FAILED and "w1@host" in results[-1].msg
    assert "the run's worker is lost" in results[-1].msg


def test_one_answer_between_misses_starts_the_count_again(setup):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})
    for _ in range(3):
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING  # a miss
        backend.held["task-1"] = "w1@host"
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING  # an answer
        del backend.held["task-1"]


def test_finished_tasks_are_reported_as_such(setup):
    launcher, backend, run = setup
    backend.states["task-1"] = ("SUCCESS", 0)
    assert launcher.check_run_worker_health(run).status == WorkerStatus.SUCCESS
    backend.states["task-1"] = ("FAILURE", None)
    assert launcher.check_run_worker_health(run).status == WorkerStatus.FAILED


def test_a_vanished_task_state_is_asked_of_every_worker(setup):
    """A result backend that lost the state (a Redis without persistence restarted): any worker holding the task
    keeps the run alive."""
    launcher, backend, run = setup
    backend.held["task-1"] = "w2@host"
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    assert backend.asked == [None]


def test_an_unreachable_broker_decides_nothing(setup, monkeypatch):
    launcher, backend, run = setup
    backend.states["task-1"] = ("STARTED", {"hostname": "w1@host", "pid": 1})

    def unreachable(*_, **__):
        raise ConnectionError("broker down")

    monkeypatch.setattr(launcher.celery.control, "inspect", unreachable)
    for _ in range(LOST_AFTER_CHECKS + 1):
        with pytest.raises(ConnectionError):
            launcher.check_run_worker_health(run)  # run monitoring logs it and asks again on its next pass
    assert launcher_module.LOST_AFTER_CHECKS == LOST_AFTER_CHECKS
