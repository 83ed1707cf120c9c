"""``movie-assets instance init|check``: write ``$DAGSTER_HOME/dagster.yaml`` and check its storage.

``init`` copies the project's ``dagster.yaml``, with PostgreSQL storage when ``DAGSTER_PG_HOST`` is set, checks
the storage and creates the pools' limit rows (so concurrent first runs never race to create them);
``check`` only checks. A failure is one line naming the setting to fix (exit 2),
never the password.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from movie_assets.instance import config, postgres
from movie_assets.settings import dagster_home_from_env, postgres_selected, postgres_settings_from_env


def _check() -> int:
    if not postgres_selected():
        print(f"instance storage: SQLite under {dagster_home_from_env()} (set {postgres.HOST_ENV} for "
              "PostgreSQL)")
        return 0
    settings = postgres_settings_from_env()
    version = postgres.check_connection(settings)
    print(f"instance storage: PostgreSQL {version} at {settings.where}")
    return 0


def _initialize_pools(dagster_home: Path) -> None:
    import dagster as dg

    from movie_assets.wiring.internals import initialize_pools
    from movie_assets.wiring.policies import POOLS

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        created = initialize_pools(instance, POOLS)
    if created:
        print(f"pools {', '.join(created)}: limit rows created (dagster.yaml's default_limit)")


def instance(args: argparse.Namespace) -> int:
    try:
        if args.instance_command == "init":
            home = dagster_home_from_env()
            written = config.write_instance_yaml(Path(args.base), home, postgres_selected())
            print(f"wrote {written}")
            code = _check()
            _initialize_pools(home)
            return code
        return _check()
    except (postgres.InstanceSettingsError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``instance init [--base dagster.yaml]`` and ``instance check`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser("instance", help="the Dagster instance: write its dagster.yaml, check storage")
    commands = parser.add_subparsers(dest="instance_command", required=True)
    init = commands.add_parser("init", help="write $DAGSTER_HOME/dagster.yaml (PostgreSQL when DAGSTER_PG_HOST is set)")
    init.add_argument("--base", default="dagster.yaml", help="the project's instance settings (default dagster.yaml)")
    init.set_defaults(handler=instance)
    check = commands.add_parser("check", help="connect to the instance storage; one line naming what to fix")
    check.set_defaults(handler=instance)
    return parser
