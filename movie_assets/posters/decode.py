"""Is a downloaded poster an image worth embedding? Decode it, safely, into an RGB picture or a reason why not.

Every outcome but ``ok`` is recorded per movie (`movie_assets.posters.year_posters`), never dropped:

* ``not_image``: the bytes are no JPEG, PNG, GIF or WebP (an HTML error page served as ``image/jpeg``, say);
* ``too_large``: the header announces more than `MAX_PIXELS` pixels (a decompression bomb: 20,000 × 20,000
  would take 1.2 GB decoded); checked before any pixel is decoded;
* ``too_small``: a side shorter than `MIN_SIDE` pixels (a 1 × 1 placeholder carries nothing to embed);
* ``undecodable``: the decoder fails (a truncated JPEG, a corrupt PNG).

(`movie_assets.posters.year_posters` adds ``not_found`` for a 404, ``refused`` for another status or an answer over
``TMDB_MAX_RESPONSE_MB``, and ``failed`` when the retries ran out.) The picture is turned upright by its EXIF
orientation.

Colour is normalised here, once, for every encoder: a palette or greyscale image becomes RGB, transparency is
composited onto white (how a poster with an alpha channel looks on a page), CMYK is converted by Pillow (which
undoes Adobe's inverted CMYK JPEGs), 16-bit greyscale is scaled to 8 bits.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

OK = "ok"
NO_POSTER = "no_poster"
NOT_FOUND = "not_found"
NOT_IMAGE = "not_image"
TOO_LARGE = "too_large"
TOO_SMALL = "too_small"
UNDECODABLE = "undecodable"
REFUSED = "refused"
FAILED = "failed"
# What a poster's row may say. ``failed`` (retries exhausted, the host down) is asked again by the next run; the
# others are answers about that poster path and stand until the path changes (or the run is told to ask again),
# except those a passing fault can also give (`ASKED_AGAIN`: a cut-off body, an error page served with 200), which
# are asked again until `ATTEMPTS` runs have given them.
STATUSES = (OK, NO_POSTER, NOT_FOUND, NOT_IMAGE, TOO_LARGE, TOO_SMALL, UNDECODABLE, REFUSED, FAILED)
UNAVAILABLE = (NOT_FOUND, NOT_IMAGE, TOO_LARGE, TOO_SMALL, UNDECODABLE, REFUSED)
ASKED_AGAIN = (NOT_IMAGE, UNDECODABLE)
ATTEMPTS = 3

MAX_PIXELS = 40_000_000  # TMDb's largest originals are about 2,000 × 3,000 (6 Mpx)
MIN_SIDE = 16
# What the image formats TMDb serves start with (WebP: RIFF....WEBP).
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


@dataclass(frozen=True)
class DecodedPoster:
    """An RGB picture (``status`` ok) or why there is none."""

    status: str
    reason: str = ""
    width: int = 0
    height: int = 0
    image: Any = None  # PIL.Image.Image in mode RGB when ok


def is_image(body: bytes) -> bool:
    """Whether ``body`` starts like a JPEG, PNG, GIF or WebP file."""
    return body.startswith(IMAGE_MAGIC) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP")


def decode_poster(body: bytes) -> DecodedPoster:
    """``body`` decoded into an RGB picture, or the reason it cannot be one (see the module docstring)."""
    from PIL import Image, ImageOps

    if not is_image(body):
        return DecodedPoster(NOT_IMAGE, f"{len(body)} bytes that are no JPEG, PNG, GIF or WebP (they start "
                                        f"{body[:16]!r})")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(body)) as im:
                width, height = im.size
                if width * height > MAX_PIXELS:
                    return DecodedPoster(TOO_LARGE, f"{width}×{height} pixels announced, over the {MAX_PIXELS:,} "
                                                    "accepted (a decompression bomb?)", width, height)
                if min(width, height) < MIN_SIDE:
                    return DecodedPoster(TOO_SMALL, f"{width}×{height} pixels, under {MIN_SIDE} on a side",
                                         width, height)
                im.load()
                picture = to_rgb(ImageOps.exif_transpose(im))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            return DecodedPoster(TOO_LARGE, f"decompression bomb: {exc}")
        except (OSError, SyntaxError, ValueError) as exc:  # what Pillow raises on truncated or corrupt data
            return DecodedPoster(UNDECODABLE, f"cannot decode ({type(exc).__name__}: {exc})")
    return DecodedPoster(OK, "", width, height, picture)


def to_rgb(im: Any) -> Any:
    """``im`` as an RGB picture: transparency composited onto white, CMYK, palette, grey and 16-bit converted."""
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = im.point(lambda v: v / 256).convert("L")  # 16-bit grey: keep the top 8 bits
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB") if im.mode != "RGB" else im.copy()
