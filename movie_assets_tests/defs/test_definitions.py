"""The Dagster wiring: definitions load, pools, partitions, and a real materialization on the emulator."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from movie_assets import definitions
from movie_assets.defs.ingest.assets import discover_movies, movie_details, movies
from movie_assets.defs.ingest.partitions import partition_year, yearly_partitions
from movie_assets.defs.warehouse.assets import movies_db
from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.lake import Lake
from movie_assets.settings import start_year_from_env
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.wiring.resources import LakeResource, TMDbResource

defs = definitions.defs()  # the project's one Definitions, loaded from movie_assets/defs/

YEAR = "2020"
INGEST = [discover_movies, movie_details, movies]


def resources_for(emu, tmp_path, **tmdb) -> dict:
    lake = Lake.at(tmp_path / "data")
    return {
        "tmdb": TMDbResource(base_url=emu.base_url, requests_per_second=2000, **tmdb),
        "lake": LakeResource(data_dir=str(lake.root)),
        "duckdb": DuckDBResource(database=str(lake.duckdb_file)),
    }


def test_definitions_load_with_expected_assets_pools_and_partitions():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"discover_movies", "movie_details", "movies", "movies_db"} <= keys
    pools = set().union(*(graph.get(dg.AssetKey(k)).pools or set() for k in keys))
    assert pools == {"tmdb", "duckdb"}  # a typo would silently create a new, unlimited pool
    keys_of_partitions = yearly_partitions.get_partition_keys()
    assert keys_of_partitions[0] == "1900" and len(keys_of_partitions[-1]) == 4
    for name in ("discover_movies", "movie_details"):
        assert graph.get(dg.AssetKey(name)).pools == {"tmdb"}
    for name in keys:
        assert "not endorsed or certified by TMDB" in (graph.get(dg.AssetKey(name)).description or "")


def test_bad_partitions_and_start_years_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown partition '1800'"):
        partition_year("1800")
    monkeypatch.setenv("MOVIE_ASSETS_START_YEAR", "3000")
    with pytest.raises(ValueError, match="MOVIE_ASSETS_START_YEAR=3000"):
        start_year_from_env()
    monkeypatch.setenv("MOVIE_ASSETS_START_YEAR", "nineteen")
    with pytest.raises(ValueError, match="not a year"):
        start_year_from_env()


def test_materialize_one_year_end_to_end(tmp_path):
    with running_emulator(catalog=Catalog(seed=12, movies_per_year=800)) as emu:
        resources = resources_for(emu, tmp_path)
        result = dg.materialize(INGEST, resources=resources, partition_key=YEAR)
        assert result.success
        assert dg.materialize([movies_db], resources=resources).success
    meta = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert meta["movies"]["dagster/row_count"].value > 0
    assert meta["movies"]["dagster/row_count"].value == meta["discover_movies"]["dagster/row_count"].value
    assert "dagster/column_schema" in meta["movies"]
    assert meta["movie_details"]["tmdb/requests"].value >= meta["movies"]["dagster/row_count"].value
    lake = Lake.at(tmp_path / "data")
    assert lake.movies_file.exists() and lake.duckdb_file.exists()


def test_wrong_key_fails_the_run_naming_the_setting(tmp_path):
    options = EmulatorOptions(api_keys={"right-key"})
    with running_emulator(catalog=Catalog(seed=12, movies_per_year=300), options=options) as emu:
        resources = resources_for(emu, tmp_path, api_key="wrong-key-123456")
        result = dg.materialize([discover_movies], resources=resources, partition_key=YEAR, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.event_specific_data.error)
    assert failure.event_specific_data.user_failure_data is not None  # a dg.Failure: not retried
    assert "TMDB_API_KEY" in text and "wrong-key-123456" not in text


def test_unwritable_data_dir_fails_naming_the_setting(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    with running_emulator(catalog=Catalog(seed=12, movies_per_year=300)) as emu:
        resources = resources_for(emu, tmp_path)
        resources["lake"] = LakeResource(data_dir=str(blocker / "data"))
        result = dg.materialize([discover_movies], resources=resources, partition_key=YEAR, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "MOVIE_ASSETS_DATA_DIR" in str(failure.event_specific_data.error)


def test_tmdb_resource_has_one_field_per_setting_described_by_its_variable():
    fields = TMDbResource.model_fields
    assert set(fields) == {f.name for f in TMDbSettings.fields()}
    for f in TMDbSettings.fields():
        assert fields[f.name].description.startswith(f.metadata["env"] + ": ")
    assert TMDbResource().settings() == TMDbSettings()  # nothing set: the built-in emulator
    assert TMDbResource().settings().uses_emulator


def test_tmdb_resource_from_environment_binds_secrets_as_env_vars_and_validates_numbers(monkeypatch):
    for f in TMDbSettings.fields():
        monkeypatch.delenv(f.metadata["env"], raising=False)
    monkeypatch.setenv("TMDB_API_KEY", "secret-key-123")
    monkeypatch.setenv("TMDB_CONNECT_TIMEOUT", "4.5")
    resource = TMDbResource.from_environment()
    assert isinstance(resource.api_key, dg.EnvVar) and resource.api_key.env_var_name == "TMDB_API_KEY"
    assert resource.read_access_token is None and resource.base_url is None
    assert resource.connect_timeout == 4.5  # every setting reaches Dagster runs, not only some
    assert "secret-key-123" not in repr(resource)
    monkeypatch.setenv("TMDB_EMULATOR_SEED", "abc")
    with pytest.raises(ValueError, match="TMDB_EMULATOR_SEED"):
        TMDbResource.from_environment()


def test_movie_id_export_materializes_from_the_built_in_emulators_files_host(tmp_path, monkeypatch):
    from movie_assets.defs.catalog.assets import movie_id_export

    monkeypatch.setenv("TMDB_EMULATOR_MOVIES_PER_YEAR", "100")
    resources = {"tmdb": TMDbResource(emulator_movies_per_year=100), "lake": LakeResource(data_dir=str(tmp_path))}
    result = dg.materialize([movie_id_export], resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("movie_id_export")[0].metadata
    # The emulator's clock is 2026-11-01 00:00 UTC: before 08:00, so the export of the day before is used.
    assert metadata["export_day"].value == "2026-10-31" and metadata["dagster/row_count"].value > 0
    assert Lake.at(tmp_path).export_days() == [dt.date(2026, 10, 31)]


def test_catalog_sync_asset_runs_the_sync_and_records_the_partitions_it_rebuilt(tmp_path):
    from movie_assets.defs.catalog.assets import catalog_sync

    catalog = Catalog(seed=24, movies_per_year=40, first_year=2018, last_year=2026)
    options = EmulatorOptions(as_of=dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC))
    with running_emulator(catalog=catalog, options=options) as emu, dg.DagsterInstance.ephemeral() as instance:
        resources = resources_for(emu, tmp_path, exports_base_url=emu.root_url + "/p/exports")
        result = dg.materialize([catalog_sync], resources=resources, instance=instance)
        assert result.success
        metadata = result.asset_materializations_for_node("catalog_sync")[0].metadata
        assert metadata["full"].value is True and metadata["listed"].value > 0
        assert {"2018", "2026"} <= instance.get_materialized_partitions(dg.AssetKey("movies"))
    assert defs.get_schedule_def("catalog_sync_schedule").default_status == dg.DefaultScheduleStatus.STOPPED


def _defs_objects(kind: type) -> list[tuple[str, str, object]]:
    """(domain folder, module file, object) for every module-level ``kind`` under movie_assets/defs/."""
    import importlib
    import pkgutil

    import movie_assets.defs

    found = []
    for info in pkgutil.walk_packages(movie_assets.defs.__path__, "movie_assets.defs."):
        module = importlib.import_module(info.name)
        parts = info.name.split(".")
        if len(parts) < 4:
            continue
        for value in vars(module).values():
            if isinstance(value, kind):
                found.append((parts[2], parts[3], value))
    # A definition imported by name into a second module would be loaded twice (Dagster refuses duplicate keys):
    # modules import each other's definitions as modules (`from movie_assets.defs.ingest import assets`).
    assert len({id(v) for _, _, v in found}) == len(found), "a definition is a module-level name of two modules"
    return found


def test_groups_are_folders_jobs_in_jobs_py_and_checks_beside_their_assets():
    folder_of_asset = {}
    for folder, _, asset in _defs_objects(dg.AssetsDefinition):
        for key in asset.keys:
            if asset.specs_by_key.get(key) is not None and asset.is_executable:
                folder_of_asset.setdefault(key, folder)
                assert asset.specs_by_key[key].group_name == folder, f"{key.to_user_string()} is not in group {folder}"
    assert {"movies_db", "movie_posters", "poster_embeddings"} <= {k.to_user_string() for k in folder_of_asset}
    for folder, module, job in _defs_objects((dg.JobDefinition, type(dg.define_asset_job("probe")))):
        assert module == "jobs", f"{job.name} is defined in {folder}/{module}.py, not {folder}/jobs.py"
    for folder, _, check in _defs_objects(dg.AssetChecksDefinition):
        for key in check.check_keys:
            assert folder_of_asset[key.asset_key] == folder, f"{key.name} checks an asset of another folder"


@pytest.mark.slow
def test_dg_check_defs_typed_in_a_fresh_shell(tmp_path):
    """`dg check defs` as the docs print it, in a shell without DAGSTER_HOME: the project's dagster.yaml names
    no variable, so Dagster's temporary instance reads it as it is."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(definitions.__file__).resolve().parent.parent
    venv = Path(sys.executable).parent.parent
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(VIRTUAL_ENV=str(venv), MOVIE_ASSETS_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path))
    done = subprocess.run([str(venv / "bin" / "dg"), "check", "defs"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully" in done.stdout + done.stderr
