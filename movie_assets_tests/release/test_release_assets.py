"""The release assets and checks through Dagster, on a synthetic lake in tmp_path."""

from __future__ import annotations

import re
import shutil
import subprocess

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movie_assets import definitions
from movie_assets.defs.release import assets as release_assets
from movie_assets.defs.release import checks as release_checks
from movie_assets.defs.release.assets import data_profile, movie_splits, movies_csv_export, movies_sample
from movie_assets.defs.release.checks import data_profile_null_spikes, movie_splits_disjoint_complete
from movie_assets.defs.warehouse import checks as warehouse_checks
from movie_assets.defs.warehouse.assets import movies_db
from movie_assets.lake import Lake, write_parquet_atomic
from movie_assets.release.common import read_consolidated
from movie_assets.wiring.resources import LakeResource, duckdb_resource

from .synthetic import synthetic_rows, write_lake

RELEASE_ASSETS = dg.load_assets_from_modules([release_assets])
# the release's checks and the blocking checks on movies_db that the release depends on
RELEASE_CHECKS = dg.load_asset_checks_from_modules([warehouse_checks, release_checks])
MOVIES_DB_CHECKS = dg.load_asset_checks_from_modules([warehouse_checks])


def resources(data_dir) -> dict:
    return {"lake": LakeResource(data_dir=str(data_dir)), "duckdb": duckdb_resource(str(data_dir))}


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


@pytest.fixture
def data_dir(tmp_path):
    write_lake(tmp_path / "data")
    return tmp_path / "data"


def test_full_release_materializes_checks_pass_and_checksums_verify(data_dir):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([movies_db, *RELEASE_ASSETS, *RELEASE_CHECKS], resources=resources(data_dir),
                            instance=instance)
    assert result.success
    assert materialized(result) == {"movies_db", "movies_sample", "data_profile", "movie_splits",
                                    "movies_csv_export", "release_checksums"}
    checks = evaluations(result)
    assert set(checks) == {spec.name for c in RELEASE_CHECKS for spec in c.check_specs}
    assert all(e.passed for e in checks.values()), {k: e.description for k, e in checks.items()}

    graph = definitions.defs().resolve_asset_graph()  # the attribution is applied once, to every asset
    for asset in ("movies_sample", "data_profile", "movie_splits", "movies_csv_export", "release_checksums"):
        metadata = result.asset_materializations_for_node(asset)[0].metadata
        assert "dagster/row_count" in metadata and "dagster/column_schema" in metadata and "preview" in metadata
        assert "not endorsed or certified by TMDB" in graph.get(dg.AssetKey(asset)).description
    sample_meta = result.asset_materializations_for_node("movies_sample")[0].metadata
    assert sample_meta["dagster/row_count"].value == 200  # fewer movies than the default 10,000
    assert "data:image/png;base64," in sample_meta["movies_per_year_plot"].value
    profile_meta = result.asset_materializations_for_node("data_profile")[0].metadata
    for plot in ("movies_per_year_plot", "missing_rates_plot", "runtime_histogram"):
        assert "data:image/png;base64," in profile_meta[plot].value
    split_meta = result.asset_materializations_for_node("movie_splits")[0].metadata
    assert split_meta["val_start"].value < split_meta["test_start"].value
    assert "leak" in split_meta["leakage_note"].value
    assert "data:image/png;base64," in split_meta["split_sizes_plot"].value

    root = data_dir.parent
    lines = (root / "reports" / "checksums.txt").read_text().splitlines()
    paths = [line.split("  ", 1)[1] for line in lines]
    assert paths == sorted(paths)
    assert "reports/checksums.txt" not in paths and "reports/data_profile.json" in paths
    assert {"data/processed/movies.parquet", "data/processed/movies_sample.parquet",
            "data/processed/splits/train.parquet"} <= set(paths)
    # listed through the movies_parquet symlink by content name, never by generation
    assert any(re.fullmatch(r"data/processed/movies_parquet/year=2021/part-[0-9a-f]{16}\.parquet", p) for p in paths)
    assert any(p.startswith("data/movies_") and p.endswith(".csv") for p in paths)
    check = subprocess.run(["sha256sum", "-c", "reports/checksums.txt"], cwd=root, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(lines)

    # deterministic: a second release gives identical files
    before = {p: (root / p).read_bytes() for p in paths}
    assert dg.materialize(RELEASE_ASSETS, resources=resources(data_dir), instance=instance).success
    assert {p: (root / p).read_bytes() for p in paths} == before


def test_sample_config_and_bytes(data_dir):
    config = {"ops": {"movies_sample": {"config": {"size": 25, "seed": 3}}}}
    dg.materialize([movies_sample], resources=resources(data_dir), run_config=config)
    lake = LakeResource(data_dir=str(data_dir)).lake()
    first = lake.sample_file.read_bytes()
    result = dg.materialize([movies_sample], resources=resources(data_dir), run_config=config)
    assert lake.sample_file.read_bytes() == first
    assert result.asset_materializations_for_node("movies_sample")[0].metadata["dagster/row_count"].value == 25


def test_export_config_errors_name_the_field(data_dir):
    for config, field in (({"start_date": "2021-02-30"}, "start_date"), ({"end_date": "2021/01/01"}, "end_date"),
                          ({"start_date": "2022-01-01", "end_date": "2021-01-01"}, "start_date"),
                          ({"layout": "excel"}, "layout='excel'")):
        with pytest.raises(dg.Failure, match=field):
            dg.materialize([movies_csv_export], resources=resources(data_dir),
                           run_config={"ops": {"movies_csv_export": {"config": config}}})
    with pytest.raises(dg.Failure, match="val_start"):
        dg.materialize([movie_splits], resources=resources(data_dir),
                       run_config={"ops": {"movie_splits": {"config": {"val_start": "2022-01-01",
                                                                       "test_start": "2021-01-01"}}}})


def test_export_in_the_kaggle_layout(data_dir):
    config = {"ops": {"movies_csv_export": {"config": {"layout": "kaggle", "start_date": "2021-01-01",
                                                       "end_date": "2021-12-31"}}}}
    result = dg.materialize([movies_csv_export], resources=resources(data_dir), run_config=config)
    metadata = result.asset_materializations_for_node("movies_csv_export")[0].metadata
    path = data_dir / "movies_2021-01-01_2021-12-31_kaggle.csv"
    assert metadata["layout"].value == "kaggle" and metadata["dagster/uri"].value == str(path)
    assert path.read_text(encoding="utf-8").startswith("id,title,vote_average,vote_count,status,release_date,")
    assert "| genres |" in metadata["preview"].value


def test_bad_movies_db_fails_blocking_checks_and_stops_downstream(tmp_path):
    rows = synthetic_rows({2020: 30, 2021: 30})
    rows[1] = {**rows[1], "movie_id": rows[0]["movie_id"]}  # duplicate id
    rows[2] = {**rows[2], "poster_path": None, "poster_url": "https://image.example/t/p/w500None"}
    rows = [{**r, "cast": [], "directors": []} if i % 3 else r for i, r in enumerate(rows)]  # low coverage
    write_lake(tmp_path / "data", rows)
    result = dg.materialize([movies_db, movies_sample, *MOVIES_DB_CHECKS], resources=resources(tmp_path / "data"),
                            raise_on_error=False)
    checks = evaluations(result)
    assert not checks["movies_db_unique_ids"].passed
    assert not checks["movies_db_image_urls"].passed
    assert not checks["movies_db_credits_coverage"].passed
    assert checks["movies_db_row_drop"].passed  # no previous materialization
    assert "movies_sample" not in materialized(result)  # blocked


def test_payloads_that_predate_an_append_warn_without_blocking(tmp_path):
    rows = synthetic_rows({2020: 30, 2021: 30})
    rows = [{**r, "missing_appends": ["videos", "release_dates"] if i % 4 == 0 else []} for i, r in enumerate(rows)]
    write_lake(tmp_path / "data", rows)
    result = dg.materialize([movies_db, movies_sample, *MOVIES_DB_CHECKS], resources=resources(tmp_path / "data"))
    check = evaluations(result)["movies_db_missing_appends"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN  # a warning …
    assert check.metadata["missing_appends"].value["videos"] == 15 == check.metadata["movies_missing_any"].value
    assert check.metadata["refetch_command"].value == "movie-assets refetch --missing release_dates,videos"
    assert "movie-assets refetch --missing release_dates,videos" in check.description
    assert "movies_sample" in materialized(result)  # … never blocking


def test_row_drop_against_the_previous_materialization(tmp_path):
    data_dir = tmp_path / "data"
    instance = dg.DagsterInstance.ephemeral()
    selection = [movies_db, movies_sample, *MOVIES_DB_CHECKS]
    write_lake(data_dir)
    first = dg.materialize(selection, resources=resources(data_dir), instance=instance)
    assert evaluations(first)["movies_db_row_drop"].passed
    second = dg.materialize(selection, resources=resources(data_dir), instance=instance)  # same rows: passes
    assert evaluations(second)["movies_db_row_drop"].passed

    shutil.rmtree(data_dir / "processed" / "movies_parquet" / "year=2021")  # 120 of 200 movies gone
    third = dg.materialize(selection, resources=resources(data_dir), instance=instance, raise_on_error=False)
    drop = evaluations(third)["movies_db_row_drop"]
    assert not drop.passed and drop.metadata["previous_rows"].value == 200 and drop.metadata["rows"].value == 80
    assert "movies_sample" not in materialized(third)


def test_split_check_fails_on_overlapping_files(data_dir):
    res = resources(data_dir)
    assert dg.materialize([movie_splits, movie_splits_disjoint_complete], resources=res).success
    lake = res["lake"].lake()
    train = pq.read_table(lake.splits_dir / "train.parquet")
    val = pq.read_table(lake.splits_dir / "val.parquet")
    write_parquet_atomic(pa.concat_tables([val, train.slice(0, 3)]), lake.splits_dir / "val.parquet")
    result = dg.materialize([movie_splits, movie_splits_disjoint_complete], resources=res, raise_on_error=False,
                            selection=dg.AssetSelection.checks(movie_splits_disjoint_complete))
    check = evaluations(result)["movie_splits_disjoint_complete"]
    assert not check.passed and check.metadata["overlaps"].value == 3


def test_null_spike_check_warns_without_failing(data_dir):
    instance = dg.DagsterInstance.ephemeral()
    res = resources(data_dir)
    first = dg.materialize([data_profile, data_profile_null_spikes], resources=res, instance=instance)
    assert evaluations(first)["data_profile_null_spikes"].passed
    lake = Lake.at(data_dir)
    table = read_consolidated(lake)
    blanked = table.set_column(table.schema.get_field_index("overview"), "overview",
                               pa.nulls(table.num_rows, pa.string()))
    write_parquet_atomic(blanked, lake.movies_file)
    second = dg.materialize([data_profile, data_profile_null_spikes], resources=res, instance=instance)
    assert second.success
    spike = evaluations(second)["data_profile_null_spikes"]
    assert not spike.passed and spike.severity == dg.AssetCheckSeverity.WARN
    assert "overview" in spike.description


def test_definitions_load_with_ingest_assets(tmp_path):
    from movie_assets.defs.ingest import assets as ingest_assets
    from movie_assets.wiring.resources import TMDbResource

    ingest = dg.load_assets_from_modules([ingest_assets])
    defs = dg.Definitions(assets=[*ingest, movies_db, *RELEASE_ASSETS], asset_checks=RELEASE_CHECKS,
                          resources={**resources(tmp_path / "data"), "tmdb": TMDbResource()})
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} >= {
        "movies_db", "movies_sample", "data_profile", "movie_splits", "movies_csv_export", "release_checksums"}
    assert len(list(graph.asset_check_keys)) == 8
