"""A team's topology on one machine: PostgreSQL (instance storage), Redis (Celery broker and result backend), the
Dagster daemon, the webserver and Celery workers, each its own process, sharing one lake folder.

`up` starts them and records what it started in ``<root>/cluster.json`` (the pids, the ports) and the settings a
shell needs in ``<root>/cluster.env`` (mode 0600: it holds the database password); `down` stops them from that
record. Nothing here is Dagster code: the processes are the commands a team runs (``movie-assets instance init``,
``dagster-daemon run``, ``dagster-webserver``, ``celery -A movie_assets.wiring.celery_worker worker``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from movie_assets.cluster.postgres import start_postgres, stop_postgres
from movie_assets.cluster.processes import is_alive, kill_group, start_process, stop_group
from movie_assets.cluster.redis import start_redis
from movie_assets.common.network import free_loopback_port
from movie_assets.instance.celery import QUEUE
from movie_assets.lake.files import write_text_atomic

STATE_FILE = "cluster.json"
ENV_FILE = "cluster.env"
WORKER_APP = "movie_assets.wiring.celery_worker"
# How every worker runs: runs execute in threads of the worker process, because Celery's prefork pool makes its
# processes daemonic and Python refuses children to those, while a run's multiprocess executor starts a process per
# step; one message prefetched at a time; no gossip or mingle chatter between workers (nothing here uses it).
WORKER_OPTIONS = ("--pool", "threads", "--prefetch-multiplier", "1", "--loglevel", "INFO", "--without-gossip",
                  "--without-mingle")


class ClusterError(RuntimeError):
    """The cluster cannot be started or found; the message says what to do."""


@dataclass
class Cluster:
    """A running local cluster, as recorded in ``<root>/cluster.json``."""

    root: Path
    project: Path
    data_dir: Path
    pg_root: Path
    pg_port: int
    redis_port: int
    redis_pid: int
    env: dict[str, str] = field(repr=False)
    daemon_pid: int | None = None
    webserver_pid: int | None = None
    webserver_url: str | None = None
    workers: dict[str, int] = field(default_factory=dict)

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def save(self) -> None:
        state = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items() if k != "env"}
        write_text_atomic(json.dumps(state, indent=2, sort_keys=True) + "\n", self.root / STATE_FILE)
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(self.env.items())
                          if k.startswith(("DAGSTER_", "MOVIE_ASSETS_", "TMDB_")))
        env_file = self.root / ENV_FILE
        env_file.touch(mode=0o600)
        os.chmod(env_file, 0o600)
        env_file.write_text("# source this file to run dagster commands against the local cluster\n" + exports)

    @classmethod
    def load(cls, root: Path) -> Cluster:
        """The cluster recorded in ``root``; `ClusterError` when there is none."""
        try:
            state = json.loads((root / STATE_FILE).read_text())
        except FileNotFoundError:
            raise ClusterError(f"no cluster recorded in {root} (start one with `make cluster`)") from None
        env = _read_env_file(root / ENV_FILE)
        paths = {k: Path(state[k]) for k in ("root", "project", "data_dir", "pg_root")}
        return cls(**{**state, **paths, "env": {**os.environ, **env}})

    # --- the processes -------------------------------------------------------------------------------------------
    def start_daemon(self) -> int:
        self.daemon_pid = start_process([_bin("dagster-daemon"), "run", "-w", "workspace.yaml"],
                                        log=self.logs / "daemon.log", env=self.env, cwd=self.project)
        self.save()
        return self.daemon_pid

    def start_webserver(self, port: int) -> str:
        self.webserver_pid = start_process(
            [_bin("dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            log=self.logs / "webserver.log", env=self.env, cwd=self.project)
        self.webserver_url = f"http://127.0.0.1:{port}"
        self.save()
        return self.webserver_url

    def start_worker(self, name: str, concurrency: int = 1, queue: str = QUEUE,
                     env: Mapping[str, str] | None = None) -> int:
        """Start Celery worker ``name`` (``name@<host>``) taking ``concurrency`` runs at a time from ``queue``;
        ``env`` overrides settings for this worker only."""
        command = [_bin("celery"), "-A", WORKER_APP, "worker", "--queues", queue, "--hostname", f"{name}@%h",
                   *WORKER_OPTIONS, "--concurrency", str(concurrency)]
        pid = start_process(command, log=self.logs / f"{name}.log", env={**self.env, **(env or {})},
                            cwd=self.project)
        self.workers[name] = pid
        self.save()
        return pid

    def kill_worker(self, name: str) -> None:
        """SIGKILL worker ``name`` with every process it started (its runs' steps too): a machine that dies."""
        kill_group(self.workers.pop(name))
        self.save()

    def stop_worker(self, name: str) -> None:
        stop_group(self.workers.pop(name), grace=30.0)
        self.save()

    def restart_broker(self) -> None:
        """Stop Redis (SIGTERM: it writes its append-only file) and start it again on the same port and data."""
        stop_group(self.redis_pid)
        self.redis_pid = start_redis(self.root / "redis", self.redis_port)
        self.save()

    def processes(self) -> dict[str, int]:
        """Every process this cluster started, by role, that is still alive."""
        named = {"redis": self.redis_pid, "daemon": self.daemon_pid, "webserver": self.webserver_pid,
                 **{f"worker {name}": pid for name, pid in self.workers.items()}}
        return {role: pid for role, pid in named.items() if pid is not None and is_alive(pid)}


def up(root: Path, project: Path, data_dir: Path, *, workers: int = 2, concurrency: int = 1,
       webserver_port: int | None = None, base_config: Path | None = None,
       env: Mapping[str, str] | None = None) -> Cluster:
    """Start PostgreSQL, Redis, ``movie-assets instance init``, the daemon, the webserver (unless
    ``webserver_port`` is 0) and ``workers`` Celery workers; the lake is ``data_dir``. ``env``: the settings
    every process gets (default: this process's environment), less any ``DAGSTER_*`` (the cluster sets its own)."""
    root = root.resolve()
    if (root / STATE_FILE).exists():
        running = Cluster.load(root).processes()
        if running:
            raise ClusterError(f"a cluster is already up in {root} ({', '.join(running)}): `make cluster-stop` first")
        down(root)  # what a crashed one left: its database cluster too
    for leftover in ("redis", "dagster_home"):  # an old broker's messages must not reach a new instance
        shutil.rmtree(root / leftover, ignore_errors=True)
    (root / "logs").mkdir(parents=True, exist_ok=True)
    base = dict(os.environ if env is None else env)
    for name in [k for k in base if k.startswith("DAGSTER_")]:  # the cluster's own instance, broker and home
        del base[name]
    pg_root = Path(tempfile.mkdtemp(prefix="movie-assets-pg-"))  # under /tmp: reachable by the postgres user
    try:
        pg = start_postgres(pg_root, free_loopback_port())
    except BaseException:
        stop_postgres(pg_root)  # started, then a later step (or pg_ctl's wait) failed
        shutil.rmtree(pg_root, ignore_errors=True)
        raise
    redis_port = free_loopback_port()
    cluster = Cluster(root=root, project=project.resolve(), data_dir=data_dir.resolve(), pg_root=pg_root,
                      pg_port=pg.port, redis_port=redis_port, redis_pid=0, env={})
    cluster.env = {**base, **pg.env("dagster"), "DAGSTER_HOME": str(root / "dagster_home"),
                   "DAGSTER_CELERY_BROKER_URL": cluster.broker_url, "MOVIE_ASSETS_DATA_DIR": str(cluster.data_dir)}
    cluster.save()  # from here on, `down` finds what to stop
    try:
        pg.create_database("dagster")
        cluster.redis_pid = start_redis(root / "redis", redis_port)
        cluster.save()
        init = subprocess.run([_bin("movie-assets"), "instance", "init", "--new-lake", "--base",
                               str(base_config or project / "dagster.yaml")],
                              env=cluster.env, cwd=cluster.project, capture_output=True, text=True, timeout=300)
        if init.returncode != 0:
            raise ClusterError(f"movie-assets instance init failed: {init.stderr.strip()[-500:]}")
        cluster.start_daemon()
        if webserver_port != 0:
            cluster.start_webserver(webserver_port or free_loopback_port())
        for number in range(1, workers + 1):
            cluster.start_worker(f"worker{number}", concurrency)
    except BaseException:
        down(root)
        raise
    return cluster


def down(root: Path) -> list[str]:
    """Stop what the cluster recorded in ``root`` started (workers first, PostgreSQL last) and delete the database
    cluster, the broker's data and the instance folder; the roles stopped. The lake and the logs stay."""
    cluster = Cluster.load(root.resolve())
    stopped = []
    for name, pid in list(cluster.workers.items()):
        stop_group(pid, grace=30.0)
        stopped.append(f"worker {name}")
    for role, pid in (("webserver", cluster.webserver_pid), ("daemon", cluster.daemon_pid),
                      ("redis", cluster.redis_pid)):
        if pid:
            stop_group(pid)
            stopped.append(role)
    stop_postgres(cluster.pg_root)
    shutil.rmtree(cluster.pg_root, ignore_errors=True)
    stopped.append("postgres")
    for leftover in ("redis", "dagster_home"):  # the instance is gone with its database: so are its messages
        shutil.rmtree(cluster.root / leftover, ignore_errors=True)
    (cluster.root / STATE_FILE).unlink(missing_ok=True)
    (cluster.root / ENV_FILE).unlink(missing_ok=True)
    return stopped


def _bin(name: str) -> str:
    """A console script of this environment (the one running this code)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise ClusterError(f"{path} not found: pip install -e '.[celery]'")
    return str(path)


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                values[key] = shlex.split(value)[0] if value else ""
    return values
