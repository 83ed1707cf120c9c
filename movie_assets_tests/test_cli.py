"""`movie-assets tmdb check`: top 5 popular movies on success, one clear line and a non-zero exit otherwise."""

from __future__ import annotations

import pytest

from movie_assets.cli import main
from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets_tests.helpers import free_port

KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN", "TMDB_BASE_URL", "TMDB_REQUESTS_PER_SECOND"):
        monkeypatch.delenv(name, raising=False)
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
