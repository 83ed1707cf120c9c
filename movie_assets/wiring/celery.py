"""Runs on Celery workers: dagster-celery's `CeleryRunLauncher`, with a health check that notices a lost worker,
and the Celery app the workers run (``celery -A movie_assets.wiring.celery_worker worker``).

The daemon dequeues a run and sends it to the broker; one worker process executes the whole run (the job's own
executor runs its steps there). dagster-celery's health check reads only the task's state in the result backend,
and a worker killed with its run (a machine lost, SIGKILL, the OOM killer) leaves that state at ``STARTED``
forever: run monitoring would wait for ever. Here a ``STARTED`` (or vanished) task is also asked for at the worker
that holds it (Celery's ``inspect query_task`` broadcast); a worker that answers none of `LOST_AFTER_CHECKS`
checks in a row is reported FAILED, and run monitoring resumes the run on another worker
(``run_monitoring.max_resume_run_attempts``). A broker that cannot be reached raises: the monitor tries again on
its next pass, and nothing is decided from silence on a dead broker.

The workers read the broker, the result backend and the Celery settings from the same ``run_launcher`` block of
``$DAGSTER_HOME/dagster.yaml`` as the daemon, so the two sides cannot disagree.
"""

from __future__ import annotations

import os
from collections import defaultdict

import dagster as dg
from celery.signals import task_prerun
from dagster._core.launcher import CheckRunHealthResult, ResumeRunContext, WorkerStatus
from dagster._grpc.types import ResumeRunArgs
from dagster._serdes import pack_value, unpack_value
from dagster_celery.config import TASK_RESUME_JOB_NAME
from dagster_celery.launcher import CeleryRunLauncher as _DagsterCeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from movie_assets.settings import LAKE_MUST_EXIST_ENV

# Consecutive unanswered checks before a worker counts as lost. One miss can be a busy broker or a worker busy
# accepting a task; a false "lost" would start a second run worker beside a live one.
LOST_AFTER_CHECKS = 2
# Seconds a worker has to answer one ``query_task`` broadcast.
INSPECT_TIMEOUT_SECONDS = 5.0
# The run tag naming the Celery worker (``name@host``) that executes the run (its latest one, after a resume).
WORKER_TAG = "movie_assets/celery_worker"


class CeleryRunLauncher(_DagsterCeleryRunLauncher):
    """dagster-celery's run launcher whose health check asks the worker holding a run whether it still holds it.

    Configured as dagster-celery's (``broker``, ``backend``, ``default_queue``, ``config_source``); see the module
    docstring for why."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._misses: defaultdict[str, int] = defaultdict(int)

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        if task_id is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "the run has no Celery task id yet")
        result = self.celery.AsyncResult(task_id)
        state = result.state
        if state in ("SUCCESS", "FAILURE"):
            self._misses.pop(run.run_id, None)
            return (CheckRunHealthResult(WorkerStatus.SUCCESS) if state == "SUCCESS"
                    else CheckRunHealthResult(WorkerStatus.FAILED, "Celery task failed."))
        holder = result.info.get("hostname") if state == "STARTED" and isinstance(result.info, dict) else None
        if self._held(task_id, holder):
            self._misses.pop(run.run_id, None)
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        if self.celery.AsyncResult(task_id).state in ("SUCCESS", "FAILURE"):  # finished while we asked
            return self.check_run_worker_health(run)
        self._misses[run.run_id] += 1
        misses = self._misses[run.run_id]
        who = f"Celery worker {holder}" if holder else "no Celery worker"
        if misses < LOST_AFTER_CHECKS:
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"{who} did not answer for task {task_id} "
                                        f"({misses} of {LOST_AFTER_CHECKS} checks)")
        self._misses.pop(run.run_id, None)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"{who} holds task {task_id} (state {state}; "
                                    f"{LOST_AFTER_CHECKS} checks unanswered): the run's worker is lost")

    def resume_run(self, context: ResumeRunContext) -> None:
        """Free the pool slots the lost worker's steps held, then send the run's resume task to the broker.

        The slots: a step killed with its worker never gives back its pool slot (``tmdb``, limit 1), and Dagster
        frees a run's slots only once the run has ended, which a resumed run has not: its first step would wait
        for ever behind the slot its own dead step holds. The task: dagster-celery 0.29 passes the resume task a
        keyword it does not take (``execute_job_args_packed``), so its own ``resume_run`` cannot resume anything."""
        run = context.dagster_run
        self._instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        args = ResumeRunArgs(job_origin=run.job_code_origin, run_id=run.run_id,
                             instance_ref=self._instance.get_ref(), set_exit_code_on_failure=True)
        task = create_resume_job_task(self.celery)
        self._launch_celery_task_run(run=run, task_signature=task.si(resume_job_args_packed=pack_value(args)),
                                     routing_key=TASK_RESUME_JOB_NAME)

    def _held(self, task_id: str, holder: str | None) -> bool:
        """Whether a worker (``holder`` only, when known) reports ``task_id`` as active or reserved."""
        inspect = self.celery.control.inspect(destination=[holder] if holder else None,
                                              timeout=INSPECT_TIMEOUT_SECONDS)
        replies = inspect.query_task(task_id) or {}
        return any(task_id in (tasks or {}) for tasks in replies.values())


def _tag_run_with_worker(task=None, kwargs=None, **_: object) -> None:
    """Record on the run which worker took it: tag `WORKER_TAG` (the run list shows where each run executed) and an
    engine event (when the broker handed the run over, or that it resumes a run a lost worker held)."""
    kwargs = kwargs or {}
    packed = kwargs.get("execute_job_args_packed", kwargs.get("resume_job_args_packed"))
    if task is None or packed is None:
        return
    run_id = unpack_value(packed).run_id
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        if run is None:
            return
        worker = task.request.hostname
        previous = run.tags.get(WORKER_TAG)
        instance.add_run_tags(run_id, {WORKER_TAG: worker})
        if "resume_job_args_packed" in kwargs:
            instance.report_engine_event(f"Celery worker {worker} resumes this run (it was on {previous})", run)
        else:
            instance.report_engine_event(f"Celery worker {worker} took this run", run)


def worker_app():
    """The Celery app of a worker: dagster-celery's tasks, with the broker, backend and settings of the instance's
    run launcher (``$DAGSTER_HOME/dagster.yaml``)."""
    from dagster_celery.make_app import make_app

    with dg.DagsterInstance.get() as instance:
        launcher = instance.run_launcher
        if not isinstance(launcher, _DagsterCeleryRunLauncher):
            raise RuntimeError(f"$DAGSTER_HOME/dagster.yaml ({instance.root_directory}) has no Celery run launcher: "
                               "run `movie-assets instance init` with DAGSTER_CELERY_BROKER_URL set")
        app = make_app(launcher.app_args())
    create_task(app)
    create_execute_job_task(app)
    create_resume_job_task(app)
    task_prerun.connect(_tag_run_with_worker, weak=False)
    # Runs executed here need the shared lake mounted where MOVIE_ASSETS_DATA_DIR points; a worker never creates an
    # empty lake of its own (an unmounted volume's empty folder would take the run's writes otherwise).
    os.environ.setdefault(LAKE_MUST_EXIST_ENV, "1")
    return app
