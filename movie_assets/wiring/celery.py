"""Runs on Celery workers: dagster-celery's `CeleryRunLauncher`, with a health check that notices a lost worker and
a terminate that stops the run, and the Celery app the workers run (``celery -A movie_assets.wiring.celery_worker
worker``).

The daemon dequeues a run and sends it to the broker. A worker thread takes the message and starts the run as its
own process, ``dagster api execute_run`` (what Dagster's default launcher starts too); the job's executor runs the
steps below it. The worker's main process stays free to answer the broker: the health checks, and terminate, which
sends the run process SIGINT (Dagster's run worker stops its steps and marks the run canceled).

dagster-celery's health check reads only the task's state in the result backend, and a worker killed with its run (a
machine lost, SIGKILL) leaves that state at ``STARTED`` for ever: run monitoring would wait for ever. Here a started
task is also asked for at the worker holding it (Celery's ``inspect query_task``); a worker that answers no check
for `LOST_AFTER_SECONDS` (and at least `LOST_AFTER_CHECKS` checks) is reported FAILED, and run monitoring resumes
the run on another worker (``run_monitoring.max_resume_run_attempts``). A task still waiting in the broker for a
free worker is not a lost one; a broker that cannot be reached raises, and the monitor asks again on its next pass.

The workers read the broker, the result backend and the Celery settings from the same ``run_launcher`` block of
``$DAGSTER_HOME/dagster.yaml`` as the daemon, so the two sides cannot disagree.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import dagster as dg
from celery.signals import task_prerun
from celery.worker.control import control_command
from dagster._core.launcher import CheckRunHealthResult, ResumeRunContext, WorkerStatus
from dagster._grpc.types import ExecuteRunArgs, ResumeRunArgs
from dagster._serdes import pack_value, serialize_value, unpack_value
from dagster_celery.config import TASK_EXECUTE_JOB_NAME, TASK_RESUME_JOB_NAME
from dagster_celery.launcher import CeleryRunLauncher as _DagsterCeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from movie_assets.settings import LAKE_MUST_EXIST_ENV

# A worker is lost when it has answered no health check for this long, over at least this many checks. One miss
# can be a broker restarting (its broadcasts are lost while workers reconnect); a false "lost" would start a second
# run worker beside a live one.
LOST_AFTER_SECONDS = 45.0
LOST_AFTER_CHECKS = 2
# Seconds a worker has to answer one ``query_task`` broadcast.
INSPECT_TIMEOUT_SECONDS = 5.0
# The run tag naming the Celery worker (``name@host``) that executes the run (its latest one, after a resume).
WORKER_TAG = "movie_assets/celery_worker"
TERMINATE_COMMAND = "terminate_dagster_run"

# The run processes this worker started, by run id (read by the terminate command, in the worker's main process).
_RUN_PROCESSES: dict[str, subprocess.Popen] = {}
_RUN_PROCESSES_LOCK = threading.Lock()


class CeleryRunLauncher(_DagsterCeleryRunLauncher):
    """dagster-celery's run launcher whose health check asks the worker holding a run whether it still holds it,
    whose resume works, and whose terminate stops the run's process.

    Configured as dagster-celery's (``broker``, ``backend``, ``default_queue``, ``config_source``); see the module
    docstring for why."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._first_miss: dict[str, tuple[float, int]] = {}

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        if task_id is None:  # between the message sent and its id tagged: a fast worker may have started the run
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run's Celery task id is not recorded yet")
        result = self.celery.AsyncResult(task_id)
        state = result.state
        if state == "FAILURE":
            self._first_miss.pop(run.run_id, None)
            return CheckRunHealthResult(WorkerStatus.FAILED, "Celery task failed.")
        if state == "PENDING":  # in the broker, waiting for a free worker (a resumed run, a full cluster)
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"task {task_id} waits in the broker for a worker")
        if state == "SUCCESS":
            current = self._instance.get_run_by_id(run.run_id)
            if current is None or current.is_finished:
                self._first_miss.pop(run.run_id, None)
                return CheckRunHealthResult(WorkerStatus.SUCCESS)
            holder = None  # a second delivery of the message ended at once; whoever runs the run is asked below
        else:
            holder = result.info.get("hostname") if isinstance(result.info, dict) else None
        if self._held(task_id, holder):
            self._first_miss.pop(run.run_id, None)
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return self._missed(run.run_id, task_id, holder, state)

    def _missed(self, run_id: str, task_id: str, holder: str | None, state: str) -> CheckRunHealthResult:
        now = time.monotonic()
        since, checks = self._first_miss.get(run_id, (now, 0))
        self._first_miss[run_id] = (since, checks + 1)
        who = f"Celery worker {holder}" if holder else "no Celery worker"
        if checks + 1 < LOST_AFTER_CHECKS or now - since < LOST_AFTER_SECONDS:
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"{who} answered for task {task_id} "
                                        f"({checks + 1} checks unanswered over {now - since:.0f} s)")
        del self._first_miss[run_id]
        return CheckRunHealthResult(WorkerStatus.FAILED, f"{who} holds task {task_id} (state {state}; no answer "
                                    f"for {now - since:.0f} s): the run's worker is lost")

    def _held(self, task_id: str, holder: str | None) -> bool:
        """Whether a worker (``holder`` only, when known) reports ``task_id`` as active or reserved."""
        inspect = self.celery.control.inspect(destination=[holder] if holder else None,
                                              timeout=INSPECT_TIMEOUT_SECONDS, limit=1 if holder else None)
        replies = inspect.query_task(task_id) or {}
        return any(task_id in (tasks or {}) for tasks in replies.values())

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
        self._launch_celery_task_run(run=run, task_signature=self.celery.signature(
            TASK_RESUME_JOB_NAME, kwargs={"resume_job_args_packed": pack_value(args)}, immutable=True),
            routing_key=TASK_RESUME_JOB_NAME)

    def terminate(self, run_id: str) -> bool:
        """Withdraw the run's message if no worker took it yet, and ask the worker running it to interrupt it
        (dagster-celery's ``revoke(terminate=True)`` would kill the worker's pool process, not the run)."""
        run = self._instance.get_run_by_id(run_id)
        if run is None or DAGSTER_CELERY_TASK_ID_TAG not in run.tags:
            return False
        # CANCELING first, as Dagster's own launchers do: the interrupted run worker reads it to end the run
        # CANCELED (otherwise it takes the interrupt for a lost worker and waits to be resumed).
        self._instance.report_run_canceling(run)
        self.celery.control.revoke(run.tags[DAGSTER_CELERY_TASK_ID_TAG])
        holder = run.tags.get(WORKER_TAG)
        replies = self.celery.control.broadcast(TERMINATE_COMMAND, arguments={"run_id": run_id}, reply=True,
                                                timeout=INSPECT_TIMEOUT_SECONDS,
                                                destination=[holder] if holder else None)
        stopped = any(answer.get("ok") for reply in replies or [] for answer in reply.values())
        self._instance.report_engine_event(
            f"Asked Celery worker {holder} to stop the run." if stopped else
            "No Celery worker runs this run now: run monitoring marks it canceled after cancel_timeout_seconds.",
            run, cls=self.__class__)
        return stopped


@control_command(args=[("run_id", str)], signature="<run_id>")
def terminate_dagster_run(state, run_id: str) -> dict:
    """Send SIGINT to this worker's process of run ``run_id``: Dagster stops its steps and marks it canceled."""
    with _RUN_PROCESSES_LOCK:
        process = _RUN_PROCESSES.get(run_id)
    if process is None or process.poll() is not None:
        return {"ok": False}
    process.send_signal(signal.SIGINT)
    return {"ok": True}


def _run_process(command: str, args: ExecuteRunArgs | ResumeRunArgs) -> int:
    """Run ``dagster api <command>`` for ``args``' run in its own process, on this worker's instance
    (``$DAGSTER_HOME``), and wait for it; its exit status."""
    local = type(args)(job_origin=args.job_origin, run_id=args.run_id, instance_ref=None,
                       set_exit_code_on_failure=True)
    process = subprocess.Popen([sys.executable, "-m", "dagster", "api", command, serialize_value(local)])
    with _RUN_PROCESSES_LOCK:
        _RUN_PROCESSES[args.run_id] = process
    try:
        return process.wait()
    finally:
        with _RUN_PROCESSES_LOCK:
            _RUN_PROCESSES.pop(args.run_id, None)


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
    """The Celery app of a worker: the execute and resume tasks dagster-celery's launcher sends (each runs its run
    as a process of its own), with the broker, backend and settings of the instance's run launcher
    (``$DAGSTER_HOME/dagster.yaml``)."""
    from dagster_celery.make_app import make_app

    with dg.DagsterInstance.get() as instance:
        launcher = instance.run_launcher
        if not isinstance(launcher, _DagsterCeleryRunLauncher):
            raise RuntimeError(f"$DAGSTER_HOME/dagster.yaml ({instance.root_directory}) has no Celery run launcher: "
                               "run `movie-assets instance init` with DAGSTER_CELERY_BROKER_URL set")
        app = make_app(launcher.app_args())

    @app.task(name=TASK_EXECUTE_JOB_NAME, track_started=True)
    def execute_job(execute_job_args_packed) -> int:
        return _run_process("execute_run", unpack_value(execute_job_args_packed, as_type=ExecuteRunArgs))

    @app.task(name=TASK_RESUME_JOB_NAME, track_started=True)
    def resume_job(resume_job_args_packed) -> int:
        return _run_process("resume_run", unpack_value(resume_job_args_packed, as_type=ResumeRunArgs))

    task_prerun.connect(_tag_run_with_worker, weak=False)
    # Runs executed here need the shared lake mounted where MOVIE_ASSETS_DATA_DIR points; a worker never creates an
    # empty lake of its own (an unmounted volume's empty folder would take the run's writes otherwise).
    os.environ.setdefault(LAKE_MUST_EXIST_ENV, "1")
    return app
