"""Which embedding backend runs, and what every backend offers: the backend names, the choice rules (`auto`:
torch on a CUDA device, else onnx-int8) and `EmbeddingBackend`, the interface `encode` needs. The backends
themselves are in `movie_assets.embeddings.backends` (torch) and `movie_assets.embeddings.onnx_int8`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

AUTO = "auto"
TORCH = "torch"
ONNX_INT8 = "onnx-int8"
BACKENDS = (TORCH, ONNX_INT8)
CHOICES = (AUTO, *BACKENDS)
BACKEND_SETTING = "backend"
CPU = "cpu"


def validate_backend(value: str | None, setting: str = BACKEND_SETTING, *, choices: tuple[str, ...] = CHOICES,
                     what: str = "an embedding backend") -> str:
    """``value`` lower-cased and checked against ``choices`` (blank → ``auto``); a bad one raises ValueError
    naming ``setting``. The poster image encoder validates its own choices with it."""
    choice = (value or "").strip().lower() or AUTO
    if choice not in choices:
        raise ValueError(f"{setting}={value!r} is not {what}; choose one of {', '.join(choices)}")
    return choice


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (False when torch cannot tell)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover - broken torch installs
        return False


def resolve_backend(
    choice: str | None = AUTO,
    device: str | None = None,
    *,
    has_cuda: Callable[[], bool] = cuda_available,
    cpu_backend: str = ONNX_INT8,
    choices: tuple[str, ...] = CHOICES,
) -> tuple[str, str]:
    """(backend, device) for a requested backend and device (None: pick).

    ``auto`` → torch on ``cuda`` when a CUDA device is present (or ``device`` names one), else ``cpu_backend``
    (onnx-int8 for text; the image encoder passes its own) on the CPU. ``torch`` with no device → ``cuda`` when
    present, else ``cpu``. ``cpu_backend`` runs on the CPU only; asking for it on another device is an error.
    """
    choice = validate_backend(choice, choices=choices)
    device = (device or "").strip() or None
    if choice == AUTO:
        if device is None:
            return (TORCH, "cuda") if has_cuda() else (cpu_backend, CPU)
        return (cpu_backend, CPU) if device == CPU else (TORCH, device)
    if choice == TORCH:
        return TORCH, device or ("cuda" if has_cuda() else CPU)
    if device not in (None, CPU):
        raise ValueError(f"backend {cpu_backend!r} runs on the CPU only, not on device {device!r}; use backend "
                         f"{TORCH!r} (or {AUTO!r}) for {device}")
    return cpu_backend, CPU


class EmbeddingBackend:
    """What `movie_assets.embeddings.encode` needs: ``encode`` (SentenceTransformer's signature, returning
    unit-norm float32 vectors) plus what identifies the vectors (``model_id``) and describes them."""

    name: str
    model_id: str
    dimension: int
    sha256: str
    path: Path
    device: str

    def encode(self, sentences: list[str], *, batch_size: int = 64, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Facts for asset metadata and the index manifest."""
        return {"backend": self.name, "model_id": self.model_id, "device": self.device, "dimension": self.dimension}
