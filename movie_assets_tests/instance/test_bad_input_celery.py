"""Bad-input catalogue, part 4b: runs on Celery workers (part 4: `test_bad_input_instance.py`).

Kinds: 1 a broker or backend URL that is not a URL (or has blanks, or cannot work: a non-Redis broker with no
backend, an ``rpc://`` backend), 2 a broker nothing answers (its password never shown), 3 a broker without
PostgreSQL (a Celery cluster needs a shared instance), 4 a worker started on an instance without a Celery launcher,
5 a worker's lake that is not there (a missing folder, an unmounted volume's empty mount point), 6 cluster
commands with no cluster started. Each ends in one line naming the variable or command to fix; earlier good output
(``$DAGSTER_HOME/dagster.yaml``) stays untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_assets.cli import main
from movie_assets.instance import celery, postgres
from movie_assets.lake import Lake, LakeError
from movie_assets_tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hostileSECRETbrokerPassword42"


def run_init(monkeypatch, capsys, tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    for name in (postgres.HOST_ENV, postgres.PORT_ENV, postgres.USERNAME_ENV, postgres.PASSWORD_ENV,
                 postgres.DB_ENV, celery.BROKER_ENV, celery.BACKEND_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOVIE_ASSETS_DATA_DIR", str(tmp_path / "lake"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["instance", "init", "--base", str(ROOT / "dagster.yaml")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


@pytest.mark.parametrize(("env", "message"), [
    ({celery.BROKER_ENV: f"redis:/:{SECRET}@localhost:6379"}, "DAGSTER_CELERY_BROKER_URL must be a broker URL"),
    ({celery.BROKER_ENV: " redis://localhost:6379/0"}, "DAGSTER_CELERY_BROKER_URL has blanks"),
    ({celery.BROKER_ENV: "amqp://guest@localhost//"}, "set DAGSTER_CELERY_BACKEND_URL"),
    ({celery.BROKER_ENV: "redis://localhost:6379/0", celery.BACKEND_ENV: "rpc://"}, "only the sender of a task"),
    ({celery.BROKER_ENV: "redis://localhost:6379/0", celery.BACKEND_ENV: "localhost"},
     "DAGSTER_CELERY_BACKEND_URL must be a result backend URL"),
    ({celery.BROKER_ENV: "redis://localhost:6379/0"}, "DAGSTER_PG_HOST is not"),
], ids=["not a url", "blanks", "amqp without a backend", "rpc backend", "backend not a url", "no postgres"])
def test_celery_settings_that_cannot_work_name_the_setting(monkeypatch, capsys, tmp_path, env, message):
    code, output = run_init(monkeypatch, capsys, tmp_path, env)
    assert code == 2 and message in one_error_line(output)
    assert SECRET not in output
    assert not (tmp_path / "home" / "dagster.yaml").exists()
    monkeypatch.delenv("DAGSTER_HOME")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["instance", "check"]) == 2 and message in one_error_line(capsys.readouterr().err)


def test_a_broker_nothing_answers_is_one_line_without_its_password(monkeypatch, capsys, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("# the good one\n")
    url = f"redis://:{SECRET}@127.0.0.1:{free_port()}/0"
    code, output = run_init(monkeypatch, capsys, tmp_path, {celery.BROKER_ENV: url, postgres.HOST_ENV: "127.0.0.1"})
    line = one_error_line(output)
    assert code == 2 and "cannot reach the Celery broker at redis://" in line and "DAGSTER_CELERY_BROKER_URL" in line
    assert SECRET not in output
    assert (home / "dagster.yaml").read_text() == "# the good one\n"


def test_a_broker_without_postgres_is_refused_naming_the_missing_setting(monkeypatch):
    with pytest.raises(celery.CelerySettingsError, match="DAGSTER_PG_HOST is not"):
        from movie_assets.instance.config import instance_config, read_yaml

        instance_config(read_yaml(ROOT / "dagster.yaml"), use_postgres=False,
                        env={celery.BROKER_ENV: "redis://127.0.0.1:6379/0"}, use_celery=True)


def test_a_worker_on_an_instance_without_a_celery_launcher_says_how_to_get_one(monkeypatch, tmp_path):
    from movie_assets.wiring.celery import worker_app

    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match="no Celery run launcher: run `movie-assets instance init` with "
                       "DAGSTER_CELERY_BROKER_URL set"):
        worker_app()


@pytest.mark.parametrize("layout", ["missing", "empty mount point"])
def test_a_worker_lake_that_is_not_there_names_the_setting_and_writes_nothing(tmp_path, layout):
    root = tmp_path / "lake"
    if layout == "empty mount point":
        root.mkdir()
    with pytest.raises(LakeError) as error:
        Lake.at(root).require_existing()
    message = str(error.value)
    assert "\n" not in message and f"MOVIE_ASSETS_DATA_DIR={str(root)!r} holds no lake" in message
    assert not root.exists() or list(root.iterdir()) == []


def test_a_lake_that_is_there_passes(tmp_path):
    (tmp_path / "lake" / "state").mkdir(parents=True)
    Lake.at(tmp_path / "lake").require_existing()


def test_the_lake_resource_checks_the_lake_only_on_a_worker(tmp_path, monkeypatch):
    import dagster as dg

    from movie_assets.wiring.resources import LakeResource

    resource = LakeResource(data_dir=str(tmp_path / "unmounted"))
    monkeypatch.delenv("MOVIE_ASSETS_LAKE_MUST_EXIST", raising=False)
    resource.setup_for_execution(dg.build_init_resource_context())  # a machine of its own may start a lake
    monkeypatch.setenv("MOVIE_ASSETS_LAKE_MUST_EXIST", "1")
    with pytest.raises(LakeError, match="holds no lake"):
        resource.setup_for_execution(dg.build_init_resource_context())


def test_cluster_commands_without_a_cluster_say_how_to_start_one(tmp_path, capsys):
    for command in ("status", "down"):
        assert main(["cluster", "--root", str(tmp_path / "none"), command]) == 2
        assert "no cluster recorded" in one_error_line(capsys.readouterr().err)
