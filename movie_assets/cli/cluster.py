"""``movie-assets cluster up|down|status``: a team's topology on this machine (`movie_assets.cluster.topology`):
PostgreSQL, Redis, the daemon, the webserver and Celery workers, each its own process, for trying the deployment
(``make cluster`` / ``make cluster-stop``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from movie_assets.cluster import topology
from movie_assets.settings import data_dir_from_env


def _up(args: argparse.Namespace) -> int:
    root = Path(args.root)
    data_dir = Path(args.data_dir or data_dir_from_env())
    print(f"starting PostgreSQL, Redis, the daemon, the webserver and {args.workers} Celery workers in {root} ...")
    cluster = topology.up(root, Path.cwd(), data_dir, workers=args.workers, concurrency=args.concurrency,
                          webserver_port=args.port)
    _print_status(cluster)
    print(f"\nin another shell:  source {root / topology.ENV_FILE}   (then e.g. dagster job backfill -j ingest_job "
          "--partitions 2022,2023 -w workspace.yaml)")
    print("stop it with:      make cluster-stop")
    return 0


def _print_status(cluster: topology.Cluster) -> None:
    alive = cluster.processes()
    print(f"lake:        {cluster.data_dir}")
    print(f"instance:    PostgreSQL on 127.0.0.1:{cluster.pg_port} (DAGSTER_HOME={cluster.env.get('DAGSTER_HOME')})")
    print(f"broker:      {cluster.broker_url}")
    if cluster.webserver_url:
        print(f"webserver:   {cluster.webserver_url}")
    for role in ("redis", "daemon", "webserver", *(f"worker {name}" for name in cluster.workers)):
        if role == "webserver" and cluster.webserver_pid is None:
            continue
        state = f"pid {alive[role]}" if role in alive else "NOT RUNNING"
        print(f"  {role:<16} {state}")
    print(f"logs:        {cluster.logs}")


def cluster(args: argparse.Namespace) -> int:
    try:
        if args.cluster_command == "up":
            return _up(args)
        if args.cluster_command == "down":
            stopped = topology.down(Path(args.root))
            print(f"stopped: {', '.join(stopped)} (the lake and the logs stay)")
            return 0
        current = topology.Cluster.load(Path(args.root).resolve())
        _print_status(current)
        return 0 if len(current.processes()) == 2 + bool(current.webserver_pid) + len(current.workers) else 1
    except (topology.ClusterError, FileNotFoundError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``cluster up [--workers N] [--port P]``, ``cluster down`` and ``cluster status``."""
    parser = subparsers.add_parser("cluster", help="a local cluster: PostgreSQL, Redis, daemon, webserver, Celery "
                                   "workers (make cluster)")
    parser.add_argument("--root", default=".cluster", help="where its state, logs and instance live "
                        "(default .cluster)")
    commands = parser.add_subparsers(dest="cluster_command", required=True)
    up = commands.add_parser("up", help="start everything; the settings for a shell go to <root>/cluster.env")
    up.add_argument("--workers", type=int, default=2, help="Celery workers (default 2)")
    up.add_argument("--concurrency", type=int, default=2, help="runs at once per worker (default 2: two workers "
                    "give max_concurrent_runs' 4 slots)")
    up.add_argument("--port", type=int, default=3000, help="the webserver's port (default 3000; 0: no webserver)")
    up.add_argument("--data-dir", default=None, help="the lake (default MOVIE_ASSETS_DATA_DIR, else data/)")
    for command in (up, commands.add_parser("down", help="stop everything it started"),
                    commands.add_parser("status", help="what runs (exit 1 when a process is gone)")):
        command.set_defaults(handler=cluster)
    return parser
