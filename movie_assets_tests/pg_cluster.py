"""A throw-away PostgreSQL cluster for tests (`movie_assets.cluster.postgres`), on a free loopback port."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from movie_assets.cluster import postgres
from movie_assets.cluster.postgres import PgServer, pg_bindir
from movie_assets_tests.helpers import free_port

__all__ = ["PgServer", "pg_bindir", "postgres_cluster"]


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PgServer]:
    """Start a cluster (a few seconds); stop it and delete its files on exit."""
    with postgres.postgres_cluster(free_port()) as server:
        yield server
