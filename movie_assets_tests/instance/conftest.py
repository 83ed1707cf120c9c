"""One PostgreSQL cluster for the ``postgres`` tests; each test gets its own database."""

from __future__ import annotations

import itertools
import os

import pytest

from movie_assets_tests.pg_cluster import PgServer, pg_bindir, postgres_cluster

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    if pg_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs Debian's postgresql package")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_cluster() as server:
        yield server


@pytest.fixture
def pg_env(pg_server: PgServer) -> dict[str, str]:
    """``DAGSTER_PG_*`` for a fresh database of the cluster."""
    return pg_server.env(pg_server.create_database(f"dagster_{next(_databases)}"))
