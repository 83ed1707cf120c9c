from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, materialize

from movie_assets import definitions
from movie_assets.defs.embeddings.assets import (
    movie_embeddings,
    movie_index,
    similar_movies_preview,
    undated_movie_embeddings,
)
from movie_assets.defs.embeddings.checks import movie_index_recall
from movie_assets.embeddings.encode import embeddings_schema, write_embeddings
from movie_assets.embeddings.index import FLAT, HNSW, read_manifest
from movie_assets.wiring.metadata import ATTRIBUTION
from movie_assets.wiring.resources import LakeResource

from .conftest import catalog_rows, catalog_years, write_catalog

EMBEDDING_ASSETS = [movie_embeddings, undated_movie_embeddings, movie_index, similar_movies_preview]
INDEX_AND_AFTER = [movie_index, similar_movies_preview, movie_index_recall]


def embed_every_year(resources, rows=None, run_config=None) -> dict[str, dict]:
    """Materialize each year's embeddings partition (as a backfill would) and the undated movies' ones;
    the metadata of each, by partition key ("undated" for the undated movies)."""
    def config_of(name: str) -> dict | None:
        ops = (run_config or {}).get("ops", {})
        return {"ops": {name: ops[name]}} if name in ops else None

    out = {}
    for year in catalog_years(rows):
        if year is None:
            result = materialize([undated_movie_embeddings], resources=resources,
                                 run_config=config_of("undated_movie_embeddings"))
            out["undated"] = _metadata(result, "undated_movie_embeddings")
        else:
            result = materialize([movie_embeddings], resources=resources, partition_key=str(year),
                                 run_config=config_of("movie_embeddings"))
            out[str(year)] = _metadata(result, "movie_embeddings")
    return out


def _total(metas: dict[str, dict], key: str) -> int:
    return sum(m[key].value for m in metas.values())


def _metadata(result, key: str) -> dict:
    [mat] = [m for m in result.get_asset_materialization_events() if m.asset_key == AssetKey(key)]
    return mat.step_materialization_data.materialization.metadata


def _check(result, name: str = "movie_index_recall"):
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def test_descriptions_carry_attribution():
    graph = definitions.defs().resolve_asset_graph()  # the attribution is applied once, to every asset
    for asset in EMBEDDING_ASSETS:
        assert ATTRIBUTION in graph.get(asset.key).description
    assert movie_embeddings.specs_by_key[movie_embeddings.key].group_name == "embeddings"


@pytest.mark.slow
def test_materialize_embeddings_by_year_then_index_check_and_preview(tmp_path):
    lake = write_catalog(tmp_path / "data")
    resources = {"lake": LakeResource(data_dir=str(tmp_path / "data"))}

    metas = embed_every_year(resources)
    n = len(catalog_rows())
    assert _total(metas, "dagster/row_count") == _total(metas, "encoded") == n and _total(metas, "reused") == 0
    meta = metas["1999"]
    assert meta["dagster/row_count"].value == 2 and meta["model_sha256"].value.startswith("53aa5117")
    assert [c.name for c in meta["dagster/column_schema"].schema.columns] == ["movie_id", "content_hash", "vector"]
    emb = pq.read_table(lake.embeddings_year_file(1999))
    assert emb.num_rows == 2 and emb.schema.field("vector").type == pa.list_(pa.float32(), 384)
    assert lake.embeddings_year_file(None).exists()  # the undated movie has its partition too

    result = materialize(INDEX_AND_AFTER, resources=resources)
    assert result.success
    index_meta = _metadata(result, "movie_index")
    assert index_meta["index_type"].value == FLAT and index_meta["recall_at_10"].value == 1.0
    assert index_meta["dagster/row_count"].value == n and index_meta["movies_without_vectors"].value == 0
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["movie_index_recall"].passed and checks["movie_index_recall"].metadata["recall_at_k"].value == 1.0
    assert checks["movie_index_covers_the_movies"].passed

    preview = _metadata(result, "similar_movies_preview")["preview"].value
    assert "**The Matrix (1999)**" in preview and "The Matrix Reloaded" in preview
    assert "**Toy Story (1995)**" in preview

    # second run of a year: nothing to encode
    again = materialize([movie_embeddings], resources=resources, partition_key="1999")
    meta = _metadata(again, "movie_embeddings")
    assert meta["encoded"].value == 0 and meta["reused"].value == 2

    # one changed movie (1999), one removed (the undated one), one moved from 1995 to 1996
    rows = catalog_rows()
    rows[0]["overview"] = "Something else entirely."
    rows = [r for r in rows if r["year"] is not None]
    heat = next(r for r in rows if r["movie_id"] == 949)
    heat["release_date"], heat["year"] = heat["release_date"].replace(year=1996), 1996
    write_catalog(tmp_path / "data", rows)
    changed = materialize([movie_embeddings], resources=resources, partition_key="1999")
    assert (_metadata(changed, "movie_embeddings")["encoded"].value,
            _metadata(changed, "movie_embeddings")["reused"].value) == (1, 1)
    # Before 1995 and 1996 are re-embedded, the index holds no stale copy of the moved movie (and says who
    # has no vector); the undated partition is dropped with its year.
    stale = materialize(INDEX_AND_AFTER, resources=resources)
    meta = _metadata(stale, "movie_index")
    assert meta["stale_vectors_dropped"].value == 1 and meta["movies_without_vectors"].value == 1
    assert meta["years_without_embeddings"].value == ["1996"]
    checks = {e.check_name: e for e in stale.get_asset_check_evaluations()}
    assert not checks["movie_index_covers_the_movies"].passed and "1996" in checks[
        "movie_index_covers_the_movies"].description
    for year in ("1995", "1996"):
        materialize([movie_embeddings], resources=resources, partition_key=year)
    fresh = _metadata(materialize(INDEX_AND_AFTER, resources=resources), "movie_index")
    assert fresh["dagster/row_count"].value == n - 1 and fresh["movies_without_vectors"].value == 0


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
    write_embeddings(table, lake.embeddings_year_file(2000))
    rows = [{**catalog_rows()[0], "movie_id": int(i), "year": 2000} for i in range(1, n + 1)]
    write_catalog(lake.root, rows)


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
    onnx_config = {"ops": {name: {"config": {"onnx_cache_dir": str(onnx_cache)}}
                           for name in ("movie_embeddings", "undated_movie_embeddings")}}
    metas = embed_every_year(resources, run_config=onnx_config)
    materialize([movie_index], resources=resources)
    meta = metas["1999"]
    assert meta["backend"].value == "onnx-int8" and "+onnx-int8:" in meta["embedding_model_id"].value
    assert _total(metas, "encoded") == n
    manifest = read_manifest(lake)
    assert manifest["backend"] == "onnx-int8" and manifest["model_id"] == meta["embedding_model_id"].value

    torch_config = {"ops": {"movie_embeddings": {"config": {"backend": "torch", "device": "cpu"}}}}
    second = materialize([movie_embeddings], resources=resources, run_config=torch_config, partition_key="1999")
    meta = _metadata(second, "movie_embeddings")
    assert meta["backend"].value == "torch" and (meta["encoded"].value, meta["reused"].value) == (2, 0)
    # One year of torch vectors among int8 ones: the index refuses to mix them, naming the year.
    with pytest.raises(Exception, match=r"different models or backends.*1999"):
        materialize([movie_index], resources=resources)
    torch_all = {"ops": {name: {"config": {"backend": "torch", "device": "cpu"}}
                         for name in ("movie_embeddings", "undated_movie_embeddings")}}
    embed_every_year(resources, run_config=torch_all)
    materialize([movie_index], resources=resources)
    assert read_manifest(lake)["backend"] == "torch"

    monkeypatch.setenv(EMBEDDING_BACKEND_ENV, "quantum")
    with pytest.raises(Exception, match="MOVIE_ASSETS_EMBEDDING_BACKEND='quantum'"):
        materialize([movie_embeddings], resources=resources, partition_key="1999")
    with pytest.raises(Exception, match="movie_embeddings config backend='gpu'"):
        materialize([movie_embeddings], resources=resources, partition_key="1999",
                    run_config={"ops": {"movie_embeddings": {"config": {"backend": "gpu"}}}})


def test_index_config_defaults_are_the_library_defaults():
    """The Launchpad config and `IndexParams` share one set of defaults (tuned by bench_index_1m.py)."""
    from movie_assets.defs.embeddings.assets import IndexConfig
    from movie_assets.embeddings.index import IndexParams

    assert IndexConfig().params() == IndexParams()
