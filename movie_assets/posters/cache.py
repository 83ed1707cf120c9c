"""Poster images: a local cache fetched through the throttled TMDb client.

Posters are downloaded into ``<lake.posters_dir>/<size>/<file>`` (already cached files are skipped, every
file is written to a temporary path and renamed, so a partial download never lands).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from movie_assets.common.concurrency import bounded_map
from movie_assets.lake import Lake, atomic_path
from movie_assets.lake.files import sweep_stale_temporaries
from movie_assets.tmdb.errors import TMDbError, display_url

log = logging.getLogger(__name__)

DEFAULT_SIZE = "w185"
DEFAULT_CONCURRENCY = 8
# What the image formats TMDb serves start with (WebP: RIFF....WEBP).
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


# ------------------------------------------------------------------------------------------ download
class PosterFetchError(RuntimeError):
    """An image could not be fetched after the retries (5xx, timeouts, dropped connections, odd status), or
    the server answered 200 with something that is not an image."""


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
    return lake.poster_file(size, name)


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


def is_image(body: bytes) -> bool:
    """Whether ``body`` starts like a JPEG, PNG, GIF or WebP file."""
    return body.startswith(IMAGE_MAGIC) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP")


async def fetch_image(client: Any, url: str) -> bytes | None:
    """GET ``url`` with ``client.get_bytes`` (the client's rate limit and retry policy, no credentials);
    None on 404. Exhausted retries, another status, or a 200 whose body is not an image (an HTML error
    page from a proxy, say: not retried, never cached) raise `PosterFetchError`."""
    try:
        body = await client.get_bytes(url, accept="image/*")
    except TMDbError as exc:
        raise PosterFetchError(str(exc)) from None
    if body is not None and not is_image(body):
        raise PosterFetchError(
            f"GET {display_url(url)} answered 200 with {len(body)} bytes that are not a JPEG, PNG, WebP or GIF "
            f"image (they start {body[:16]!r}); not cached"
        )
    return body


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
    if lake.posters_dir.exists():
        sweep_stale_temporaries(lake.posters_dir)  # what a killed run left half-written
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
        result.image_base = display_url(base)
        prefix = base.rstrip("/") + f"/{size}"

        async def one(item: tuple[str, Path]) -> None:
            poster_path, target = item
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

        await bounded_map(one, todo.items(), concurrency)
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
