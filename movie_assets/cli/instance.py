"""``movie-assets instance init|check``: write ``$DAGSTER_HOME/dagster.yaml`` and check its storage.

``init`` copies the project's ``dagster.yaml``, with PostgreSQL storage when ``DAGSTER_PG_HOST`` is set and the
Celery run launcher when ``DAGSTER_CELERY_BROKER_URL`` is, checks the storage (and the broker) and creates the
pools' limit rows (so concurrent first runs never race to create them); ``check`` only checks. A failure is
one line naming the setting to fix (exit 2), never the password.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from movie_assets.instance import celery, config, postgres
from movie_assets.lake import Lake, LakeError
from movie_assets.settings import (
    DATA_DIR_ENV,
    celery_broker_from_env,
    celery_selected,
    dagster_home_from_env,
    data_dir_from_env,
    postgres_selected,
    postgres_settings_from_env,
)


def _check() -> int:
    if celery_selected():
        celery_broker_from_env()  # its form, before anything connects
        celery.require_shared_instance(postgres_selected())
    if not postgres_selected():
        print(f"instance storage: SQLite under {dagster_home_from_env()} (set {postgres.HOST_ENV} for "
              "PostgreSQL)")
        return 0
    settings = postgres_settings_from_env()
    version = postgres.check_connection(settings)
    print(f"instance storage: PostgreSQL {version} at {settings.where}")
    if celery_selected():
        print(f"runs: on Celery workers, broker {celery.check_broker(celery_broker_from_env())}")
    return 0


def _shared_lake(new: bool) -> None:
    """Say where the shared lake is; with ``new``, start it (its ``state/`` folder, by which a worker's runs
    recognise a lake: they refuse an empty folder, an unmounted volume's mount point). Without ``new`` nothing is
    created, so an unmounted volume here never turns into a lake."""
    lake = Lake.at(data_dir_from_env())
    if new and not lake.holds_a_lake():
        lake.ensure_writable()
        lake.state_dir.mkdir(exist_ok=True)
        print(f"lake: started at {lake.root.resolve()}; every worker mounts it at {DATA_DIR_ENV}={lake.root}")
    elif lake.holds_a_lake():
        print(f"lake: {lake.root.resolve()} (every worker mounts it at {DATA_DIR_ENV}={lake.root})")
    else:
        print(f"lake: none at {DATA_DIR_ENV}={lake.root} yet; workers refuse runs until it is there (mount the "
              "shared volume, or start a new lake once: movie-assets instance init --new-lake)")


def _initialize_pools(dagster_home: Path) -> None:
    import dagster as dg

    from movie_assets.wiring.internals import initialize_pools
    from movie_assets.wiring.policies import POOLS

    try:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            created = initialize_pools(instance, POOLS)
    except Exception as error:  # Dagster's config errors, SQLAlchemy's and psycopg2's: one line, not a traceback
        raise postgres.InstanceSettingsError(_instance_error(dagster_home, error)) from None
    if created:
        print(f"pools {', '.join(created)}: limit rows created (dagster.yaml's default_limit)")


def _instance_error(dagster_home: Path, error: BaseException) -> str:
    """One line for a failure to open the instance Dagster itself configures: the deepest cause's first line
    (what the server or the config check said), without the password."""
    cause, seen = error, {id(error)}
    while (cause.__cause__ or cause.__context__) is not None and id(cause.__cause__ or cause.__context__) not in seen:
        cause = cause.__cause__ or cause.__context__
        seen.add(id(cause))
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    if not postgres_selected():
        return f"Dagster cannot open the instance in {dagster_home}: {text}"
    settings = postgres_settings_from_env()
    if settings.password:
        text = text.replace(settings.password, "***")
    hint = ""
    if "permission denied" in text.lower():
        hint = (f"; role {settings.username!r} must be able to create tables in database {settings.db_name!r} "
                f"(own it, or be granted CREATE on its schema public): check {postgres.USERNAME_ENV} and "
                f"{postgres.DB_ENV}")
    return (f"Dagster cannot open its PostgreSQL storage at {settings.where} with {dagster_home}/dagster.yaml: "
            f"{text[:300]}{hint}")


def instance(args: argparse.Namespace) -> int:
    try:
        if args.instance_command == "init":
            home = dagster_home_from_env()
            if postgres_selected():
                postgres_settings_from_env()  # a malformed setting is refused before anything is written
            if celery_selected():
                url = celery_broker_from_env()  # its form first, then that the instance can be shared, then reach
                celery.require_shared_instance(postgres_selected())
                celery.check_broker(url)
            written = config.write_instance_yaml(Path(args.base), home, postgres_selected(), os.environ,
                                                 celery_selected())
            print(f"wrote {written}")
            if celery_selected():
                _shared_lake(args.new_lake)
            code = _check()
            _initialize_pools(home)
            return code
        return _check()
    except (postgres.InstanceSettingsError, celery.CelerySettingsError, LakeError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``instance init [--base dagster.yaml]`` and ``instance check`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser("instance", help="the Dagster instance: write its dagster.yaml, check storage")
    commands = parser.add_subparsers(dest="instance_command", required=True)
    init = commands.add_parser("init", help="write $DAGSTER_HOME/dagster.yaml (PostgreSQL when DAGSTER_PG_HOST is set)")
    init.add_argument("--base", default="dagster.yaml", help="the project's instance settings (default dagster.yaml)")
    init.add_argument("--new-lake", action="store_true", help="with Celery workers: start a new shared lake at "
                      "MOVIE_ASSETS_DATA_DIR (once, on one machine)")
    init.set_defaults(handler=instance)
    check = commands.add_parser("check", help="connect to the instance storage; one line naming what to fix")
    check.set_defaults(handler=instance)
    return parser
