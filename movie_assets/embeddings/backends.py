"""Embedding backends: the same all-MiniLM-L6-v2 weights run by ``torch`` or by ``onnx-int8``.

* ``torch``: today's SentenceTransformer path (float32), on CPU or a CUDA device.
* ``onnx-int8``: an ONNX export of the same packaged weights, dynamically quantized to int8 and run by
  onnxruntime on the CPU (`movie_assets.embeddings.onnx_int8`): several times torch's CPU throughput with
  vectors within cosine ~0.99 of torch's.
* ``auto`` (the default): torch on a CUDA device when one is present, else onnx-int8.

Every backend has a ``model_id`` that goes into each content hash and the index manifest. The two backends'
ids differ, so their vectors are never mixed: switching backend re-encodes every movie. torch keeps the id
it always had (``<model>@sha256:<weights>``), so lakes embedded before backends existed stay valid for it.
Heavy imports (torch, onnxruntime) happen only when a backend is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from movie_assets.embeddings.backend_choice import (
    AUTO,
    BACKEND_SETTING,
    BACKENDS,
    CHOICES,
    CPU,
    ONNX_INT8,
    TORCH,
    EmbeddingBackend,
    cuda_available,
    resolve_backend,
    validate_backend,
)
from movie_assets.embeddings.model import DEFAULT_SHA256, LoadedModel, ModelError, load_model


class TorchBackend(EmbeddingBackend):
    """The SentenceTransformer (float32) on ``device``."""

    name = TORCH

    def __init__(self, loaded: LoadedModel, device: str = CPU):
        self.loaded = loaded
        self.model = loaded.model
        self.model_id = loaded.model_id  # unchanged since before backends: existing torch vectors stay valid
        self.dimension = loaded.dimension
        self.sha256 = loaded.sha256
        self.path = loaded.path
        self.device = device

    def encode(self, sentences: list[str], *, batch_size: int = 64, **kwargs: Any) -> np.ndarray:
        kwargs.update(convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(self.model.encode(sentences, batch_size=batch_size, **kwargs), dtype=np.float32)


def load_backend(
    backend: str | None = AUTO,
    *,
    model_path: str | os.PathLike | None = None,
    expected_sha256: str | None = DEFAULT_SHA256,
    device: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> EmbeddingBackend:
    """Load the requested backend (``auto``: see `resolve_backend`), strictly offline, weights sha256-verified.

    ``cache_dir`` holds the exported int8 ONNX model (default: the user cache dir, see
    `onnx_int8.default_cache_dir`); ``threads``: onnxruntime intra-op threads (default: the usable cores).
    """
    name, where = resolve_backend(backend, device)
    if name == TORCH:
        return TorchBackend(load_model(model_path, expected_sha256, device=where), where)
    from movie_assets.embeddings.onnx_int8 import OnnxInt8Backend

    return OnnxInt8Backend.load(model_path, expected_sha256, cache_dir=cache_dir, threads=threads, log=log)


__all__ = [
    "AUTO",
    "BACKEND_SETTING",
    "CPU",
    "cuda_available",
    "BACKENDS",
    "CHOICES",
    "ONNX_INT8",
    "TORCH",
    "EmbeddingBackend",
    "ModelError",
    "TorchBackend",
    "load_backend",
    "resolve_backend",
    "validate_backend",
]
