"""Poster images: a local cache fetched through the throttled TMDb client.

Posters are downloaded into ``<lake.posters_dir>/<size>/<file>`` (already cached files are skipped, every
file is written to a temporary path and renamed, so a partial download never lands).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from movie_assets.common.concurrency import bounded_map
from movie_assets.lake import Lake, atomic_path
from movie_assets.lake.files import sweep_stale_temporaries

log = logging.getLogger(__name__)

DEFAULT_SIZE = "w185"
DEFAULT_CONCURRENCY = 8
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.25
BACKOFF_MAX = 8.0


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
        result.image_base = base
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
