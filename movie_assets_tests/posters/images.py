"""Test images (good and hostile), a lake holding only a year of poster paths, and a tiny image encoder."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
from PIL import Image

from movie_assets.lake import Lake, write_parquet_atomic

YEAR = 2001


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def poster(colour=(200, 40, 40), size=(60, 90)) -> Image.Image:
    """A small poster: a colour field with a darker band."""
    im = Image.new("RGB", size, colour)
    im.paste(tuple(c // 3 for c in colour), (0, size[1] // 3, size[0], size[1] // 2))
    return im


POSTER_PNG = encoded(poster(), "PNG")
POSTER_JPEG = encoded(poster(), "JPEG", quality=90)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header announces ``width`` × ``height`` pixels, with one empty data chunk (a bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def rgba_png() -> bytes:
    im = poster((20, 120, 220)).convert("RGBA")
    alpha = Image.new("L", im.size, 0)
    alpha.paste(255, (10, 10, 50, 80))
    im.putalpha(alpha)
    return encoded(im, "PNG")


def cmyk_jpeg() -> bytes:
    return encoded(poster((30, 160, 90)).convert("CMYK"), "JPEG", quality=90)


# The bad-input catalogue of poster bodies: name → (body, expected status).
HOSTILE_BODIES = {
    "truncated.jpg": (POSTER_JPEG[: len(POSTER_JPEG) // 2], "undecodable"),
    "alpha.png": (rgba_png(), "ok"),
    "cmyk.jpg": (cmyk_jpeg(), "ok"),
    "pixel.png": (encoded(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"), "too_small"),
    "bomb.png": (png_header_only(20_000, 20_000), "too_large"),
    "page.jpg": (b"<!DOCTYPE html><html><body>Bad gateway</body></html>", "not_image"),
}


def poster_lake(tmp_path: Path, posters: dict[int, str | None], year: int | None = YEAR) -> Lake:
    """A lake whose movies file of ``year`` holds only ``movie_id, poster_path`` (what the poster steps read)."""
    lake = Lake.at(tmp_path / "data")
    set_posters(lake, posters, year)
    return lake


def set_posters(lake: Lake, posters: dict[int, str | None], year: int | None = YEAR) -> None:
    table = pa.table({"movie_id": pa.array(sorted(posters), pa.int64()),
                      "poster_path": pa.array([posters[m] for m in sorted(posters)], pa.string())})
    write_parquet_atomic(table, lake.movies_year_file(year))


class TinyEncoder:
    """An image encoder for tests: the picture at 4 × 6 pixels, unit norm (nearby colours, nearby vectors)."""

    name = "tiny"
    model_id = "tiny@1"
    dimension = 72
    device = "cpu"

    def __init__(self):
        self.calls = 0

    def encode(self, images, *, batch_size: int = 32) -> np.ndarray:
        self.calls += len(images)
        rows = [np.asarray(im.convert("RGB").resize((4, 6)), dtype=np.float32).reshape(-1) + 1.0 for im in images]
        out = np.stack(rows) if rows else np.zeros((0, self.dimension), np.float32)
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    def describe(self) -> dict:
        return {"backend": self.name, "model_id": self.model_id}
