"""Poster images: a local cache fetched through the throttled TMDb client, CLIP image embeddings, an index.

Optional feature. Posters are downloaded into ``<lake.posters_dir>/<size>/<file>`` (already cached files
are skipped, every file is written to a temporary path and renamed, so a partial download never lands).
Image embeddings need local CLIP weights (``model_path``); nothing here ever downloads a model. Vectors
are unit-norm float32 in ``data/processed/poster_embeddings.parquet``; the FAISS index is built with the
same machinery as the text index, under ``<lake.index_dir>/posters``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import faiss
import numpy as np
import pyarrow as pa

from movie_assets.embeddings import index as text_index
from movie_assets.lake import Lake, atomic_path, write_parquet_atomic

log = logging.getLogger(__name__)

DEFAULT_SIZE = "w185"
DEFAULT_CONCURRENCY = 8
DEFAULT_BATCH_SIZE = 32
INDEX_SUBDIR = "posters"
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.25
BACKOFF_MAX = 8.0

COLUMN_DESCRIPTIONS = {
    "movie_id": "TMDb movie id (unique, sorted)",
    "poster_path": "TMDb poster path the vector was computed from",
    "vector": "unit-norm float32 CLIP image embedding of the cached poster",
}


# ------------------------------------------------------------------------------------------ download
class PosterFetchError(RuntimeError):
    """An image could not be fetched after the retries (5xx, timeouts, dropped connections, odd status)."""


@dataclass
class PosterCacheResult:
    """What `cache_posters` did. ``missing``: the server answered 404; ``no_poster``: TMDb has no path."""

    downloaded: int = 0
    skipped_cached: int = 0
    missing: int = 0
    failed: int = 0
    no_poster: int = 0
    bytes_downloaded: int = 0
    seconds: float = 0.0
    image_base: str = ""
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = self.errors[:10]
        return out


def poster_file(lake: Lake, poster_path: str, size: str = DEFAULT_SIZE) -> Path:
    """Where the cached copy of ``poster_path`` (``/abc.jpg``) at ``size`` lives."""
    name = poster_path.strip().lstrip("/")
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"not a TMDb image path: {poster_path!r}")
    return lake.posters_dir / size / name


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def image_base_for(client: Any) -> str:
    """Base URL of images (ends in ``/t/p/``).

    A loopback base URL means the built-in emulator, which serves images itself at its root (its
    ``/configuration`` names the real image host, unreachable offline); otherwise TMDb's
    ``secure_base_url`` from ``/configuration``.
    """
    base = client.base_url.rstrip("/")
    if _is_loopback(base):
        root = base[: -len("/3")] if base.endswith("/3") else base
        return root + "/t/p/"
    config = await client.configuration()
    secure = (config.get("images") or {}).get("secure_base_url") or "https://image.tmdb.org/t/p/"
    return secure if secure.endswith("/") else secure + "/"


async def fetch_image(
    client: Any, url: str, *, max_attempts: int = MAX_ATTEMPTS, backoff_base: float = BACKOFF_BASE
) -> bytes | None:
    """GET ``url`` through ``client``'s rate limiter and session; None on 404.

    5xx, 429, timeouts and dropped connections are retried with full-jitter exponential backoff (429
    also slows the shared bucket); anything else, or exhausted retries, raises `PosterFetchError`.
    """
    session = client.session
    last = "no attempt"
    for attempt in range(max_attempts):
        if attempt:
            await asyncio.sleep(random.uniform(0, min(BACKOFF_MAX, backoff_base * 2**attempt)))
        await client.limiter.acquire()
        client.stats.requests += 1
        try:
            async with session.get(url, headers={"Accept": "image/*"}) as resp:
                status = resp.status
                body = await resp.read() if status == 200 else b""
        except TimeoutError:
            last = "timeout"
            client.stats.retries["timeout"] += 1
            continue
        except aiohttp.ClientError as exc:
            last = f"connection: {type(exc).__name__}"
            client.stats.retries["connection"] += 1
            continue
        client.stats.statuses[status] += 1
        client.stats.bytes_received += len(body)
        if status == 200:
            if not body:
                last = "empty body"
                client.stats.retries["empty"] += 1
                continue
            client.limiter.record_success()
            return body
        if status == 404:
            client.stats.not_found += 1
            return None
        if status == 429:
            client.stats.rate_limited += 1
            client.limiter.penalize(None)
            client.stats.retries["429"] += 1
            last = "HTTP 429"
            continue
        if status >= 500:
            client.stats.retries["5xx"] += 1
            last = f"HTTP {status}"
            continue
        raise PosterFetchError(f"GET {url} answered HTTP {status}")
    raise PosterFetchError(f"GET {url} failed after {max_attempts} attempts; last: {last}")


async def cache_posters(
    client: Any,
    lake: Lake,
    movies: Iterable[tuple[int, str | None]],
    size: str = DEFAULT_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    image_base: str | None = None,
) -> PosterCacheResult:
    """Download the posters of ``movies`` (``(movie_id, poster_path)``) not cached yet, at ``size``."""
    started = time.perf_counter()
    result = PosterCacheResult()
    todo: dict[str, Path] = {}
    for _, poster_path in movies:
        if not poster_path:
            result.no_poster += 1
            continue
        target = poster_file(lake, poster_path, size)
        if target.exists() or poster_path in todo:
            result.skipped_cached += 1
            continue
        todo[poster_path] = target
    if todo:
        base = image_base or await image_base_for(client)
        result.image_base = base
        prefix = base.rstrip("/") + f"/{size}"
        sem = asyncio.Semaphore(max(1, concurrency))

        async def one(poster_path: str, target: Path) -> None:
            async with sem:
                try:
                    body = await fetch_image(client, prefix + "/" + poster_path.lstrip("/"))
                except PosterFetchError as exc:
                    result.failed += 1
                    result.errors.append(str(exc))
                    return
                if body is None:
                    result.missing += 1
                    return
                with atomic_path(target) as tmp:
                    tmp.write_bytes(body)
                result.downloaded += 1
                result.bytes_downloaded += len(body)

        await asyncio.gather(*(one(p, t) for p, t in todo.items()))
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def cached_posters(
    lake: Lake, movies: Iterable[tuple[int, str | None]], size: str = DEFAULT_SIZE
) -> list[tuple[int, str, Path]]:
    """``(movie_id, poster_path, file)`` of the movies whose poster is in the cache, sorted by movie id."""
    out = []
    for movie_id, poster_path in movies:
        if poster_path:
            file = poster_file(lake, poster_path, size)
            if file.is_file():
                out.append((int(movie_id), poster_path, file))
    return sorted(out)


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
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
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


def poster_embeddings_file(lake: Lake) -> Path:
    return lake.processed_dir / "poster_embeddings.parquet"


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
    out = target or poster_embeddings_file(lake)
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
