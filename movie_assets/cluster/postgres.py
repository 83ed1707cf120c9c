"""A throw-away PostgreSQL cluster: ``initdb`` + ``pg_ctl`` from Debian's ``postgresql`` package, listening on a
loopback port with its socket in its own folder.

Run as root, the server runs as the ``postgres`` user the package creates (PostgreSQL refuses root). Tuned for
throw-away use (no fsync): it holds a cluster's instance database for a trial or a test, not a team's history.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def pg_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


@dataclass(frozen=True)
class PgServer:
    """A running cluster: connection facts and the environment that points Dagster at one database."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    root: Path

    def env(self, db_name: str) -> dict[str, str]:
        """``DAGSTER_PG_*`` for database ``db_name`` of this server."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.username,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": db_name,
        }

    def create_database(self, name: str) -> str:
        import psycopg2

        connection = psycopg2.connect(host=self.host, port=self.port, user=self.username, password=self.password,
                                      dbname="postgres")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name


def _as_server_user(root: Path) -> list[str]:
    """The command prefix that runs PostgreSQL's tools as ``postgres`` when we are root (after giving it ``root``)."""
    if os.geteuid() != 0:
        return []
    server_user = pwd.getpwnam("postgres")
    os.chown(root, server_user.pw_uid, server_user.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def start_postgres(root: Path, port: int) -> PgServer:
    """``initdb`` a cluster in ``root`` (an empty folder the ``postgres`` user can reach) and start it on
    ``127.0.0.1:port`` with a random password for role ``dagster``; `stop_postgres` stops it."""
    bindir = pg_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl not found: apt-get install postgresql")
    as_user = _as_server_user(root)
    password = secrets.token_hex(16)
    data, sockets, log, pwfile = root / "data", root / "sockets", root / "server.log", root / "pwfile"

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    sockets.mkdir()
    descriptor = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never on a command line (ps)
    with os.fdopen(descriptor, "w") as out:
        out.write(password)
    if as_user:
        server_user = pwd.getpwnam("postgres")
        for path in (sockets, pwfile):
            os.chown(path, server_user.pw_uid, server_user.pw_gid)
    run(str(bindir / "initdb"), "-D", str(data), "-U", "dagster", f"--pwfile={pwfile}", "--auth=scram-sha-256",
        "-E", "UTF8", "--no-sync")
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start")
    pwfile.unlink()
    return PgServer("127.0.0.1", port, "dagster", password, root)


def stop_postgres(root: Path) -> None:
    """Stop the cluster in ``root`` (immediately: it is throw-away) if it runs."""
    bindir = pg_bindir()
    if bindir is None or not (root / "data").is_dir():
        return
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
                   capture_output=True, timeout=60)


@contextlib.contextmanager
def postgres_cluster(port: int) -> Iterator[PgServer]:
    """Start a cluster in a new folder under /tmp (reachable by the ``postgres`` user); stop it and delete its
    files on exit."""
    root = Path(tempfile.mkdtemp(prefix="movie-assets-pg-"))
    try:
        server = start_postgres(root, port)
        try:
            yield server
        finally:
            stop_postgres(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
