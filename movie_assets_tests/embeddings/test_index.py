from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from movie_assets.embeddings import index as ix
from movie_assets.lake import Lake


def random_unit(n: int, d: int = 384, seed: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_index_type_switches_at_threshold():
    params = ix.IndexParams(exact_max=100)
    assert ix.index_type_for(100, params) == ix.FLAT
    assert ix.index_type_for(101, params) == ix.HNSW
    assert ix.IndexParams().exact_max == 200_000


def test_hnsw_defaults_are_the_benchmarked_ones():
    # chosen by benchmarks/bench_index_1m.py (README, "The movie index at 1M vectors"); change them together
    params = ix.IndexParams()
    assert (params.hnsw_m, params.ef_construction, params.ef_search) == (16, 100, 64)


def test_flat_recall_is_exact():
    vecs = random_unit(500)
    index = ix.build_index(vecs, ix.IndexParams())
    assert ix.recall_at_k(index, vecs, n_queries=50) == 1.0


def test_weak_hnsw_has_low_recall_and_good_hnsw_high():
    vecs = random_unit(3000)
    weak = ix.build_index(vecs, ix.IndexParams(hnsw_m=4, ef_construction=8, ef_search=1), ix.HNSW)
    strong = ix.build_index(vecs, ix.IndexParams(hnsw_m=32, ef_construction=200, ef_search=256), ix.HNSW)
    low = ix.recall_at_k(weak, vecs, n_queries=100)
    high = ix.recall_at_k(strong, vecs, n_queries=100)
    assert low < 0.9 < high


def test_build_save_load_roundtrip(tmp_path):
    lake = Lake.at(tmp_path / "data")
    vecs = random_unit(300)
    ids = np.arange(1000, 1300, dtype=np.int64)
    years = pa.array([2000] * 300, pa.int16())
    titles = pa.table({"movie_id": ids, "title": [f"Movie {i}" for i in ids], "year": years})
    report = ix.build_index_files(lake, ids, vecs, titles, ix.IndexParams(exact_max=100, recall_queries=50))
    assert report.index_type == ix.HNSW and report.vectors == 300 and report.size_bytes > 300 * 384 * 4
    assert 0.0 <= report.recall_at_k <= 1.0 and report.recall_queries == 50
    index, idmap, manifest = ix.load_index(lake)
    assert index.ntotal == 300 and idmap.column("movie_id").to_pylist() == ids.tolist()
    assert idmap.column("title")[5].as_py() == "Movie 1005"
    assert manifest["report"]["index_type"] == ix.HNSW
    assert index.hnsw.efSearch == ix.IndexParams().ef_search
    np.testing.assert_allclose(index.reconstruct(7), vecs[7])
    # a rebuild replaces the set in place, leaving no scratch directories behind
    ix.build_index_files(lake, ids[:10], vecs[:10], titles)
    assert ix.load_index(lake)[0].ntotal == 10
    assert sorted(p.name for p in lake.index_dir.iterdir()) == [ix.INDEX_SUBDIR]


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="materialize movie_embeddings and movie_index"):
        ix.load_index(Lake.at(tmp_path))
