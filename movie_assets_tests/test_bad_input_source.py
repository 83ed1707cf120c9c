"""Bad-input catalogue, part 4: one lake, one source.

Kind 35: a lake pointed at a second TMDb — `make demo` on the emulator, then a key in ``.env`` and a harvest
into the same directory. Movie ids are unique only within one source, so every writer refuses a lake that
records another source, in one line naming ``MOVIE_ASSETS_DATA_DIR`` and both sources, before any request;
and by default the demo's emulator lake and a real TMDb lake are not in one directory.
(Part 1: `test_bad_input.py`; part 2: `tmdb/test_hostile_servers.py`; part 3: `test_bad_input_lake.py`.)
"""

from __future__ import annotations

import argparse

import dagster as dg
import pytest

from movie_assets.cli import sync as sync_cli
from movie_assets.defs.ingest.assets import discover_movies
from movie_assets.emulator import running_emulator
from movie_assets.emulator.connect import lake_source, open_client
from movie_assets.lake import Lake
from movie_assets.lake.source import LakeSource, LakeSourceError, claim_source, recorded_source, source_file
from movie_assets.settings import data_dir_from_env
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.wiring.resources import LakeResource, TMDbResource

DEMO = LakeSource.emulator(42, 12_000)  # the demo's built-in emulator
SECRET = "k3y-that-must-never-be-written"


def _one_line_naming_both(message: str, *sources: str) -> None:
    assert "\n" not in message.strip()
    assert "MOVIE_ASSETS_DATA_DIR" in message
    for source in sources:
        assert source in message, message


@pytest.fixture
def emulator():
    """A second TMDb (an emulator started by hand, reached through TMDB_BASE_URL) counting its requests."""
    with running_emulator() as emu:
        yield emu


def test_a_new_lake_records_its_source_without_a_credential(tmp_path):
    lake = Lake.at(tmp_path / "data")
    settings = TMDbSettings(base_url="https://user:pass@api.example.org:8443/3", api_key=SECRET)
    claim_source(lake, lake_source(settings))
    assert recorded_source(lake) == LakeSource.api("api.example.org")
    text = source_file(lake).read_text()
    assert SECRET not in text and "pass" not in text and "8443" not in text
    claim_source(lake, lake_source(settings))  # the same source again: fine


async def test_the_emulators_lake_refuses_another_tmdb_before_any_request(tmp_path, emulator):
    lake = Lake.at(tmp_path / "data")
    claim_source(lake, DEMO)
    with pytest.raises(LakeSourceError) as info:
        async with open_client(TMDbSettings(base_url=emulator.base_url, api_key=SECRET), lake=lake):
            pytest.fail("a client was opened")
    _one_line_naming_both(str(info.value), DEMO.describe(), "TMDb at 127.0.0.1", str(lake.root))
    assert SECRET not in str(info.value)
    assert emulator.stats()["requests_total"] == 0
    assert recorded_source(lake) == DEMO  # unchanged


def test_a_lake_from_before_sources_were_recorded_is_not_claimed_by_real_tmdb(tmp_path):
    lake = Lake.at(tmp_path / "data")
    lake.details_store_dir.mkdir(parents=True)
    (lake.details_store_dir / "versions-00000001.parquet").write_bytes(b"a demo lake's shard")
    with pytest.raises(LakeSourceError) as info:
        claim_source(lake, lake_source(TMDbSettings(api_key=SECRET)))  # a key, TMDb's own host
    _one_line_naming_both(str(info.value), "unrecorded source", "TMDb at api.themoviedb.org", str(source_file(lake)))
    assert SECRET not in str(info.value) and recorded_source(lake) is None
    claim_source(lake, LakeSource.api("127.0.0.1"))  # a server on this machine may adopt it (tests, by hand)


async def test_a_real_tmdb_lake_refuses_the_emulator_before_it_starts(tmp_path, caplog):
    lake = Lake.at(tmp_path / "data")
    claim_source(lake, LakeSource.api("api.themoviedb.org"))
    with pytest.raises(LakeSourceError) as info:
        async with open_client(TMDbSettings(), lake=lake):  # no key, no base URL: the built-in emulator
            pytest.fail("a client was opened")
    _one_line_naming_both(str(info.value), "TMDb at api.themoviedb.org", "the built-in emulator (seed 42")
    assert "using the built-in TMDb emulator" not in caplog.text  # it never started


def test_the_sync_command_exits_2_in_one_line_before_any_request(tmp_path, emulator, monkeypatch, capsys):
    lake = Lake.at(tmp_path / "data")
    claim_source(lake, DEMO)
    monkeypatch.setenv("TMDB_BASE_URL", emulator.base_url)
    monkeypatch.setenv("TMDB_API_KEY", SECRET)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    args = argparse.Namespace(data_dir=str(lake.root), include_adult=False, include_video=False, batch_size=500,
                              concurrency=20)
    assert sync_cli.run_sync(args) == sync_cli.EXIT_USAGE
    err = capsys.readouterr().err
    _one_line_naming_both(err, DEMO.describe(), "TMDb at 127.0.0.1")
    assert err.startswith("error: ") and SECRET not in err
    assert emulator.stats()["requests_total"] == 0


def test_a_harvest_step_fails_without_retry_before_any_request(tmp_path, emulator):
    lake = Lake.at(tmp_path / "data")
    claim_source(lake, DEMO)
    result = dg.materialize(
        [discover_movies], partition_key="1975", raise_on_error=False,
        resources={"lake": LakeResource(data_dir=str(lake.root)),
                   "tmdb": TMDbResource(base_url=emulator.base_url, requests_per_second=2000.0)},
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    _one_line_naming_both(failure.step_failure_data.error.message, DEMO.describe(), "TMDb at 127.0.0.1")
    assert emulator.stats()["requests_total"] == 0
    assert not lake.discover_file(1975).exists()


def test_by_default_the_demo_lake_and_a_real_tmdb_lake_are_different_directories():
    demo = data_dir_from_env({})
    assert demo == "data"  # where `make demo` and the documented commands look
    for variable in ("TMDB_READ_ACCESS_TOKEN", "TMDB_API_KEY", "TMDB_BASE_URL"):
        assert data_dir_from_env({variable: "x"}) == "data/tmdb" != demo
    assert data_dir_from_env({"TMDB_API_KEY": "x", "MOVIE_ASSETS_DATA_DIR": "/srv/lake"}) == "/srv/lake"
