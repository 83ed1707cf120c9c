"""CLIP's vision tower from local weights (``model_path``), for the ``clip`` image backend
(`movie_assets.posters.image_backends`); nothing here ever downloads a model."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from movie_assets.embeddings.model import stay_offline

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ClipImageModel:
    """A local CLIP vision tower with its projection, and the processor that prepares images."""

    model: Any
    processor: Any
    path: Path
    dimension: int
    device: str = "cpu"

    @property
    def model_id(self) -> str:
        return self.path.name


def load_clip(
    model_path: str | os.PathLike | None, device: str = "cpu", logger: logging.Logger | Any | None = None
) -> ClipImageModel | None:
    """CLIP image model from a local directory, or None (logged) when there is none. Never downloads.

    The directory is a ``transformers`` save of ``CLIPModel`` or ``CLIPVisionModelWithProjection`` with
    its image processor config (``preprocessor_config.json``).
    """
    logger = logger or log
    if model_path is None or not Path(model_path).is_dir():
        logger.warning(
            f"no CLIP weights at {model_path}; set model_path to a local CLIP directory (a transformers save "
            "of CLIPModel or CLIPVisionModelWithProjection with its preprocessor_config.json) — skipping "
            "image embeddings"
        )
        return None
    stay_offline()
    import torch
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

    path = Path(model_path)
    kwargs: dict[str, Any] = {}
    config_file = path / "config.json"
    if config_file.is_file() and json.loads(config_file.read_text()).get("model_type") == "clip":
        # A full CLIPModel save: its vision config does not carry the top-level projection_dim.
        from transformers import CLIPConfig

        full = CLIPConfig.from_pretrained(path, local_files_only=True)
        vision = full.vision_config
        vision.projection_dim = full.projection_dim
        kwargs["config"] = vision
    model = CLIPVisionModelWithProjection.from_pretrained(path, local_files_only=True, **kwargs)
    model.eval().to(device)
    processor = CLIPImageProcessor.from_pretrained(path, local_files_only=True)
    torch.set_grad_enabled(False)
    dimension = int(model.config.projection_dim)
    logger.info(f"CLIP image model from {path} ({dimension}-d)")
    return ClipImageModel(model=model, processor=processor, path=path, dimension=dimension, device=device)


def embed_images(clip: ClipImageModel, images: Sequence[Any]) -> np.ndarray:
    """Unit-norm float32 image embeddings of PIL ``images`` (one batch)."""
    import torch

    if not images:
        return np.zeros((0, clip.dimension), dtype=np.float32)
    inputs = clip.processor(images=list(images), return_tensors="pt")
    with torch.inference_mode():
        out = clip.model(pixel_values=inputs["pixel_values"].to(clip.device))
    vecs = out.image_embeds.detach().cpu().numpy().astype(np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return np.ascontiguousarray(vecs / np.where(norms > 0, norms, 1.0), dtype=np.float32)
