"""The poster assets end to end with the packaged image encoder: per-year posters and vectors from the emulator,
the poster index with its blocking check and image preview, the modality masks (table, view, report), and
``movie-assets similar --by text|poster|both --json`` with an ambiguous title."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from dagster_duckdb import DuckDBResource

from movie_assets.cli import main
from movie_assets.defs.posters.assets import (
    COVERS_CHECK,
    item_modalities,
    movie_posters,
    poster_embeddings,
    poster_index_asset,
    undated_movie_posters,
    undated_poster_embeddings,
)
from movie_assets.embeddings import index, movie_index, partitions
from movie_assets.emulator import Catalog, running_emulator
from movie_assets.wiring.resources import LakeResource, TMDbResource
from movie_assets_tests.embeddings.conftest import FakeEncoder, catalog_rows, catalog_years, write_catalog

pytestmark = pytest.mark.slow


def _metadata(result, key: str) -> dict:
    [mat] = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(key)]
    return mat.step_materialization_data.materialization.metadata


def test_posters_vectors_index_masks_and_search(tmp_path, capsys):
    catalog = Catalog(seed=3, movies_per_year=300)
    paths = [catalog.details(s.id)["poster_path"] for s in catalog.movies_in_year(2001)]
    paths = [p for p in paths if p]
    rows = catalog_rows()
    for i, row in enumerate(rows):
        row["poster_path"] = None if row["movie_id"] == 238 else paths[i]  # The Godfather has no poster
        row["original_language"] = "en" if i % 3 else "ja"
        row["vote_count"] = {949: 100, 9001: 500}.get(row["movie_id"], 10)  # the older "Heat" is the most voted
    lake = write_catalog(tmp_path / "data", rows)
    for year in catalog_years(rows):  # text vectors, as movie_embeddings writes them
        partitions.embed_year(lake, year, FakeEncoder(), "fake@1", dimension=384)
    text = movie_index.index_inputs(lake, log=print, warn=print)
    movie_index.build_movie_index(lake, text, index.IndexParams(), log=print)
    duckdb.connect(str(lake.duckdb_file)).close()  # movies_db's database, into which item_modalities adds its view
    with running_emulator(catalog=catalog) as emulator:
        resources = {"tmdb": TMDbResource(base_url=emulator.base_url, requests_per_second=500),
                     "lake": LakeResource(data_dir=str(lake.root))}
        fetched = {}
        for year in catalog_years(rows):
            assets = [movie_posters, poster_embeddings] if year else [undated_movie_posters, undated_poster_embeddings]
            result = dg.materialize(assets, resources=resources, partition_key=str(year) if year else None)
            assert result.success
            fetched[year] = _metadata(result, assets[0].key.path[-1])
        meta = fetched[1999]
        assert meta["images/requests"].value == meta["downloaded"].value >= 1
    # The index, its blocking check and preview; then the masks.
    embedding_index_deps = dg.materialize([poster_index_asset, item_modalities], resources={
        "lake": LakeResource(data_dir=str(lake.root)), "duckdb": DuckDBResource(database=str(lake.duckdb_file))})
    assert embedding_index_deps.success
    [check] = embedding_index_deps.get_asset_check_evaluations()
    assert check.check_name == COVERS_CHECK and check.passed
    index_meta = _metadata(embedding_index_deps, "poster_index")
    assert index_meta["dagster/row_count"].value == len(rows) - 1
    assert "data:image/jpeg;base64," in index_meta["preview"].value
    assert index_meta["image_model_id"].value.startswith("efficientnet-lite0@sha256:57934424")
    masks = pq.read_table(lake.item_modalities_file).to_pylist()
    assert len(masks) == len(rows)
    godfather = next(m for m in masks if m["movie_id"] == 238)
    assert (godfather["has_poster"], godfather["poster_status"], godfather["has_text"]) == (False, "no_poster", True)
    assert sum(m["has_poster"] for m in masks) == len(rows) - 1
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as con:
        assert con.execute("SELECT count(*) FILTER (has_poster) FROM item_modalities").fetchone() == (len(rows) - 1,)
    report = json.loads((lake.reports_dir / "item_modalities.json").read_text())
    assert report["poster_status"] == {"no_poster": 1, "ok": len(rows) - 1}
    assert set(report) >= {"by_year", "by_language", "by_popularity_decile"} and "ja" in report["by_language"]

    # Search across modalities, and an ambiguous title answered for the most-voted movie.
    capsys.readouterr()
    for by in ("poster", "both", "text"):
        assert main(["similar", "Heat", "--by", by, "--json", "-k", "3", "--data-dir", str(lake.root)]) == 0
        captured = capsys.readouterr()
        answer = json.loads(captured.out)
        assert len(answer) == 3 and {"movie_id", "title", "year", "score", "rank"} <= set(answer[0])
        assert 9001 not in [a["movie_id"] for a in answer]
        assert "the others: Heat (1995) [id 949]" in captured.err
    assert main(["similar", "--id", "238", "--by", "poster", "--data-dir", str(lake.root)]) == 1
    assert "no movie with id 238 in the posters index" in capsys.readouterr().err
    assert main(["similar", "--id", "238", "--by", "both", "--data-dir", str(lake.root)]) == 0
    assert "ranked without it" in capsys.readouterr().err
    assert main(["similar", "--id", "238", "-k", "0", "--data-dir", str(lake.root)]) == 2
    assert "at least one neighbour" in capsys.readouterr().err
