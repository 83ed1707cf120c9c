"""The deployment files under deploy/ parse, agree with the project, and name things that exist.

Without a cluster, a broker or helm here, each file is checked as far as it can be: the instance YAMLs equal
what `movie-assets instance init` writes (plus the Celery run launcher, whose config Dagster validates);
the Helm values point at an importable code location, known settings, one shared lake volume mounted where
``MOVIE_ASSETS_DATA_DIR`` says, secrets the manifests create, and the same run limits as dagster.yaml; the
Dockerfile installs extras that pyproject.toml defines. The ``postgres`` test loads the Celery instance for
real against a PostgreSQL server.
"""

from __future__ import annotations

import importlib
import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from movie_assets.instance import celery, postgres
from movie_assets.instance.config import instance_config, read_yaml
from movie_assets.tmdb.config import TMDbSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def known_variables() -> set[str]:
    """Every environment variable movie_assets reads (TMDb, the lake, the instance) plus Hugging Face's."""
    import movie_assets.settings as settings

    names = {f.metadata["env"] for f in TMDbSettings.fields()}
    names |= {v for k, v in vars(settings).items() if k.endswith("_ENV") and isinstance(v, str)}
    names |= {v for module in (postgres, celery) for k, v in vars(module).items()
              if k.endswith("_ENV") and isinstance(v, str)}
    return names | {"HF_HUB_OFFLINE", "DAGSTER_HOME"}


def test_every_deploy_yaml_parses():
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert len(files) >= 4
    for path in files:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert documents and all(isinstance(d, dict) for d in documents), path


def test_the_postgres_instance_file_is_what_instance_init_writes():
    expected = instance_config(read_yaml(ROOT / "dagster.yaml"), use_postgres=True)
    assert read_yaml(DEPLOY / "dagster-postgres.yaml") == expected


def test_the_celery_instance_is_what_instance_init_writes_with_a_broker():
    from dagster._config import validate_config  # the validation Dagster applies when it loads the instance
    from dagster_celery.launcher import CeleryRunLauncher

    env = {"DAGSTER_PG_HOST": "db", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USERNAME": "dagster",
           "DAGSTER_PG_PASSWORD": "secret", "DAGSTER_PG_DB": "dagster",
           "DAGSTER_CELERY_BROKER_URL": "redis://broker:6379/0", "DAGSTER_CELERY_BACKEND_URL": "redis://broker:6379/1"}
    written = read_yaml(DEPLOY / "celery" / "dagster.yaml")
    assert written == instance_config(read_yaml(ROOT / "dagster.yaml"), True, env, use_celery=True)
    launcher = written.pop("run_launcher")
    monitoring = written.pop("run_monitoring")
    postgres_file = read_yaml(DEPLOY / "dagster-postgres.yaml")
    assert monitoring == {**postgres_file.pop("run_monitoring"), "poll_interval_seconds": 30,
                          "max_resume_run_attempts": 2}
    assert written == postgres_file
    launcher_class = getattr(importlib.import_module(launcher["module"]), launcher["class"])
    assert issubclass(launcher_class, CeleryRunLauncher) and launcher_class.supports_resume_run
    assert validate_config(launcher_class.config_type(), launcher["config"]).success


@pytest.mark.postgres
def test_the_celery_instance_loads_against_a_real_server(pg_env, tmp_path, monkeypatch):
    from dagster import DagsterInstance
    from dagster_postgres import PostgresRunStorage

    from movie_assets.wiring.celery import CeleryRunLauncher

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((DEPLOY / "celery" / "dagster.yaml").read_text())
    for name, value in {**pg_env, "DAGSTER_CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
                        "DAGSTER_CELERY_BACKEND_URL": "redis://127.0.0.1:1/1"}.items():
        monkeypatch.setenv(name, value)
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.run_launcher, CeleryRunLauncher)
        assert instance.get_runs() == []


def helm_values() -> dict:
    return read_yaml(DEPLOY / "helm" / "values.yaml")


def manifests() -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / "helm" / "manifests.yaml").read_text()) if d]


def test_helm_code_location_is_the_projects_definitions():
    [deployment] = helm_values()["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    assert args[0] == "-m" and args[1] == tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "dagster"]["module_name"]
    assert hasattr(importlib.import_module(args[1]), "defs")
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f'"-p", "{deployment["port"]}", "-m", "{args[1]}"' in dockerfile


def test_helm_env_names_known_settings_and_the_lake_is_one_shared_volume():
    values = helm_values()
    [deployment] = values["dagster-user-deployments"]["deployments"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert set(env) <= known_variables(), set(env) - known_variables()
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    for where in (deployment, launcher):
        [volume] = where["volumes"]
        [mount] = where["volumeMounts"]
        assert volume["persistentVolumeClaim"]["claimName"] == "movie-assets-lake"
        assert mount["name"] == volume["name"] and mount["mountPath"] == env["MOVIE_ASSETS_DATA_DIR"]
    [claim] = [m for m in manifests() if m["kind"] == "PersistentVolumeClaim"]
    assert claim["metadata"]["name"] == "movie-assets-lake" and claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_helm_secrets_exist_and_hold_known_settings():
    values = helm_values()
    secrets = {m["metadata"]["name"]: m for m in manifests() if m["kind"] == "Secret"}
    [deployment] = values["dagster-user-deployments"]["deployments"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    for ref in [*deployment["envSecrets"], *launcher["envSecrets"]]:
        assert ref["name"] in secrets
        assert set(secrets[ref["name"]]["stringData"]) <= known_variables()
    assert "postgresql-password" in secrets[values["global"]["postgresqlSecretName"]]["stringData"]
    assert values["generatePostgresqlPasswordSecret"] is False


def test_helm_instance_settings_match_dagster_yaml():
    values = helm_values()
    project = read_yaml(ROOT / "dagster.yaml")
    runs = project["concurrency"]["runs"]
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == runs["tag_concurrency_limits"]
    assert values["concurrency"]["pools"]["defaultLimit"] == project["concurrency"]["pools"]["default_limit"]
    pg = values["postgresql"]
    assert pg["postgresqlScheme"] == postgres.storage_config()["postgres"]["postgres_db"]["scheme"]
    assert pg["enabled"] is False and pg["postgresqlParams"]["connect_timeout"] > 0


def test_dockerfile_installs_extras_that_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    [wanted] = re.findall(r'pip install [^"]*"\.\[([^\]]+)\]"', dockerfile)
    for extra in wanted.split(","):
        assert extra in extras, extra
    for package in ("dagster-k8s", "dagster-postgres"):
        assert any(dep.startswith(package) for dep in extras["kubernetes"]), package
    assert "MOVIE_ASSETS_DATA_DIR=/data" in dockerfile


def test_deploy_readme_names_every_file():
    readme = (DEPLOY / "README.md").read_text()
    for path in sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.name != "README.md"):
        assert str(path.relative_to(ROOT)) in readme, path
    assert os.path.exists(ROOT / "workspace.yaml")
