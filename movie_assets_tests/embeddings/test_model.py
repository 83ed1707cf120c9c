from __future__ import annotations

import shutil

import pytest

from movie_assets.embeddings import model


def test_default_model_dir_is_packaged_and_verifies():
    path = model.default_model_dir()
    assert (path / "model.safetensors").is_file()
    assert (path / "config_sentence_transformers.json").is_file()
    assert (path / "model.safetensors").stat().st_size == model.DEFAULT_SIZE
    assert model.verify_model(path) == model.DEFAULT_SHA256


def test_sha256_mismatch_is_a_clear_error():
    with pytest.raises(model.ModelError, match=r"model_sha256 pins 0{64}.*refusing"):
        model.load_model(expected_sha256="0" * 64)


def test_tampered_weights_are_refused(tmp_path):
    src = model.default_model_dir()
    dst = tmp_path / "model"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("model.safetensors"))
    (dst / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(model.ModelError, match="model_sha256"):
        model.load_model(dst)


def test_missing_weights_name_the_setting(tmp_path):
    with pytest.raises(model.ModelError, match="model_path"):
        model.load_model(tmp_path)
    with pytest.raises(model.ModelError, match="model_path.*not a directory"):
        model.load_model(tmp_path / "nope")
