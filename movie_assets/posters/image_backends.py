"""Poster image encoders, one entry point: `load_image_encoder`.

* ``torch``: the packaged EfficientNet-Lite0 (float32 PyTorch) on the CPU or a CUDA device.
* ``onnx``: the same network exported to float32 ONNX, run by onnxruntime on the CPU
  (`movie_assets.posters.image_onnx`): ~3.5–4× torch's CPU throughput (~200 posters/s end to end on 2 cores),
  cosine > 0.99999 to torch's vectors, neighbour recall@10 1.0 (`benchmarks/bench_posters.py`).
* ``auto`` (the default): torch on a CUDA device when one is present, else onnx.
* ``clip``: local CLIP weights the user brings (``model_path``; `movie_assets.posters.clip`), never the
  default.

Every encoder's ``model_id`` names the weights (sha256), the preprocessing (input size) and the backend, and
for onnx the export key, so vectors of two encoders never mix. Heavy imports (torch, onnxruntime,
transformers) happen only when an encoder is loaded. ``MOVIE_ASSETS_IMAGE_BACKEND``
(`movie_assets.settings.image_backend_from_env`) picks the backend when config does not.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from movie_assets.embeddings.backend_choice import AUTO, TORCH
from movie_assets.embeddings.model import stay_offline
from movie_assets.lake import file_sha256
from movie_assets.posters import preprocess
from movie_assets.posters.image_model import (
    CLIP,
    DEFAULT_IMAGE_SHA256,
    IMAGE_BACKEND_SETTING,
    IMAGE_BACKENDS,
    IMAGE_CHOICES,
    IMAGE_DIMENSION,
    IMAGE_PATH_SETTING,
    IMAGE_SHA_SETTING,
    ONNX,
    ImageEncoder,
    ImageModelError,
    ImageWeights,
    Log,
    build_network,
    locate_weights,
    resolve_image_backend,
    validate_image_backend,
)

if TYPE_CHECKING:
    from PIL import Image

CLIP_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


class TorchImageEncoder(ImageEncoder):
    """EfficientNet-Lite0 features, float32 PyTorch, on ``device``."""

    name = TORCH

    def __init__(self, weights: ImageWeights, device: str = "cpu", *, threads: int | None = None):
        import torch

        if threads:
            torch.set_num_threads(int(threads))
        self.network = build_network(weights.path).to(device)
        self.path = weights.path
        self.sha256 = weights.sha256
        self.device = device
        self.model_id = f"{weights.model_id}+{TORCH}"
        self.dimension = IMAGE_DIMENSION

    def _features(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.network(torch.from_numpy(batch).to(self.device)).float().cpu().numpy()


def clip_weights_sha256(folder: Path) -> str:
    """What names a CLIP folder's weights: the sha256 of its one weights file, or of the ``name sha256`` lines
    of all of them (sorted)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in CLIP_WEIGHT_SUFFIXES)
    if not files:
        raise ImageModelError(f"{IMAGE_PATH_SETTING}={str(folder)!r} holds no CLIP weights "
                              f"({', '.join(CLIP_WEIGHT_SUFFIXES)})")
    if len(files) == 1:
        return file_sha256(files[0])
    lines = "".join(f"{p.name} {file_sha256(p)}\n" for p in files)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


class ClipImageEncoder(ImageEncoder):
    """An adapter over `movie_assets.posters.clip`: local CLIP weights, the CLIP processor's preprocessing."""

    name = CLIP

    def __init__(self, clip_model: Any, sha256: str):
        self.clip = clip_model
        self.path = Path(clip_model.path)
        self.sha256 = sha256
        self.device = clip_model.device
        self.dimension = int(clip_model.dimension)
        self.model_id = f"clip:{self.path.name}@sha256:{sha256}+{CLIP}"

    @classmethod
    def load(cls, model_path: str | os.PathLike | None, expected_sha256: str | None, device: str,
             log: Log | None = None) -> ClipImageEncoder:
        """CLIP from the folder ``model_path`` (required). ``expected_sha256`` pins `clip_weights_sha256`;
        the default encoder's pin (`DEFAULT_IMAGE_SHA256`) or None leaves CLIP unpinned."""
        if model_path is None or not Path(model_path).expanduser().is_dir():
            raise ImageModelError(f"image backend 'clip' needs {IMAGE_PATH_SETTING} set to a local CLIP folder (a "
                                  "transformers save with its preprocessor_config.json); it is "
                                  f"{str(model_path) if model_path else 'unset'}")
        folder = Path(model_path).expanduser()
        digest = clip_weights_sha256(folder)
        pinned = None if expected_sha256 in (None, DEFAULT_IMAGE_SHA256) else expected_sha256.strip().lower()
        if pinned is not None and pinned != digest:
            raise ImageModelError(f"the CLIP weights in {str(folder)!r} have sha256 {digest} but {IMAGE_SHA_SETTING} "
                                  f"pins {expected_sha256} — refusing to load them")
        from movie_assets.posters import clip

        class _Logger:
            def warning(self, msg: str) -> None:
                (log or (lambda _m: None))(msg)

            info = warning

        loaded = clip.load_clip(folder, device=device, logger=_Logger())
        if loaded is None:  # pragma: no cover - the folder was checked above
            raise ImageModelError(f"cannot load CLIP from {IMAGE_PATH_SETTING}={str(folder)!r}")
        return cls(loaded, digest)

    def encode(self, images: Sequence[Image.Image], *, batch_size: int = 32) -> np.ndarray:
        from movie_assets.posters import clip

        out = np.zeros((len(images), self.dimension), dtype=np.float32)
        step = max(1, int(batch_size))
        for start in range(0, len(images), step):
            chunk = [preprocess.to_rgb(image) for image in images[start : start + step]]
            out[start : start + len(chunk)] = clip.embed_images(self.clip, chunk)
        return preprocess.unit_rows(out)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model_id": self.model_id, "dimension": self.dimension, "device": self.device,
                "model": f"clip:{self.path.name}", "weights": str(self.path), "weights_sha256": self.sha256,
                "input_size": "the CLIP processor's", "preprocess": "CLIPImageProcessor"}


def load_image_encoder(
    backend: str | None = AUTO,
    *,
    model_path: str | os.PathLike | None = None,
    expected_sha256: str | None = DEFAULT_IMAGE_SHA256,
    device: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    log: Log | None = None,
) -> ImageEncoder:
    """The requested image encoder (None or blank: ``auto``), strictly offline, weights sha256-verified before
    they are loaded.

    ``model_path``: the weights (default: the packaged EfficientNet-Lite0; for ``clip``, required: a CLIP
    folder). ``cache_dir``: where the ONNX export goes (default `onnx_int8.default_cache_dir`). ``threads``:
    onnxruntime intra-op threads (default: the usable cores), or torch's when given.
    """
    name, where = resolve_image_backend(backend, device)
    stay_offline()
    if name == CLIP:
        return ClipImageEncoder.load(model_path, expected_sha256, where, log)
    if name == TORCH:
        return TorchImageEncoder(locate_weights(model_path, expected_sha256), where, threads=threads)
    from movie_assets.posters.image_onnx import OnnxImageEncoder

    return OnnxImageEncoder.load(model_path, expected_sha256, cache_dir=cache_dir, threads=threads, log=log)


__all__ = [
    "CLIP",
    "DEFAULT_IMAGE_SHA256",
    "IMAGE_BACKEND_SETTING",
    "IMAGE_BACKENDS",
    "IMAGE_CHOICES",
    "ONNX",
    "TORCH",
    "ClipImageEncoder",
    "ImageEncoder",
    "ImageModelError",
    "TorchImageEncoder",
    "load_image_encoder",
    "resolve_image_backend",
    "validate_image_backend",
]
