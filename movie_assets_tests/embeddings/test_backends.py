from __future__ import annotations

import json

import numpy as np
import pytest

from movie_assets import settings
from movie_assets.embeddings import backends, onnx_int8
from movie_assets.embeddings.encode import embed_movies, embedding_source, vectors_of
from movie_assets.embeddings.model import DEFAULT_SHA256, MODEL_NAME, ModelError
from movie_assets.embeddings.text import content_hash, documents
from movie_assets.lake import file_sha256

from .conftest import FakeEncoder, catalog_rows, catalog_table, emulator_texts

TORCH_ID = f"{MODEL_NAME}@sha256:{DEFAULT_SHA256}"
ONNX_ID = f"{TORCH_ID}+onnx-int8:0123456789abcdef"


# -- selection -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, want", [("", "auto"), ("  ", "auto"), ("AUTO", "auto"), ("torch", "torch"),
                                       (" Onnx-Int8 ", "onnx-int8")])
def test_setting_accepts_the_backends(raw, want):
    assert settings.embedding_backend_from_env({settings.EMBEDDING_BACKEND_ENV: raw}) == want
    assert settings.embedding_backend_from_env({}) == "auto"


@pytest.mark.parametrize("raw", ["onnx", "int8", "cuda", "fast"])
def test_bad_backend_names_the_setting(raw):
    with pytest.raises(ValueError, match=rf"MOVIE_ASSETS_EMBEDDING_BACKEND='{raw}'.*auto, torch, onnx-int8"):
        settings.embedding_backend_from_env({settings.EMBEDDING_BACKEND_ENV: raw})
    with pytest.raises(ValueError, match="backend="):
        backends.load_backend(raw)


def test_auto_is_torch_on_cuda_else_onnx_int8():
    def cuda():
        return True

    def no_cuda():
        return False

    assert backends.resolve_backend("auto", None, has_cuda=cuda) == ("torch", "cuda")
    assert backends.resolve_backend("auto", None, has_cuda=no_cuda) == ("onnx-int8", "cpu")
    assert backends.resolve_backend("auto", "cpu", has_cuda=cuda) == ("onnx-int8", "cpu")
    assert backends.resolve_backend("auto", "cuda:1", has_cuda=no_cuda) == ("torch", "cuda:1")
    assert backends.resolve_backend("torch", None, has_cuda=cuda) == ("torch", "cuda")
    assert backends.resolve_backend("torch", None, has_cuda=no_cuda) == ("torch", "cpu")
    assert backends.resolve_backend("onnx-int8", "cpu", has_cuda=cuda) == ("onnx-int8", "cpu")
    with pytest.raises(ValueError, match="CPU only.*'cuda'"):
        backends.resolve_backend("onnx-int8", "cuda", has_cuda=cuda)


# -- cache key: vectors of two backends never mix --------------------------------------------------------
def test_switching_backend_reembeds_everything_and_never_mixes():
    table = catalog_table()
    first = embed_movies(table, None, FakeEncoder(), TORCH_ID, backend="torch")
    assert embedding_source(first.table) == {"model_id": TORCH_ID, "backend": "torch"}

    rows = catalog_rows()
    rows[0]["overview"] = "Changed while the backend changed."
    switched = FakeEncoder()
    second = embed_movies(catalog_table(rows), first.table, switched, ONNX_ID, backend="onnx-int8")
    assert (second.encoded, second.reused, switched.encoded) == (len(rows), 0, len(rows))
    _, texts = documents(catalog_table(rows))
    assert sorted(second.table.column("content_hash").to_pylist()) == sorted(content_hash(ONNX_ID, t) for t in texts)
    assert embedding_source(second.table) == {"model_id": ONNX_ID, "backend": "onnx-int8"}

    # and back: nothing of the onnx run is reused by torch either
    back = embed_movies(table, second.table, FakeEncoder(), TORCH_ID, backend="torch")
    assert (back.encoded, back.reused) == (table.num_rows, 0)
    # the same backend again reuses everything
    again = embed_movies(table, back.table, FakeEncoder(), TORCH_ID, backend="torch")
    assert (again.encoded, again.reused) == (0, table.num_rows)


def test_a_previous_table_recorded_for_another_model_is_not_reused_even_on_equal_hashes():
    first = embed_movies(catalog_table(), None, FakeEncoder(), TORCH_ID, backend="torch")
    relabelled = first.table.replace_schema_metadata({b"movie_assets.model_id": ONNX_ID.encode()})
    result = embed_movies(catalog_table(), relabelled, FakeEncoder(), TORCH_ID)
    assert result.reused == 0


def test_cache_key_changes_with_weights_recipe_and_versions():
    pipeline = {"max_seq_length": 256, "do_lower_case": False}
    versions = {"onnx": "1", "onnxruntime": "1", "torch": "2", "transformers": "5"}
    key = onnx_int8.cache_key(DEFAULT_SHA256, pipeline, versions)
    assert len(key) == 16 and key == onnx_int8.cache_key(DEFAULT_SHA256, pipeline, dict(versions))
    assert key != onnx_int8.cache_key("0" * 64, pipeline, versions)
    assert key != onnx_int8.cache_key(DEFAULT_SHA256, {**pipeline, "max_seq_length": 128}, versions)
    assert key != onnx_int8.cache_key(DEFAULT_SHA256, pipeline, {**versions, "onnxruntime": "2"})


def test_unloadable_export_is_a_clear_error(tmp_path, monkeypatch):
    def broken_export(model_dir, target, max_seq_length=256):
        target.write_bytes(b"not an onnx model")

    monkeypatch.setattr(onnx_int8, "export_int8", broken_export)
    with pytest.raises(ModelError, match="freshly exported ONNX model.*cannot be loaded.*backend 'torch'"):
        backends.load_backend("onnx-int8", cache_dir=tmp_path)


def test_unsupported_pipeline_points_at_torch(tmp_path):
    import shutil

    from movie_assets.embeddings.model import default_model_dir

    model = tmp_path / "model"
    shutil.copytree(default_model_dir(), model, ignore=shutil.ignore_patterns("model.safetensors"))
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(ModelError, match="mean Pooling.*backend 'torch'"):
        onnx_int8.pipeline_config(model)


# -- the real model --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_onnx_int8_matches_torch(onnx_backend, real_model):
    _, catalog_texts = documents(catalog_table())
    texts = emulator_texts(40) + catalog_texts + ["word " * 400]  # one text past the 256-token truncation
    torch_backend = backends.TorchBackend(real_model)
    want = torch_backend.encode(texts, batch_size=16)
    got = onnx_backend.encode(texts, batch_size=16)
    assert got.shape == want.shape == (len(texts), 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * want).sum(axis=1)
    assert cosine.min() >= 0.97 and cosine.mean() >= 0.98, (cosine.min(), cosine.mean())
    # different backends, different ids: the weights are named the same way, the backend is added
    assert torch_backend.model_id == real_model.model_id == TORCH_ID
    assert onnx_backend.model_id == f"{TORCH_ID}+onnx-int8:{onnx_backend.key}"


@pytest.mark.slow
def test_onnx_int8_is_deterministic_and_cached(onnx_backend, onnx_cache):
    texts = emulator_texts(24)
    a = onnx_backend.encode(texts, batch_size=8)
    b = onnx_backend.encode(texts, batch_size=8)
    assert a.tobytes() == b.tobytes()
    again = backends.load_backend("onnx-int8", cache_dir=onnx_cache)
    assert again.export_seconds is None and again.model_id == onnx_backend.model_id
    assert again.encode(texts, batch_size=8).tobytes() == a.tobytes()
    sidecar = json.loads(onnx_backend.onnx_path.with_suffix(".json").read_text())
    assert sidecar["sha256"] == file_sha256(onnx_backend.onnx_path) and sidecar["key"] == onnx_backend.key
    # encode_texts' path (via embed_movies) is just as repeatable
    table = catalog_table()
    first = embed_movies(table, None, onnx_backend, onnx_backend.model_id, batch_size=4, backend="onnx-int8")
    second = embed_movies(table, None, again, again.model_id, batch_size=4, backend="onnx-int8")
    assert vectors_of(first.table).tobytes() == vectors_of(second.table).tobytes()


@pytest.mark.slow
def test_corrupt_cached_model_is_exported_again(onnx_backend, tmp_path):
    import shutil

    cache = tmp_path / "cache"
    shutil.copytree(onnx_backend.onnx_path.parent, cache)
    path = cache / onnx_backend.onnx_path.name
    good = file_sha256(path)
    with open(path, "r+b") as handle:  # a flipped byte in the middle: onnxruntime might still load it
        handle.seek(path.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    messages: list[str] = []
    backend = backends.load_backend("onnx-int8", cache_dir=cache, log=messages.append)
    assert any("corrupt" in m and "exporting it again" in m for m in messages), messages
    assert backend.export_seconds is not None and file_sha256(path) == good  # the export is deterministic

    path.write_bytes(path.read_bytes()[:1000])  # truncated
    path.with_suffix(".json").unlink()  # and no sidecar
    messages.clear()
    backends.load_backend("onnx-int8", cache_dir=cache, log=messages.append)
    assert any("corrupt or incomplete" in m for m in messages) and file_sha256(path) == good
