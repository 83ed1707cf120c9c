"""Images: the TMDb-style file paths the catalog hands out, and the tiny PNGs served for the images that are
not movie posters (backdrops, profiles, logos, collection art; posters are JPEGs drawn by `posters`).

A path is ``/<21 noise chars><6 code chars>.<ext>``: the code is a reversible base62 encoding of
``(kind, entity id)`` and the noise a seeded digest of the same, so the image server can tell the paths it
handed out from any others without keeping a list.

A movie's poster can change in the living catalog: its first poster is ``(PATH_POSTER, movie id)``, its later
ones ``(PATH_POSTER_VERSION, movie id * POSTER_VERSIONS + version)`` (`poster_path`, `poster_of`).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

from .hashing import mix64

# Image path kinds (encoded in the path so the image server can validate it).
PATH_POSTER, PATH_BACKDROP, PATH_PROFILE, PATH_LOGO, PATH_COLLECTION = 1, 2, 3, 4, 5
PATH_POSTER_VERSION = 6  # a movie's later poster: entity = movie id * POSTER_VERSIONS + version
POSTER_VERSIONS = 64  # versions 1..63 get a path of their own; later ones reuse version 63's
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B64_TO_62 = str.maketrans("+/", "xQ")
_PATH_MOD = 62**6
_PATH_MULT = 2_654_435_761  # coprime with 62**6, so the id code is a bijection
_PATH_MULT_INV = pow(_PATH_MULT, -1, _PATH_MOD)
# Pixel sizes by image kind (kept tiny: the pipeline only needs valid, distinct images).
_SHAPES = {"poster": (20, 30), "backdrop": (32, 18), "profile": (16, 24), "logo": (24, 12)}


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(chars)


def image_path(seed: int, kind: int, entity_id: int, ext: str = "jpg") -> str:
    """Deterministic TMDb-style file path (``/<27 base62 chars>.jpg``) for an entity's image."""
    code = (entity_id * 8 + kind) * _PATH_MULT % _PATH_MOD
    digest = hashlib.blake2b(f"{seed}:{kind}:{entity_id}".encode(), digest_size=16).digest()
    noise = base64.b64encode(digest).decode()[:21].translate(_B64_TO_62)
    return f"/{noise}{_base62(code, 6)}.{ext}"


def parse_image_path(seed: int, path: str) -> tuple[int, int] | None:
    """Inverse of `image_path`: ``(kind, entity_id)`` if ``path`` is one of ours, else None."""
    token, _, ext = path[1:].partition(".")
    if not path.startswith("/") or len(token) != 27 or any(c not in _BASE62 for c in token):
        return None
    code = 0
    for c in reversed(token[21:]):
        code = code * 62 + _BASE62.index(c)
    n = code * _PATH_MULT_INV % _PATH_MOD
    kind, entity_id = n % 8, n // 8
    if image_path(seed, kind, entity_id, ext) != path:
        return None
    return kind, entity_id


def poster_path(seed: int, movie_id: int, version: int = 0) -> str:
    """The path of a movie's poster of ``version`` (0: its first poster, the path the static catalog hands
    out; each new poster of the living catalog a new path)."""
    if version <= 0:
        return image_path(seed, PATH_POSTER, movie_id)
    return image_path(seed, PATH_POSTER_VERSION, movie_id * POSTER_VERSIONS + min(version, POSTER_VERSIONS - 1))


def poster_of(kind: int, entity_id: int) -> tuple[int, int] | None:
    """``(movie id, poster version)`` of a parsed image path (`parse_image_path`), or None when it is not a
    movie poster."""
    if kind == PATH_POSTER:
        return entity_id, 0
    if kind == PATH_POSTER_VERSION and entity_id % POSTER_VERSIONS:
        return divmod(entity_id, POSTER_VERSIONS)
    return None


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_for(path: str, shape: str = "poster", seed: int = 0) -> bytes:
    """A small RGB PNG whose colours (a two-colour gradient with a band) are derived from ``path``."""
    width, height = _SHAPES.get(shape, _SHAPES["poster"])
    h = mix64(seed, *path.encode("utf-8"))
    c1 = ((h >> 0) & 0xFF, (h >> 8) & 0xFF, (h >> 16) & 0xFF)
    c2 = ((h >> 24) & 0xFF, (h >> 32) & 0xFF, (h >> 40) & 0xFF)
    band = (h >> 48) % height
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        t = y / max(1, height - 1)
        if y == band:
            pixel = bytes(255 - c for c in c1)
            rows.extend(pixel * width)
            continue
        for x in range(width):
            s = (t + x / max(1, width - 1)) / 2
            rows.extend(int(a + (b - a) * s) for a, b in zip(c1, c2, strict=True))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )
