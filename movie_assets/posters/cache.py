"""Poster images on disk: where a cached copy lives, where the image host is, and one download.

Posters are cached at ``<lake.posters_dir>/<size>/<file>``, each written to a temporary path and renamed, so a
partial download never lands; a killed run leaves only whole files, which the next run does not fetch again.
Images come through their own client (the image host's rate, `TMDbSettings.for_images`), never with the API's
credentials.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from movie_assets.lake import Lake

DEFAULT_SIZE = "w185"
DEFAULT_CONCURRENCY = 16
MAX_NAME_BYTES = 200  # TMDb's are 31; a file name (plus the temporary prefix) must fit the filesystem's 255
POSTER_SIZES = ("w92", "w154", "w185", "w342", "w500", "w780", "original")


def check_size(size: str, setting: str = "size") -> str:
    """``size`` when it is one of TMDb's poster sizes, else a `ValueError` naming ``setting``."""
    if size not in POSTER_SIZES:
        raise ValueError(f"{setting}={size!r} is not a TMDb poster size; use one of {', '.join(POSTER_SIZES)}")
    return size


def poster_file(lake: Lake, poster_path: str, size: str = DEFAULT_SIZE) -> Path:
    """Where the cached copy of ``poster_path`` (``/abc.jpg``) at ``size`` lives."""
    name = poster_path.strip().lstrip("/")
    if not name or "/" in name or name in (".", "..") or "\0" in name or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ValueError(f"not a TMDb image path: {poster_path[:80]!r}")
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
    ``/configuration`` names the real image host, unreachable offline, and must: the lake's absolute image URLs
    come from it); otherwise TMDb's ``secure_base_url`` from ``/configuration``.
    """
    base = client.base_url.rstrip("/")
    if _is_loopback(base):
        root = base[: -len("/3")] if base.endswith("/3") else base
        return root + "/t/p/"
    config = await client.configuration()
    secure = (config.get("images") or {}).get("secure_base_url") or "https://image.tmdb.org/t/p/"
    return secure if secure.endswith("/") else secure + "/"


def poster_url(image_base: str, size: str, poster_path: str) -> str:
    """``secure_base_url + size + file_path`` (TMDb's image URL)."""
    return image_base.rstrip("/") + f"/{size}/" + poster_path.strip().lstrip("/")
