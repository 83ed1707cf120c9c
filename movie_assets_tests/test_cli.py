"""`movie-assets tmdb check`: top 5 popular movies on success, one clear line and a non-zero exit otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from movie_assets.cli import main
from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets_tests.helpers import free_port

KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN", "TMDB_BASE_URL", "TMDB_REQUESTS_PER_SECOND",
                 "TMDB_RATE_SHARE_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOVIE_ASSETS_DATA_DIR", str(tmp_path / "data"))  # the shared-rate file goes there
    monkeypatch.setattr("movie_assets.cli.load_env_file", lambda: None)  # a developer's .env must not leak in
    return monkeypatch


def test_check_prints_the_top_five_and_the_rate(clean_env, capsys):
    with running_emulator(catalog=Catalog(seed=3, movies_per_year=300), options=EmulatorOptions(api_keys={KEY})) as emu:
        clean_env.setenv("TMDB_BASE_URL", emu.base_url)
        clean_env.setenv("TMDB_API_KEY", KEY)
        assert main(["tmdb", "check"]) == 0
    out = capsys.readouterr().out
    assert "35 requests/s" in out
    assert [line[:2] for line in out.splitlines()[1:6]] == ["1.", "2.", "3.", "4.", "5."]
    assert KEY not in out


def test_check_without_anything_uses_the_emulator(clean_env, capsys):
    clean_env.setenv("TMDB_EMULATOR_MOVIES_PER_YEAR", "300")
    assert main(["tmdb", "check"]) == 0
    assert "built-in emulator" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"TMDB_API_KEY": "wrong" + KEY}, "TMDB_API_KEY"),
        ({"TMDB_BASE_URL": "http://127.0.0.1:{port}/3", "TMDB_API_KEY": KEY}, "TMDB_BASE_URL"),
        ({"TMDB_BASE_URL": "{root}", "TMDB_API_KEY": KEY}, "TMDB_BASE_URL"),
        ({"TMDB_REQUESTS_PER_SECOND": "fast"}, "TMDB_REQUESTS_PER_SECOND"),
    ],
    ids=["wrong-key", "host-down", "wrong-base-url", "bad-setting"],
)
def test_check_fails_with_one_clear_line(clean_env, capsys, env, needle):
    with running_emulator(catalog=Catalog(seed=3, movies_per_year=300), options=EmulatorOptions(api_keys={KEY})) as emu:
        for name, value in env.items():
            value = value.format(port=free_port(), root=emu.root_url)
            clean_env.setenv(name, value)
        if "TMDB_BASE_URL" not in env:
            clean_env.setenv("TMDB_BASE_URL", emu.base_url)
        assert main(["tmdb", "check"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert needle in err and KEY not in err


def test_sync_command_syncs_builds_movies_db_and_records_materializations(tmp_path, monkeypatch, capsys):
    import dagster as dg

    from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
    from movie_assets.lake import Lake

    home = tmp_path / "dagster_home"
    home.mkdir()
    catalog = Catalog(seed=23, movies_per_year=60, first_year=2020, last_year=2026)
    options = EmulatorOptions(as_of=dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC))
    with running_emulator(catalog=catalog, options=options) as emu:
        monkeypatch.setenv("TMDB_BASE_URL", emu.base_url)
        monkeypatch.setenv("TMDB_EXPORTS_BASE_URL", emu.root_url + "/p/exports")
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        assert main(["sync", "--data-dir", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert "full sync against the export of 2026-11-01" in out and "recorded the materializations" in out
    lake = Lake.at(tmp_path / "data")
    assert lake.movies_file.exists() and lake.duckdb_file.exists()
    with dg.DagsterInstance.get() as instance:
        years = instance.get_materialized_partitions(dg.AssetKey("movies"))
        assert {"2020", "2026"} <= years
        assert instance.get_latest_materialization_event(dg.AssetKey("movies_db")) is not None


def test_sync_command_with_an_unreachable_exports_host_says_which_setting(tmp_path, monkeypatch, capsys):
    from movie_assets.emulator import Catalog, running_emulator

    with running_emulator(catalog=Catalog(seed=23, movies_per_year=20)) as emu:
        monkeypatch.setenv("TMDB_BASE_URL", emu.base_url)
        monkeypatch.setenv("TMDB_EXPORTS_BASE_URL", "http://127.0.0.1:9/p/exports")
        monkeypatch.setenv("TMDB_MAX_ATTEMPTS", "1")
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        assert main(["sync", "--data-dir", str(tmp_path / "data")]) == 1
    assert "TMDB_EXPORTS_BASE_URL" in capsys.readouterr().err
