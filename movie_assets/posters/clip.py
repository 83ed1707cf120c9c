"""CLIP image embeddings of the cached posters, and a FAISS index over them.

Image embeddings need local CLIP weights (``model_path``); nothing here ever downloads a model. Vectors
are unit-norm float32 in ``data/processed/poster_embeddings.parquet``; the FAISS index is built with the
same machinery as the text index, under ``<lake.index_dir>/posters``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pyarrow as pa

from movie_assets.embeddings import index as text_index
from movie_assets.embeddings.model import stay_offline
from movie_assets.lake import Lake, write_parquet_atomic

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32
INDEX_SUBDIR = "posters"

COLUMN_DESCRIPTIONS = {
    "movie_id": "TMDb movie id (unique, sorted)",
    "poster_path": "TMDb poster path the vector was computed from",
    "vector": "unit-norm float32 CLIP image embedding of the cached poster",
}


# ---------------------------------------------------------------------------------------------- CLIP
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


def poster_embeddings_schema(dimension: int) -> pa.Schema:
    return pa.schema(
        [("movie_id", pa.int64()), ("poster_path", pa.string()), ("vector", pa.list_(pa.float32(), dimension))]
    )


@dataclass(frozen=True)
class PosterEmbedResult:
    table: pa.Table
    embedded: int
    unreadable: int
    seconds: float
    path: Path


def embed_posters(
    clip: ClipImageModel,
    lake: Lake,
    posters: Iterable[tuple[int, str, Path]],
    batch_size: int = DEFAULT_BATCH_SIZE,
    target: Path | None = None,
) -> PosterEmbedResult:
    """Embed cached poster files (``(movie_id, poster_path, file)``, e.g. from `cached_posters`), write Parquet.

    Files that cannot be decoded are skipped and counted. Output sorted by movie id (first file per id).
    """
    from PIL import Image, UnidentifiedImageError

    started = time.perf_counter()
    seen: set[int] = set()
    items = []
    for movie_id, poster_path, file in sorted(posters):
        if movie_id not in seen:
            seen.add(movie_id)
            items.append((movie_id, poster_path, Path(file)))
    ids: list[int] = []
    paths: list[str] = []
    parts: list[np.ndarray] = []
    unreadable = 0
    step = max(1, batch_size)
    for start in range(0, len(items), step):
        batch_ids, batch_paths, images = [], [], []
        for movie_id, poster_path, file in items[start : start + step]:
            try:
                with Image.open(file) as im:
                    images.append(im.convert("RGB"))
            except (OSError, UnidentifiedImageError) as exc:
                log.warning("cannot decode poster %s (movie %d): %s", file, movie_id, exc)
                unreadable += 1
                continue
            batch_ids.append(movie_id)
            batch_paths.append(poster_path)
        if images:
            parts.append(embed_images(clip, images))
            ids.extend(batch_ids)
            paths.extend(batch_paths)
    vectors = np.concatenate(parts) if parts else np.zeros((0, clip.dimension), dtype=np.float32)
    table = pa.table(
        {
            "movie_id": pa.array(ids, type=pa.int64()),
            "poster_path": pa.array(paths, type=pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors.reshape(-1), type=pa.float32()), clip.dimension
            ),
        },
        schema=poster_embeddings_schema(clip.dimension),
    )
    out = target or lake.poster_embeddings_file
    write_parquet_atomic(table, out, row_group_size=16_384)
    return PosterEmbedResult(
        table=table, embedded=len(ids), unreadable=unreadable, seconds=time.perf_counter() - started, path=out
    )


# --------------------------------------------------------------------------------------------- index
def poster_index_dir(lake: Lake) -> Path:
    return text_index.index_dir(lake, INDEX_SUBDIR)


def build_poster_index(
    lake: Lake,
    movie_ids: np.ndarray,
    vectors: np.ndarray,
    titles: pa.Table | None = None,
    params: text_index.IndexParams = text_index.IndexParams(),
    extra_manifest: dict[str, Any] | None = None,
) -> text_index.IndexReport:
    """The text index's machinery (flat or HNSW, recall check, id map) saved under ``index/posters``."""
    return text_index.build_index_files(lake, movie_ids, vectors, titles, params, extra_manifest, name=INDEX_SUBDIR)


def load_poster_index(lake: Lake) -> tuple[faiss.Index, pa.Table, dict[str, Any]]:
    """(index, id map, manifest) of the saved poster index."""
    return text_index.load_index(lake, INDEX_SUBDIR)
