"""The plain Parquet export, the modality coverage report, the dataset card, and the export's bad input: a model
whose vectors do not exist, a split without interactions, an unknown framework or dataset."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from movie_assets.lake import file_sha256
from movie_assets.recsys import build, sources
from movie_assets.recsys.events import SYNTHETIC
from movie_assets.recsys.exports import parquet
from movie_assets.recsys.exports.coverage import modality_coverage
from movie_assets.recsys.exports.inputs import ExportError, ExportOptions, load_dataset
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.recsys.lakes import CLOCK, changed_lake, events_over

WINDOW = SplitPolicy(val_start=(CLOCK + dt.timedelta(days=5)).isoformat(),
                     test_start=(CLOCK + dt.timedelta(days=15)).isoformat())


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    lake = changed_lake(tmp_path_factory.mktemp("export-parquet"))[0]
    source = events_over(warehouse.read_movies(lake), users=30, per_user=20, start=CLOCK - dt.timedelta(days=60),
                         end=CLOCK + dt.timedelta(days=25))
    result = build.build_from_events(lake, sources.SourceSpec(name="exp", kind=SYNTHETIC), source,
                                     build.DatasetConfig(split=WINDOW, include_catalog_items=True))
    return lake, result


def test_parquet_export_holds_the_dataset_and_one_vector_table_per_modality(dataset, tmp_path):
    lake, result = dataset
    inputs = load_dataset(lake, "exp", ExportOptions(fill="mean"))
    assert inputs.name == result.name  # a source name finds its latest dataset
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    exported = parquet.export(inputs, first)
    parquet.export(load_dataset(lake, result.name, ExportOptions(fill="mean")), second)
    assert {p.name: file_sha256(p) for p in first.iterdir()} == {p.name: file_sha256(p) for p in second.iterdir()}
    [vectors] = [f for f in exported.files if f.startswith("item_embeddings_text_")]
    table = pq.read_table(first / vectors)
    assert table.column("item_index").to_pylist() == list(range(inputs.items.num_rows))
    matrix = np.stack(table.column("vector").to_numpy(zero_copy_only=False))
    assert np.array_equal(matrix, inputs.text.vectors)
    assert table.schema.metadata[b"fill"] == b"mean"


def test_modality_coverage_by_split_warm_cold_and_decade(dataset):
    lake, _ = dataset
    report = modality_coverage(load_dataset(lake, "exp"))
    assert report["all_items"]["text"] == 1.0 and set(report["splits"]) == {"train", "val", "test"}
    assert {"warm", "cold"} <= set(report["splits"]["test"])
    assert sum(d["items"] for d in report["by_decade"].values()) == report["all_items"]["items"]


def test_the_dataset_card_says_what_may_be_published(dataset):
    _, result = dataset
    card = (result.directory / "DATASET_CARD.md").read_text()
    assert "May this folder be published? Yes" in card and "not endorsed or certified by TMDB" in card
    manifest = json.loads((result.directory / "manifest.json").read_text())
    assert manifest["licence"]["items"]["terms"].startswith("https://www.themoviedb.org/")


@pytest.mark.parametrize("options, message", [
    (dict(text_model="nope"), "text_model='nope': the dataset .* has no text vectors of that model"),
    (dict(image_model="nope"), "image_model='nope'"),
    (dict(fill="median"), "fill='median' is not one of"),
])
def test_bad_export_options_name_the_setting(dataset, options, message):
    lake, _ = dataset
    with pytest.raises(ExportError, match=message):
        load_dataset(lake, "exp", ExportOptions(**options))


def test_a_missing_dataset_or_an_empty_split_is_named(dataset):
    lake, result = dataset
    with pytest.raises(ExportError, match="no recommender dataset 'other'"):
        load_dataset(lake, "other")
    early = build.build_from_events(
        lake, sources.SourceSpec(name="early", kind=SYNTHETIC),
        events_over(warehouse.read_movies(lake), users=5, per_user=5, start=CLOCK - dt.timedelta(days=60),
                    end=CLOCK - dt.timedelta(days=30)), build.DatasetConfig(split=WINDOW))
    with pytest.raises(ExportError, match="has no val interactions.*val_start, test_start"):
        load_dataset(lake, early.name)


def test_a_missing_extra_is_one_line_naming_it(monkeypatch):
    import sys

    from movie_assets.recsys.exports.common import scipy_sparse

    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ExportError, match=r"pip install 'movie_assets\[recsys\]'"):
        scipy_sparse()


@pytest.mark.parametrize("framework", ["mmrec", "cornac"])
def test_nan_fills_are_refused_where_the_framework_feeds_them_to_the_model(dataset, framework):
    from movie_assets.recsys.exports.run import run_export

    lake, result = dataset
    with pytest.raises(ExportError, match=f"fill='none' writes NaN rows.*export {framework} with fill"):
        run_export(lake, "exp", framework, ExportOptions(fill="none"))
    assert not (result.directory / framework).exists()  # nothing half-written
