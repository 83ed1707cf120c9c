from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, materialize

from movie_assets.defs.embeddings.assets import movie_embeddings, movie_index, similar_movies_preview
from movie_assets.defs.embeddings.checks import movie_index_recall
from movie_assets.embeddings.encode import embeddings_schema, write_embeddings
from movie_assets.embeddings.index import FLAT, HNSW, read_manifest
from movie_assets.wiring.metadata import ATTRIBUTION
from movie_assets.wiring.resources import LakeResource

from .conftest import catalog_rows, write_catalog

EMBEDDING_ASSETS = [movie_embeddings, movie_index, similar_movies_preview]
ALL = [*EMBEDDING_ASSETS, movie_index_recall]


def _metadata(result, key: str) -> dict:
    [mat] = [m for m in result.get_asset_materialization_events() if m.asset_key == AssetKey(key)]
    return mat.step_materialization_data.materialization.metadata


def _check(result):
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_descriptions_carry_attribution():
    for asset in EMBEDDING_ASSETS:
        assert ATTRIBUTION in asset.specs_by_key[asset.key].description
    assert movie_embeddings.specs_by_key[movie_embeddings.key].group_name == "embeddings"


@pytest.mark.slow
def test_materialize_embeddings_index_check_and_preview(tmp_path):
    lake = write_catalog(tmp_path / "data")
    resources = {"lake": LakeResource(data_dir=str(tmp_path / "data"))}

    result = materialize(ALL, resources=resources)
    assert result.success
    meta = _metadata(result, "movie_embeddings")
    n = len(catalog_rows())
    assert meta["dagster/row_count"].value == n
    assert meta["encoded"].value == n and meta["reused"].value == 0
    assert meta["model_sha256"].value.startswith("53aa5117")
    assert [c.name for c in meta["dagster/column_schema"].schema.columns] == ["movie_id", "content_hash", "vector"]
    emb = pq.read_table(lake.embeddings_file)
    assert emb.num_rows == n and emb.schema.field("vector").type == pa.list_(pa.float32(), 384)

    index_meta = _metadata(result, "movie_index")
    assert index_meta["index_type"].value == FLAT and index_meta["recall_at_10"].value == 1.0
    assert index_meta["size_bytes"].value > 0
    check = _check(result)
    assert check.passed and check.metadata["recall_at_k"].value == 1.0

    preview = _metadata(result, "similar_movies_preview")["preview"].value
    assert "**The Matrix (1999)**" in preview and "The Matrix Reloaded" in preview
    assert "**Toy Story (1995)**" in preview

    # second run: nothing to encode
    again = materialize([movie_embeddings], resources=resources)
    meta = _metadata(again, "movie_embeddings")
    assert meta["encoded"].value == 0 and meta["reused"].value == n

    # one changed movie, one removed
    rows = catalog_rows()
    rows[0]["overview"] = "Something else entirely."
    rows.pop()
    write_catalog(tmp_path / "data", rows)
    third = materialize([movie_embeddings], resources=resources)
    meta = _metadata(third, "movie_embeddings")
    assert (meta["encoded"].value, meta["removed"].value, meta["dagster/row_count"].value) == (1, 1, n - 1)


def _random_embeddings(lake, n=3000, seed=3):
    v = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    table = pa.table(
        {
            "movie_id": pa.array(np.arange(1, n + 1), pa.int64()),
            "content_hash": pa.array([f"h{i}" for i in range(n)]),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1), pa.float32()), 384),
        },
        schema=embeddings_schema(),
    )
    write_embeddings(table, lake.embeddings_file)


def test_recall_check_fails_when_recall_is_forced_low(tmp_path):
    from movie_assets.lake import Lake

    lake = Lake.at(tmp_path / "data")
    _random_embeddings(lake)
    resources = {"lake": LakeResource(data_dir=str(lake.root))}
    weak = {"exact_max": 100, "hnsw_m": 4, "ef_construction": 8, "ef_search": 1, "recall_queries": 100}
    result = materialize(
        [movie_index, movie_index_recall],
        resources=resources,
        run_config={
            "ops": {"movie_index": {"config": weak}, "movie_index_movie_index_recall": {"config": {"threshold": 0.99}}}
        },
        raise_on_error=False,
    )
    check = _check(result)
    assert not check.passed
    assert read_manifest(lake)["report"]["index_type"] == HNSW
    assert check.metadata["recall_at_k"].value < 0.99

    flat = materialize(
        [movie_index, movie_index_recall],
        resources=resources,
        run_config={"ops": {"movie_index_movie_index_recall": {"config": {"threshold": 0.99}}}},
    )
    assert flat.success and _check(flat).passed


def test_preview_falls_back_to_most_popular(tmp_path):
    from movie_assets.embeddings.encode import embed_movies
    from movie_assets.embeddings.index import IndexParams, build_index_files

    from .conftest import FakeEncoder, catalog_table

    rows = [r for r in catalog_rows() if r["title"] not in
            {"The Matrix", "Toy Story", "The Godfather", "Spirited Away", "Inception", "Pulp Fiction"}]
    lake = write_catalog(tmp_path / "data", rows)
    table = catalog_table(rows)
    emb = embed_movies(table, None, FakeEncoder(), "fake").table
    build_index_files(lake, emb.column("movie_id").to_numpy(),
                      np.stack(emb.column("vector").to_pylist()).astype(np.float32),
                      table.select(["movie_id", "title", "year"]), IndexParams())
    result = materialize([similar_movies_preview], resources={"lake": LakeResource(data_dir=str(lake.root))})
    movies = _metadata(result, "similar_movies_preview")["movies"].value
    assert movies == ["Alien (1979)", "Aliens (1986)", "Toy Story 2 (1999)", "The Matrix Reloaded (2003)",
                      "Heat (1995)"]


@pytest.mark.slow
def test_backend_switch_reembeds_all_and_the_manifest_names_the_backend(tmp_path, onnx_cache, monkeypatch):
    from movie_assets.settings import EMBEDDING_BACKEND_ENV

    lake = write_catalog(tmp_path / "data")
    resources = {"lake": LakeResource(data_dir=str(lake.root))}
    n = len(catalog_rows())
    monkeypatch.setenv(EMBEDDING_BACKEND_ENV, "onnx-int8")
    onnx_config = {"ops": {"movie_embeddings": {"config": {"onnx_cache_dir": str(onnx_cache)}}}}
    first = materialize([movie_embeddings, movie_index], resources=resources, run_config=onnx_config)
    meta = _metadata(first, "movie_embeddings")
    assert meta["backend"].value == "onnx-int8" and "+onnx-int8:" in meta["embedding_model_id"].value
    assert meta["encoded"].value == n
    manifest = read_manifest(lake)
    assert manifest["backend"] == "onnx-int8" and manifest["model_id"] == meta["embedding_model_id"].value

    torch_config = {"ops": {"movie_embeddings": {"config": {"backend": "torch", "device": "cpu"}}}}
    second = materialize([movie_embeddings, movie_index], resources=resources, run_config=torch_config)
    meta = _metadata(second, "movie_embeddings")
    assert meta["backend"].value == "torch" and (meta["encoded"].value, meta["reused"].value) == (n, 0)
    assert read_manifest(lake)["backend"] == "torch"

    monkeypatch.setenv(EMBEDDING_BACKEND_ENV, "quantum")
    with pytest.raises(Exception, match="MOVIE_ASSETS_EMBEDDING_BACKEND='quantum'"):
        materialize([movie_embeddings], resources=resources)
    with pytest.raises(Exception, match="movie_embeddings config backend='gpu'"):
        materialize([movie_embeddings], resources=resources,
                    run_config={"ops": {"movie_embeddings": {"config": {"backend": "gpu"}}}})


def test_index_config_defaults_are_the_library_defaults():
    """The Launchpad config and `IndexParams` share one set of defaults (tuned by bench_index_1m.py)."""
    from movie_assets.defs.embeddings.assets import IndexConfig
    from movie_assets.embeddings.index import IndexParams

    assert IndexConfig().params() == IndexParams()
