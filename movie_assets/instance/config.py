"""The ``dagster.yaml`` a ``$DAGSTER_HOME`` gets: the project's file, with the storage the settings choose."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from movie_assets.instance import celery, postgres
from movie_assets.lake.files import write_text_atomic

HEADER = (
    "# Written by `movie-assets instance init` from the project's dagster.yaml"
    " (edit that file, not this copy).\n"
)


def instance_config(base: Mapping[str, Any], use_postgres: bool,
                    env: Mapping[str, str] | None = None, use_celery: bool = False) -> dict[str, Any]:
    """``base`` (the project's dagster.yaml), with PostgreSQL storage (from ``DAGSTER_PG_*``) if asked; with
    ``env``, the variables unset there are written as their defaults (`postgres.storage_config`). With
    ``use_celery`` (PostgreSQL required), runs go to Celery workers and run monitoring resumes a lost worker's runs
    (`celery.launcher_config`); ``base``'s own ``run_monitoring`` values win over the Celery defaults."""
    config = copy.deepcopy(dict(base))
    if use_postgres:
        config["storage"] = postgres.storage_config(env)
    if use_celery:
        celery.require_shared_instance(use_postgres)
        config["run_launcher"] = celery.launcher_config(env or {})
        config["run_monitoring"] = {**dict(config.get("run_monitoring") or {}), **{
            key: value for key, value in celery.RUN_MONITORING.items()
            if key not in (base.get("run_monitoring") or {})}}
    return config


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; `ValueError` naming the file when it is not one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a YAML mapping")
    return data


def write_instance_yaml(base_file: Path, dagster_home: Path, use_postgres: bool,
                        env: Mapping[str, str] | None = None, use_celery: bool = False) -> Path:
    """Write ``$DAGSTER_HOME/dagster.yaml`` (atomically) and return its path (``env``, ``use_celery``: see
    `instance_config`)."""
    config = instance_config(read_yaml(base_file), use_postgres, env, use_celery)
    dagster_home.mkdir(parents=True, exist_ok=True)
    text = HEADER + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    return write_text_atomic(text, dagster_home / "dagster.yaml")

