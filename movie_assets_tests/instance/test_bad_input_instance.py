"""Bad-input catalogue, part 4: the Dagster instance's storage (part 1: `movie_assets_tests/test_bad_input.py`).

Kinds: 1 PostgreSQL unreachable (nothing listens on the port), 2 a wrong password, 3 an unknown role, 4 an
unknown database, 5 a port that is not a number or out of range, 6 a host that is a URL, 7 no
``$DAGSTER_HOME``, 8 a project ``dagster.yaml`` that is not a YAML mapping, 9 Dagster itself started with a
wrong password. Each ends in one line naming the variable or file to fix (exit 2 for ``movie-assets
instance``), and the password never appears, neither in our messages nor in Dagster's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from movie_assets.cli import main
from movie_assets.instance import postgres
from movie_assets.instance.config import write_instance_yaml
from movie_assets_tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
WRONG = "hostileSECRETpgPassword0123"


def run_check(monkeypatch, capsys, env: dict[str, str], *args: str) -> tuple[int, str]:
    for name in (postgres.HOST_ENV, postgres.PORT_ENV, postgres.USERNAME_ENV, postgres.PASSWORD_ENV,
                 postgres.DB_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["instance", *(args or ("check",))])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def assert_one_line(output: str, *needles: str, secret: str | None = None) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    for needle in needles:
        assert needle in lines[0], (needle, output)
    if secret:
        assert secret not in output


@pytest.mark.postgres
def test_unreachable_server_is_one_line_naming_host_and_port(monkeypatch, capsys):
    env = {postgres.HOST_ENV: "127.0.0.1", postgres.PORT_ENV: str(free_port()), postgres.PASSWORD_ENV: WRONG}
    started = time.monotonic()
    code, output = run_check(monkeypatch, capsys, env)
    assert code == 2 and time.monotonic() - started < 10
    assert_one_line(output, "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "connection refused", secret=WRONG)


@pytest.mark.postgres
def test_wrong_password_is_one_line_naming_the_password_setting(pg_env, monkeypatch, capsys):
    code, output = run_check(monkeypatch, capsys, {**pg_env, postgres.PASSWORD_ENV: WRONG})
    assert code == 2
    assert_one_line(output, "DAGSTER_PG_PASSWORD", "refused the password", secret=WRONG)
    assert pg_env[postgres.PASSWORD_ENV] not in output


@pytest.mark.postgres
@pytest.mark.parametrize(("variable", "value", "needle"), [
    (postgres.USERNAME_ENV, "nobody_here", "DAGSTER_PG_USERNAME"),
    (postgres.DB_ENV, "no_such_db", "DAGSTER_PG_DB"),
])
def test_unknown_role_or_database_names_its_setting(pg_env, monkeypatch, capsys, variable, value, needle):
    code, output = run_check(monkeypatch, capsys, {**pg_env, variable: value})
    assert code == 2
    assert_one_line(output, needle, secret=pg_env[postgres.PASSWORD_ENV])


@pytest.mark.postgres
def test_a_good_server_checks_ok_without_printing_the_password(pg_env, monkeypatch, capsys):
    code, output = run_check(monkeypatch, capsys, pg_env)
    assert code == 0 and "instance storage: PostgreSQL" in output and pg_env[postgres.PASSWORD_ENV] not in output


@pytest.mark.parametrize(("variable", "value"), [
    (postgres.PORT_ENV, "54x32"),
    (postgres.PORT_ENV, "70000"),
    (postgres.PORT_ENV, "5432²"),  # str.isdigit() says yes, int() says no
    (postgres.HOST_ENV, "postgresql://dagster:" + WRONG + "@db:5432/dagster"),
    (postgres.HOST_ENV, " 127.0.0.1 "),  # our check would strip it, Dagster reads it as it is
    (postgres.USERNAME_ENV, "dagster\n"),  # a secret file's trailing newline
    (postgres.HOST_ENV, "::1"),  # Dagster's URL reads '::1:5432' as host ':' and port ':1:5432'
    (postgres.DB_ENV, "a?b"),  # Dagster's URL would connect to database 'a'
])
def test_malformed_settings_are_refused_before_connecting(monkeypatch, capsys, variable, value):
    env = {postgres.HOST_ENV: "127.0.0.1", postgres.PASSWORD_ENV: WRONG, variable: value}
    code, output = run_check(monkeypatch, capsys, env)
    assert code == 2
    assert_one_line(output, variable)
    # A URL in the host setting is refused with its user:password masked (see the test below).


def test_init_without_dagster_home_names_it(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    code, output = run_check(monkeypatch, capsys, {}, "init", "--base", str(ROOT / "dagster.yaml"))
    assert code == 2
    assert_one_line(output, "DAGSTER_HOME")


def test_init_with_a_base_file_that_is_not_a_mapping_names_the_file(monkeypatch, capsys, tmp_path):
    base = tmp_path / "dagster.yaml"
    base.write_text("- just\n- a list\n")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    code, output = run_check(monkeypatch, capsys, {}, "init", "--base", str(base))
    assert code == 2
    assert_one_line(output, str(base))
    assert not (tmp_path / "home" / "dagster.yaml").exists()


@pytest.mark.postgres
@pytest.mark.slow
def test_dagster_started_with_a_wrong_password_does_not_print_it(pg_env, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "DAGSTER_", "MOVIE_ASSETS_"))}
    env.update({**pg_env, postgres.PASSWORD_ENV: WRONG, "DAGSTER_HOME": str(tmp_path / "home"),
                "MOVIE_ASSETS_DATA_DIR": str(tmp_path / "data")})
    write_instance_yaml(ROOT / "dagster.yaml", tmp_path / "home", use_postgres=True)
    result = subprocess.run([str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m",
                             "movie_assets.definitions", "--select", "discover_movies", "--partition", "2024"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    assert "password authentication failed" in result.stdout + result.stderr
    assert WRONG not in result.stdout + result.stderr


def test_init_writes_the_defaults_of_unset_variables_for_dagster_to_read(tmp_path):
    """Dagster has no default for an ``{env: ...}`` value: a variable our check defaulted must not be read
    from the environment by Dagster (it failed to start with a traceback after the check passed)."""
    from movie_assets.instance.config import read_yaml

    env = {postgres.HOST_ENV: "db.internal", postgres.PASSWORD_ENV: WRONG}
    written = read_yaml(write_instance_yaml(ROOT / "dagster.yaml", tmp_path, use_postgres=True, env=env))
    db = written["storage"]["postgres"]["postgres_db"]
    assert db["hostname"] == {"env": postgres.HOST_ENV} and db["password"] == {"env": postgres.PASSWORD_ENV}
    assert (db["port"], db["username"], db["db_name"]) == (5432, "dagster", "dagster")
    assert WRONG not in (tmp_path / "dagster.yaml").read_text()
    full = {**env, postgres.PORT_ENV: "6543", postgres.USERNAME_ENV: "u", postgres.DB_ENV: "d"}
    written = read_yaml(write_instance_yaml(ROOT / "dagster.yaml", tmp_path, use_postgres=True, env=full))
    assert written["storage"]["postgres"]["postgres_db"]["port"] == {"env": postgres.PORT_ENV}


@pytest.mark.postgres
def test_init_with_role_and_database_left_to_their_defaults_starts_dagster(pg_server, monkeypatch, capsys, tmp_path):
    pg_server.create_database("dagster")  # the cluster's role is "dagster": both defaults exist
    env = {postgres.HOST_ENV: pg_server.host, postgres.PORT_ENV: str(pg_server.port),
           postgres.PASSWORD_ENV: pg_server.password}
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    code, output = run_check(monkeypatch, capsys, env, "init", "--base", str(ROOT / "dagster.yaml"))
    assert code == 0, output
    assert "pools" in output and "Traceback" not in output and pg_server.password not in output


@pytest.mark.postgres
def test_init_with_a_role_that_cannot_create_tables_is_one_line(pg_server, monkeypatch, capsys, tmp_path):
    import psycopg2

    connection = psycopg2.connect(host=pg_server.host, port=pg_server.port, user=pg_server.username,
                                  password=pg_server.password, dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE reader LOGIN PASSWORD '{WRONG}'")
        cursor.execute('CREATE DATABASE "not_owned"')  # PostgreSQL 15: no CREATE on schema public for others
    connection.close()
    env = {postgres.HOST_ENV: pg_server.host, postgres.PORT_ENV: str(pg_server.port),
           postgres.USERNAME_ENV: "reader", postgres.PASSWORD_ENV: WRONG, postgres.DB_ENV: "not_owned"}
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    code, output = run_check(monkeypatch, capsys, env, "init", "--base", str(ROOT / "dagster.yaml"))
    assert code == 2 and "Traceback" not in output and WRONG not in output
    last = output.strip().splitlines()[-1]
    assert last.startswith("error: ") and "permission denied" in last and "DAGSTER_PG_USERNAME" in last, output


def test_a_url_in_the_host_setting_is_refused_without_echoing_its_password(monkeypatch, capsys):
    env = {postgres.HOST_ENV: "postgresql://dagster:" + WRONG + "@db:5432/dagster", postgres.PASSWORD_ENV: "x"}
    code, output = run_check(monkeypatch, capsys, env)
    assert code == 2
    assert_one_line(output, postgres.HOST_ENV, "***@db", secret=WRONG)
