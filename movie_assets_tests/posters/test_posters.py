"""Poster cache (through the emulator), CLIP loading, image embeddings and the poster index (tiny model)."""

from __future__ import annotations

import logging

import numpy as np
import pyarrow.parquet as pq
import pytest

from movie_assets.embeddings.encode import vectors_of
from movie_assets.emulator import Catalog, running_emulator
from movie_assets.lake import Lake
from movie_assets.posters import cache, clip
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings

JPEG_MAGIC = b"\xff\xd8\xff"  # the emulator serves posters as JPEGs, as image.tmdb.org does
N_MOVIES = 12


@pytest.fixture(scope="module")
def emulator():
    catalog = Catalog(seed=1, movies_per_year=200)
    with running_emulator(catalog=catalog) as emu:
        yield emu


def _movies(catalog: Catalog, n: int = N_MOVIES) -> list[tuple[int, str | None]]:
    out: list[tuple[int, str | None]] = []
    for year in catalog.years:
        for summary in catalog.movies_in_year(year):
            path = catalog.details(summary.id)["poster_path"]
            if path:
                out.append((summary.id, path))
            if len(out) >= n:
                return out
    return out


def _client(emulator) -> TMDbClient:
    return TMDbClient(TMDbSettings(base_url=emulator.base_url, requests_per_second=500))


async def test_cache_posters_downloads_then_skips(emulator, tmp_path):
    lake = Lake.at(tmp_path / "data")
    movies = _movies(emulator.catalog)
    bogus = (999_999_999, "/" + "A" * 27 + ".jpg")
    async with _client(emulator) as client:
        assert await cache.image_base_for(client) == emulator.root_url + "/t/p/"
        first = await cache.cache_posters(client, lake, [*movies, bogus, (1, None)], size="w185")
        assert (first.downloaded, first.skipped_cached, first.missing, first.failed) == (len(movies), 0, 1, 0)
        assert first.no_poster == 1
        second = await cache.cache_posters(client, lake, movies, size="w185")
        assert (second.downloaded, second.skipped_cached, second.missing, second.failed) == (0, len(movies), 0, 0)
    for _, path in movies:
        file = cache.poster_file(lake, path, "w185")
        assert file.read_bytes().startswith(JPEG_MAGIC)
    from PIL import Image

    with Image.open(cache.poster_file(lake, movies[0][1], "w185")) as im:
        im.verify()
    leftovers = [p for p in (lake.posters_dir).rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == []
    assert len(cache.cached_posters(lake, [*movies, bogus], "w185")) == len(movies)


async def test_fetch_image_retries_5xx_with_the_client_policy_then_fails(tmp_path):
    from aiohttp import web

    from movie_assets_tests.helpers import serve_handler

    calls = {"n": 0}

    async def broken(request):
        calls["n"] += 1
        return web.Response(status=503)

    settings = dict(requests_per_second=500, max_attempts=3, backoff_base=0.01, backoff_max=0.02)
    async with serve_handler(broken) as base_url:
        lake = Lake.at(tmp_path / "data")
        async with TMDbClient(TMDbSettings(base_url=base_url, **settings)) as c:
            res = await cache.cache_posters(c, lake, [(1, "/x.jpg")], concurrency=1)
    assert (res.downloaded, res.failed) == (0, 1)
    assert calls["n"] == 3  # TMDB_MAX_ATTEMPTS, as for API calls
    assert c.stats.retries["5xx"] == 2
    assert "after 3 attempts" in res.errors[0]
    assert not any(lake.posters_dir.rglob("*.jpg"))


def test_load_clip_missing_returns_none(tmp_path, caplog):
    missing = tmp_path / "no-such-model"
    with caplog.at_level(logging.WARNING):
        assert clip.load_clip(missing) is None
        assert clip.load_clip(None) is None
    assert f"no CLIP weights at {missing}" in caplog.text
    assert "skipping image embeddings" in caplog.text


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    """A tiny random CLIPModel (full, with text tower) + image processor, saved locally: no download."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "vocab_size": 100,
            "max_position_embeddings": 16,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    where = tmp_path_factory.mktemp("tiny-clip")
    CLIPModel(config).save_pretrained(where)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(where)
    return where


async def test_embed_posters_and_index_with_tiny_clip(emulator, tmp_path, tiny_clip_dir):
    lake = Lake.at(tmp_path / "data")
    movies = _movies(emulator.catalog)
    async with _client(emulator) as client:
        await cache.cache_posters(client, lake, movies)
    model = clip.load_clip(tiny_clip_dir)
    assert model is not None and model.dimension == 16
    cached = cache.cached_posters(lake, movies)
    # one corrupt file is skipped, not fatal
    bad = lake.posters_dir / cache.DEFAULT_SIZE / "broken.jpg"
    bad.write_bytes(b"not an image")
    result = clip.embed_posters(model, lake, [*cached, (1, "/broken.jpg", bad)], batch_size=5)
    assert (result.embedded, result.unreadable) == (len(movies), 1)
    table = pq.read_table(lake.poster_embeddings_file)
    assert table.column("movie_id").to_pylist() == sorted(m for m, _ in movies)
    vecs = vectors_of(table)
    assert vecs.shape == (len(movies), 16) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert len({v.tobytes() for v in vecs}) == len(movies)  # distinct posters, distinct vectors

    report = clip.build_poster_index(lake, table.column("movie_id").to_numpy(), vecs)
    assert (report.vectors, report.dimension, report.index_type) == (len(movies), 16, "flat_ip")
    idx, idmap, manifest = clip.load_poster_index(lake)
    assert idx.ntotal == len(movies) and idmap.num_rows == len(movies)
    assert manifest["report"]["vectors"] == len(movies)
    _, found = idx.search(vecs[:1], 1)
    assert int(found[0][0]) == 0


def test_poster_assets_materialize(emulator, tmp_path, tiny_clip_dir, monkeypatch):
    import dagster as dg
    import pyarrow as pa

    from movie_assets.defs.posters.assets import movie_posters, poster_embeddings
    from movie_assets.lake import write_parquet_atomic
    from movie_assets.wiring.resources import LakeResource, TMDbResource

    lake = Lake.at(tmp_path / "data")
    movies = _movies(emulator.catalog, 8)
    rows = [
        {"movie_id": m, "poster_path": p, "year": 2000, "popularity": float(i), "title": f"M{m}"}
        for i, (m, p) in enumerate(movies)
    ]
    rows.append({"movie_id": 5, "poster_path": None, "year": 2000, "popularity": 99.0, "title": "No poster"})
    write_parquet_atomic(pa.Table.from_pylist(rows), lake.movies_file)
    resources = {
        "tmdb": TMDbResource(base_url=emulator.base_url, requests_per_second=500),
        "lake": LakeResource(data_dir=str(lake.root)),
    }

    def run(model_path):
        config = {
            "ops": {
                "movie_posters": {"config": {"limit": 5}},
                "poster_embeddings": {"config": {"model_path": model_path}},
            }
        }
        result = dg.materialize([movie_posters, poster_embeddings], resources=resources, run_config=config)
        assert result.success
        events = [e.materialization for e in result.get_asset_materialization_events()]
        return {m.asset_key.path[-1]: m.metadata for m in events}

    real_cache_posters = cache.cache_posters

    async def timed_cache_posters(*args, **kwargs):
        result = await real_cache_posters(*args, **kwargs)
        result.seconds = 1234.5
        return result

    monkeypatch.setattr(cache, "cache_posters", timed_cache_posters)
    skipped = run(None)
    assert skipped["movie_posters"]["downloaded"].value == 5
    assert skipped["movie_posters"]["seconds"].value == 1234.5  # the download's time, not the step's
    assert skipped["movie_posters"]["tmdb/requests"].value >= 5  # and the step's counters (wiring.tmdb_step)
    assert skipped["poster_embeddings"]["skipped"].value is True
    assert "no CLIP weights" in skipped["poster_embeddings"]["reason"].value
    done = run(str(tiny_clip_dir))
    assert done["movie_posters"]["skipped_cached"].value == 5
    assert done["poster_embeddings"]["dagster/row_count"].value == 5
    assert clip.load_poster_index(lake)[0].ntotal == 5
