"""The ``onnx`` image backend: the packaged EfficientNet-Lite0 feature network exported to float32 ONNX here,
on this machine, and run by onnxruntime on the CPU. Nothing is downloaded.

Export (once per cache key; ~2 s on 2 cores): ``torch.onnx.export`` (TorchScript exporter, ``dynamo=False``),
opset 17, float32, a dynamic batch axis and the fixed input size of `movie_assets.posters.preprocess`
(144×216). Preprocessing and the L2 normalisation stay in numpy, shared with the torch backend.

Float32, not int8: dynamic int8 quantisation (onnxruntime ``quantize_dynamic``, per-channel QInt8) was measured
on this model at 160×240, batch 32, 2 cores: mean cosine 0.74 (min 0.64) against float32 and ~11 images/s
against float32's ~120–190 (onnxruntime's ConvInteger kernels are slow, and the depthwise convolutions and
ReLU6 ranges of this network quantise badly); the earlier research at 224×224 found cosine 0.87 and no
speed-up either. The float32 file is 13.5 MB.

Cache: ``<cache dir>/efficientnet-lite0.<key>.onnx`` plus a ``.json`` sidecar holding its sha256, by
`movie_assets.embeddings.onnx_int8.cached_session` (the text model's rule): a missing or corrupt file is
exported again. ``key`` hashes the weights' sha256, `RECIPE` (preprocessing and input size included) and the
versions of torch, onnx, onnxruntime and efficientnet-lite-pytorch; it is part of the ``model_id``.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from movie_assets.embeddings.backend_choice import CPU
from movie_assets.embeddings.onnx_int8 import (
    cached_session,
    default_cache_dir,
    quiet_export,
    usable_cores,
)
from movie_assets.lake import atomic_path, json_text
from movie_assets.posters import preprocess
from movie_assets.posters.image_model import (
    DEFAULT_IMAGE_SHA256,
    IMAGE_DIMENSION,
    IMAGE_MODEL_NAME,
    ONNX,
    ImageEncoder,
    ImageModelError,
    Log,
    build_network,
    locate_weights,
)

OPSET = 17
INPUT = "pixel_values"
OUTPUT = "features"
RECIPE: dict[str, Any] = {
    "version": 1,
    "network": f"{IMAGE_MODEL_NAME} features (_fc = identity, global average pool, {IMAGE_DIMENSION}-d)",
    "exporter": "torch.onnx.export(dynamo=False)",
    "opset": OPSET,
    "dtype": "float32",
    "dynamic_axes": ["batch"],
    "preprocess": preprocess.RECIPE,
}


def tool_versions() -> dict[str, str]:
    """Versions of everything that shapes the exported graph."""
    import onnx
    import onnxruntime
    import torch

    try:
        architecture = metadata.version("efficientnet-lite-pytorch")
    except metadata.PackageNotFoundError:  # pragma: no cover - depends on the environment
        architecture = "unknown"
    return {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
            "efficientnet-lite-pytorch": architecture}


def cache_key(weights_sha256: str, versions: dict[str, str] | None = None, recipe: dict[str, Any] | None = None) -> str:
    """16 hex digits naming one exported model: weights, recipe (input size included) and tool versions."""
    facts = {"weights_sha256": weights_sha256, "recipe": recipe if recipe is not None else RECIPE,
             "versions": versions if versions is not None else tool_versions()}
    return hashlib.sha256(json_text(facts).encode("utf-8")).hexdigest()[:16]


def cache_file(cache_dir: Path, key: str) -> Path:
    """The ONNX file for ``key`` under ``cache_dir`` (its sidecar: the same name with ``.json``)."""
    return cache_dir / f"{IMAGE_MODEL_NAME}.{key}.onnx"


def export_onnx(weights: Path, target: Path) -> None:
    """Export the feature network with ``weights`` (already verified) to float32 ONNX at ``target``, atomically."""
    import torch

    network = build_network(weights)
    dummy = torch.zeros(2, 3, preprocess.INPUT_HEIGHT, preprocess.INPUT_WIDTH)
    target.parent.mkdir(parents=True, exist_ok=True)
    with quiet_export(), atomic_path(target) as tmp, torch.no_grad():
        torch.onnx.export(network, (dummy,), str(tmp), input_names=[INPUT], output_names=[OUTPUT],
                          dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}, opset_version=OPSET,
                          do_constant_folding=True, dynamo=False)


class OnnxImageEncoder(ImageEncoder):
    """The float32 ONNX export run by onnxruntime on the CPU."""

    name = ONNX

    def __init__(self, session: Any, *, path: Path, sha256: str, key: str, onnx_path: Path, threads: int,
                 export_seconds: float | None, model_id: str):
        self.session = session
        self.path = path
        self.sha256 = sha256
        self.key = key
        self.onnx_path = onnx_path
        self.threads = threads
        self.export_seconds = export_seconds
        self.device = CPU
        self.model_id = f"{model_id}+{ONNX}:{key}"
        self.dimension = int(session.get_outputs()[0].shape[-1])

    @classmethod
    def load(
        cls,
        model_path: str | os.PathLike | None = None,
        expected_sha256: str | None = DEFAULT_IMAGE_SHA256,
        *,
        cache_dir: str | os.PathLike | None = None,
        threads: int | None = None,
        log: Log | None = None,
    ) -> OnnxImageEncoder:
        """Verify the weights, then export (or reuse) the ONNX model; strictly offline."""
        weights = locate_weights(model_path, expected_sha256)
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImageModelError("the 'onnx' image backend needs onnxruntime and onnx; reinstall movie_assets "
                                  "(pip install -e .) or use image backend 'torch'") from exc
        threads = threads or usable_cores()
        versions = tool_versions()
        key = cache_key(weights.sha256, versions)
        path = cache_file(Path(cache_dir) if cache_dir is not None else default_cache_dir(), key)
        facts = {"key": key, "weights_sha256": weights.sha256, "recipe": RECIPE, "versions": versions,
                 "model": IMAGE_MODEL_NAME}
        session, seconds = cached_session(path, lambda target: export_onnx(weights.path, target), facts,
                                          threads=threads, log=log, what=f"{IMAGE_MODEL_NAME} to float32 ONNX",
                                          done="exported", fallback="use image backend 'torch'")
        return cls(session, path=weights.path, sha256=weights.sha256, key=key, onnx_path=path, threads=threads,
                   export_seconds=seconds, model_id=weights.model_id)

    def _features(self, batch: np.ndarray) -> np.ndarray:
        [features] = self.session.run([OUTPUT], {INPUT: np.ascontiguousarray(batch, dtype=np.float32)})
        return features

    def describe(self) -> dict[str, Any]:
        facts = super().describe()
        facts.update(precision="float32", onnx_file=self.onnx_path.name, onnx_key=self.key, threads=self.threads)
        if self.export_seconds is not None:
            facts["export_seconds"] = round(self.export_seconds, 2)
        return facts
