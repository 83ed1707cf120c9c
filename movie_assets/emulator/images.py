"""Tiny deterministic PNG images for the emulator's ``/t/p/{size}/{file}`` image server (no PIL needed)."""

from __future__ import annotations

import struct
import zlib

from .hashing import mix64

# Pixel sizes by image kind (kept tiny: the pipeline only needs valid, distinct images).
_SHAPES = {"poster": (20, 30), "backdrop": (32, 18), "profile": (16, 24), "logo": (24, 12)}


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
