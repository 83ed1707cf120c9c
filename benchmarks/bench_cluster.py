"""Runs on Celery workers (`movie_assets.cluster.topology`, what `make cluster` starts): a backfill of four years of
``ingest_job`` and then ``embeddings_job`` on one worker and on two, interleaved (1, 2, 1, 2, ...), against one
emulator process with a rate limit; and the broker's and the instance's overhead per run, read from the runs'
event logs:

* queue wait: the run enqueued → the daemon hands it to the launcher (run limits, pools: not overhead as such);
* broker hop: "forwarded to the broker" → "Celery worker … took this run" (Redis and the worker's poll, plus any
  wait for a free worker: the minimum over runs is the hop itself), and a ``ping`` round trip through Redis;
* worker start: taken → the run's start event (the worker loads the code location for the run);
* instance writes: event records per run × the time one event write takes in PostgreSQL (timed here).

    python benchmarks/bench_cluster.py            # 4 years × 300 movies, 2 rounds (~15 min on 2 cores)
    python benchmarks/bench_cluster.py --quick    # 4 years × 80 movies, 1 round
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from common import ROOT, emulator_process, emulator_stats, machine, report

from movie_assets.cluster import topology

BIN = Path(sys.executable).parent
YEARS = ["2019", "2020", "2021", "2022"]
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


@contextlib.contextmanager
def instance_of(cluster: topology.Cluster):
    from dagster import DagsterInstance

    saved = dict(os.environ)
    os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("DAGSTER_")})
    try:
        with DagsterInstance.from_config(cluster.env["DAGSTER_HOME"]) as instance:
            yield instance
    finally:
        os.environ.clear()
        os.environ.update(saved)


def backfill(cluster: topology.Cluster, instance, job: str, timeout: float = 1800) -> None:
    result = subprocess.run([str(BIN / "dagster"), "job", "backfill", "-j", job, "--partitions", ",".join(YEARS),
                             "--noprompt", "-w", "workspace.yaml"], env=cluster.env, cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in instance.get_runs() if r.job_name == job]
        if len(runs) == len(YEARS) and all(r.status.value in TERMINAL for r in runs):
            failed = [r.tags.get("dagster/partition") for r in runs if r.status.value != "SUCCESS"]
            if failed:
                raise RuntimeError(f"{job} failed for {failed}; logs in {cluster.logs}")
            return
        time.sleep(0.5)
    raise TimeoutError(f"{job} backfill did not finish in {timeout:.0f} s; logs in {cluster.logs}")


def run_overheads(instance) -> dict[str, list[float]]:
    """Per run: the seconds between the marks named in the module docstring, and its event records."""
    found: dict[str, list[float]] = {"queue_wait_s": [], "broker_hop_s": [], "worker_start_s": [], "events": []}
    for run in instance.get_runs():
        marks: dict[str, float] = {}
        logs = instance.all_logs(run.run_id)
        for entry in logs:
            kind = entry.dagster_event.event_type_value if entry.dagster_event else None
            message = entry.message or ""
            if kind == "PIPELINE_ENQUEUED":
                marks.setdefault("enqueued", entry.timestamp)
            elif "Creating Celery run worker job task" in message:
                marks.setdefault("launched", entry.timestamp)
            elif "forwarded to the broker" in message:
                marks.setdefault("forwarded", entry.timestamp)
            elif message.endswith("took this run"):
                marks.setdefault("taken", entry.timestamp)
            elif kind == "PIPELINE_START":
                marks.setdefault("started", entry.timestamp)
        for figure, (start, end) in {"queue_wait_s": ("enqueued", "launched"),
                                     "broker_hop_s": ("forwarded", "taken"),
                                     "worker_start_s": ("taken", "started")}.items():
            if start in marks and end in marks:
                found[figure].append(marks[end] - marks[start])
        found["events"].append(len(logs))
    return found


def event_write_seconds(instance, writes: int = 200) -> float:
    """Median seconds of one event write (an engine event of a throw-away run) in the instance's storage."""
    from dagster import DagsterRun
    from dagster._core.storage.dagster_run import DagsterRunStatus

    run = instance.add_run(DagsterRun(job_name="bench_instance_overhead", run_id=str(uuid.uuid4()),
                                      status=DagsterRunStatus.SUCCESS))
    times = []
    try:
        for number in range(writes):
            start = time.perf_counter()
            instance.report_engine_event(f"write {number}", run)
            times.append(time.perf_counter() - start)
    finally:
        instance.delete_run(run.run_id)
    return statistics.median(times)


def broker_ping_seconds(cluster: topology.Cluster, pings: int = 20) -> float:
    """Median round trip of a Celery ``ping`` broadcast through the broker, until every worker answered."""
    from celery import Celery

    app = Celery(broker=cluster.broker_url)
    times = []
    for _ in range(pings):
        start = time.perf_counter()
        answers = app.control.ping(timeout=2.0, limit=len(cluster.workers))
        if answers:
            times.append(time.perf_counter() - start)
    return statistics.median(times) if times else float("nan")


def trial(workers: int, env: dict[str, str], work: Path) -> dict:
    base = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    (work / "dagster.yaml").write_text(yaml.safe_dump(base))
    cluster = topology.up(work / "cluster", ROOT, work / "lake", workers=workers, webserver_port=0,
                          base_config=work / "dagster.yaml", env=env)
    try:
        with instance_of(cluster) as instance:
            start = time.monotonic()
            backfill(cluster, instance, "ingest_job")
            ingest = time.monotonic() - start
            backfill(cluster, instance, "embeddings_job")
            wall = time.monotonic() - start
            overheads = run_overheads(instance)
            write = event_write_seconds(instance)
            ping = broker_ping_seconds(cluster)
            took = {r.tags.get("movie_assets/celery_worker") for r in instance.get_runs()}
    finally:
        topology.down(cluster.root)
    median = {k: statistics.median(v) for k, v in overheads.items() if v}
    fastest_hop = min(overheads["broker_hop_s"]) if overheads["broker_hop_s"] else float("nan")
    return {"workers": workers, "wall_s": round(wall, 1), "ingest_s": round(ingest, 1),
            "embeddings_s": round(wall - ingest, 1), "workers_that_took_runs": len(took),
            "queue_wait_s_median": round(median.get("queue_wait_s", float("nan")), 3),
            "broker_hop_s_median": round(median.get("broker_hop_s", float("nan")), 3),
            "broker_hop_s_min": round(fastest_hop, 3),
            "worker_start_s_median": round(median.get("worker_start_s", float("nan")), 3),
            "events_per_run_median": median.get("events"),
            "event_write_ms_median": round(write * 1000, 2),
            "instance_writes_s_per_run": round(write * median.get("events", 0), 3),
            "broker_ping_ms_median": round(ping * 1000, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--movies-per-year", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--rate", type=float, default=40.0, help="the emulator's API limit (requests/s)")
    args = parser.parse_args()
    movies = args.movies_per_year or (80 if args.quick else 300)
    rounds = args.rounds or (1 if args.quick else 2)
    trials = []
    with emulator_process("--movies-per-year", str(movies), "--first-year", "2015", "--last-year", "2024",
                          "--rate-limit", str(args.rate)) as base_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "DAGSTER_", "MOVIE_ASSETS_"))}
        env.update({"TMDB_BASE_URL": base_url, "TMDB_API_KEY": "bench", "TMDB_REQUESTS_PER_SECOND": str(args.rate),
                    "MOVIE_ASSETS_START_YEAR": YEARS[0]})
        for round_number in range(rounds):
            for workers in (1, 2):
                with tempfile.TemporaryDirectory(prefix="bench-cluster-") as work:
                    result = trial(workers, env, Path(work))
                result["round"] = round_number + 1
                print(result, flush=True)
                trials.append(result)
        stats = emulator_stats(base_url)
    one = [t["wall_s"] for t in trials if t["workers"] == 1]
    two = [t["wall_s"] for t in trials if t["workers"] == 2]
    ratios = [a / b for a, b in zip(one, two, strict=True)]
    report("cluster_backfill", {
        "years": len(YEARS), "movies_per_year": movies, "rounds": rounds, "rate_limit": args.rate,
        "trials": trials, "one_over_two_workers_median": round(statistics.median(ratios), 3),
        "one_over_two_workers": [round(r, 3) for r in ratios],
        "broker_hop_s_median": statistics.median(t["broker_hop_s_median"] for t in trials),
        "broker_hop_s_min": min(t["broker_hop_s_min"] for t in trials),
        "broker_ping_ms_median": statistics.median(t["broker_ping_ms_median"] for t in trials),
        "worker_start_s_median": statistics.median(t["worker_start_s_median"] for t in trials),
        "instance_writes_s_per_run": statistics.median(t["instance_writes_s_per_run"] for t in trials),
        "http_429": stats["faults"]["rate_limited"], "machine": machine()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
