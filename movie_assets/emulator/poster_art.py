"""Poster art: the pixels of an emulator poster, drawn with numpy from a movie's facts (no per-pixel loops).

`draw` paints three layers on a grid of normalised coordinates (``x`` across, 0..1; ``y`` down, 0..1.5: the
2:3 poster aspect, so discs stay round at every size):

1. the genre's look (`GENRE_LOOKS`): a palette of four colours (top and bottom of the background gradient, the
   main shape, the accent) and a composition, one per family of TMDb's 19 genres: a horizon with a sun
   (western, war), diagonal slashes (action, adventure), a central face (drama; two for romance), vertical
   bars (horror, thriller), a starfield over a planet (science fiction, fantasy), dots (comedy, family,
   animation), a framed picture over lines of text (documentary, history, TV movie), light through blinds
   (crime, mystery), rings (music). Shapes move, turn and scale a little with a per-movie draw;
2. the franchise look, for a movie of a collection: a tint toward the collection's colour, a title band and a
   foot band in that colour and an emblem (disc, diamond, triangle or square, by collection) on the title
   band's edge, all at the same place on every poster of the collection;
3. the decade's grade: the older the film, the lower the saturation and contrast, the stronger the sepia
   cast, the vignette and the film grain; films of the last decade or so stay clean and saturated.

The grain and the stars are crops of fixed noise tiles (one per size, from a fixed seed), so drawing costs a
few vectorised passes over the pixels.
"""

from __future__ import annotations

import colorsys
import functools
import math
from collections.abc import Callable

import numpy as np

from .hashing import mix64

_S_ART, _S_FRANCHISE_ART = 130, 131  # salts of the per-poster variation and of the per-collection look
Masks = list[tuple[np.ndarray, int]]  # (boolean mask, palette index) painted in order
Composition = Callable[[np.ndarray, np.ndarray, list[float], np.ndarray], Masks]


@functools.lru_cache(maxsize=16)
def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as a (1, width) row and ``y`` as a (height, 1) column, at pixel centres."""
    x = ((np.arange(width, dtype=np.float32) + 0.5) / width)[None, :]
    y = ((np.arange(height, dtype=np.float32) + 0.5) * (1.5 / height))[:, None]
    return x, y


@functools.lru_cache(maxsize=8)
def _noise(width: int, height: int) -> np.ndarray:
    """A fixed standard-normal tile 64 pixels larger than the poster each way (crops give grain and stars)."""
    return np.random.default_rng(20_261_101).standard_normal((height + 64, width + 64), dtype=np.float32)


@functools.lru_cache(maxsize=16)
def _corners(width: int, height: int) -> np.ndarray:
    """Squared distance of each pixel from the centre, in poster heights (the vignette's shape)."""
    x, y = _grid(width, height)
    return (x - 0.5) ** 2 + ((y - 0.75) / 1.5) ** 2


def _crop(width: int, height: int, u: float, v: float) -> np.ndarray:
    dy, dx = int(u * 64), int(v * 64)
    return _noise(width, height)[dy : dy + height, dx : dx + width]


def _disc(x: np.ndarray, y: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    return (x - cx) ** 2 + (y - cy) ** 2 < r * r


def _frac(t: np.ndarray) -> np.ndarray:
    return t - np.floor(t)


# ---------------------------------------------------------------------- compositions (masks over x, y)
def _horizon(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    line = 0.95 + 0.2 * (v[0] - 0.5)
    ground = y > line + 0.035 * np.sin(x * (5 + 5 * v[1]) + 6.3 * v[2])
    sun = _disc(x, y, 0.25 + 0.5 * v[3], line - 0.06, 0.16 + 0.06 * v[4])
    return [(sun, 2), (ground, 3)]


def _slashes(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    angle = 0.55 + 0.5 * v[0]
    t = (x * math.cos(angle) + y * math.sin(angle)) * (2.6 + 1.6 * v[1]) + v[2]
    burst = _disc(x, y, 0.2 + 0.6 * v[3], 0.3 + 0.9 * v[4], 0.1 + 0.05 * v[5])
    return [(_frac(t) < 0.3 + 0.12 * v[5], 2), (burst, 3)]


def _face(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    cx, cy = 0.5 + 0.1 * (v[0] - 0.5), 0.62 + 0.12 * (v[1] - 0.5)
    shoulders = ((x - cx) / (0.38 + 0.08 * v[3])) ** 2 + ((y - 1.5) / 0.5) ** 2 < 1.0
    return [(shoulders, 3), (_disc(x, y, cx, cy, 0.19 + 0.05 * v[2]), 2)]


def _two_faces(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    gap, cy = 0.16 + 0.06 * v[0], 0.7 + 0.12 * (v[1] - 0.5)
    r = 0.16 + 0.04 * v[2]
    heart = _disc(x, y, 0.5, 0.28 + 0.06 * v[3], 0.07)
    return [(heart, 3), (_disc(x, y, 0.5 - gap, cy, r) | _disc(x, y, 0.5 + gap, cy + 0.04, r), 2)]


def _bars(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    t = x * (5 + 4 * v[0]) + v[1]
    index = np.floor(t)
    tops = 0.25 + 0.8 * _frac(np.sin(index * 12.9898 + 78.233 * v[2]) * 43758.5453)  # per bar, on the row only
    eye = _disc(x, y, 0.3 + 0.4 * v[3], 0.2 + 0.1 * v[4], 0.05)
    return [((_frac(t) < 0.42) & (y > tops), 2), (eye, 3)]


def _stars(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    r = 0.55 + 0.15 * v[2]
    cx, cy = 0.2 + 0.6 * v[0], 1.45 + 0.15 * v[1]
    d2 = (x - cx) ** 2 + (y - cy) ** 2
    ring = np.abs(d2 - (1.25 * r) ** 2) < 0.03 * r
    return [(noise > 2.5, 3), (d2 < r * r, 2), (ring & (y < cy - 0.2), 3)]


def _dots(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    cell = 0.2 + 0.1 * v[0]
    dx, dy = _frac((x + v[1]) / cell) - 0.5, _frac((y + v[2]) / cell) - 0.5
    big = _disc(x, y, 0.25 + 0.5 * v[3], 0.5 + 0.6 * v[4], 0.2 + 0.06 * v[5])
    return [(dx * dx + dy * dy < 0.09, 2), (big, 3)]


def _frame(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    top, bottom = 0.16 + 0.1 * v[0], 0.95 + 0.1 * v[1]
    picture = (np.abs(x - 0.5) < 0.36 + 0.04 * v[2]) & (y > top) & (y < bottom)
    text = (y > bottom + 0.1) & (y < 1.42) & (_frac(y * 22) < 0.4) & (np.abs(x - 0.5) < 0.25 + 0.12 * v[3])
    return [(picture, 2), (text, 3)]


def _blinds(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    cx = 0.2 + 0.6 * v[0]
    lit = (np.abs(x - cx) < 0.08 + 0.4 * y) & (_frac(y * (7 + 3 * v[1]) + x * (v[2] - 0.5)) < 0.5)
    figure = _disc(x, y, 0.35 + 0.3 * v[3], 0.95, 0.1) | (
        (np.abs(x - 0.35 - 0.3 * v[3]) < 0.16) & (y > 1.05))
    return [(lit, 2), (figure, 3)]


def _rings(x: np.ndarray, y: np.ndarray, v: list[float], noise: np.ndarray) -> Masks:
    cx, cy = 0.5 + 0.2 * (v[0] - 0.5), 0.75 + 0.3 * (v[1] - 0.5)
    d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    return [((_frac(d * (7 + 3 * v[2])) < 0.45) & (d < 0.6), 2), (d < 0.08, 3)]


def _rgb(*colours: tuple[int, int, int]) -> np.ndarray:
    return np.array(colours, dtype=np.float32)


# Genre id -> (composition, palette: background top, background bottom, main shape, accent).
GENRE_LOOKS: dict[int, tuple[Composition, np.ndarray]] = {
    37: (_horizon, _rgb((250, 170, 80), (190, 80, 30), (255, 235, 150), (70, 35, 15))),  # Western
    10752: (_horizon, _rgb((120, 120, 100), (70, 70, 55), (220, 120, 50), (35, 40, 25))),  # War
    28: (_slashes, _rgb((30, 20, 30), (130, 20, 15), (255, 140, 0), (255, 235, 130))),  # Action
    12: (_slashes, _rgb((20, 70, 110), (200, 150, 70), (245, 205, 90), (110, 50, 20))),  # Adventure
    18: (_face, _rgb((45, 55, 90), (150, 120, 110), (235, 200, 170), (80, 30, 50))),  # Drama
    10749: (_two_faces, _rgb((250, 175, 185), (185, 60, 100), (255, 235, 220), (210, 20, 60))),  # Romance
    27: (_bars, _rgb((10, 5, 10), (60, 0, 8), (170, 10, 20), (220, 220, 200))),  # Horror
    53: (_bars, _rgb((25, 35, 40), (80, 90, 70), (215, 215, 190), (220, 170, 20))),  # Thriller
    878: (_stars, _rgb((0, 5, 30), (10, 45, 100), (90, 220, 255), (255, 255, 255))),  # Science Fiction
    14: (_stars, _rgb((45, 20, 85), (130, 60, 170), (250, 205, 110), (170, 255, 230))),  # Fantasy
    35: (_dots, _rgb((255, 220, 60), (255, 150, 50), (40, 150, 230), (255, 255, 255))),  # Comedy
    10751: (_dots, _rgb((135, 210, 245), (255, 235, 175), (250, 130, 90), (100, 185, 90))),  # Family
    16: (_dots, _rgb((80, 190, 250), (250, 240, 120), (255, 90, 160), (120, 230, 110))),  # Animation
    99: (_frame, _rgb((225, 220, 205), (160, 155, 145), (45, 65, 85), (170, 40, 30))),  # Documentary
    36: (_frame, _rgb((125, 95, 55), (65, 45, 25), (225, 195, 135), (155, 30, 30))),  # History
    10770: (_frame, _rgb((60, 85, 105), (145, 165, 175), (245, 245, 235), (235, 125, 40))),  # TV Movie
    80: (_blinds, _rgb((15, 15, 22), (55, 55, 68), (205, 195, 160), (200, 30, 40))),  # Crime
    9648: (_blinds, _rgb((10, 35, 45), (35, 75, 85), (180, 225, 205), (235, 185, 60))),  # Mystery
    10402: (_rings, _rgb((35, 10, 65), (230, 40, 150), (20, 220, 230), (255, 240, 100))),  # Music
}
DEFAULT_GENRE = 18  # a movie without genres is drawn as a drama (the catalog writes its text as one, too)


def _variation(seed: int, movie_id: int, version: int) -> list[float]:
    return np.random.default_rng(mix64(seed, _S_ART, movie_id, version)).random(8).tolist()


def _paint(img: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    for channel in range(3):  # plane by plane: a masked copy per contiguous plane is far cheaper than per pixel
        np.copyto(img[channel], colour[channel], where=mask)


def _franchise(img: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int, collection_id: int) -> None:
    f = np.random.default_rng(mix64(seed, _S_FRANCHISE_ART, collection_id)).random(2).tolist()
    band = np.array(colorsys.hsv_to_rgb(f[0], 0.85, 0.9), dtype=np.float32) * 255
    emblem = np.array(colorsys.hsv_to_rgb((f[0] + 0.5) % 1.0, 0.6, 1.0), dtype=np.float32) * 255
    img *= np.float32(0.7)
    img += (0.3 * band)[:, None, None]
    _paint(img, (y < 0.26) | (y > 1.36), band)
    dx, dy, r = np.abs(x - 0.5), np.abs(y - 0.26), 0.15
    shape = int(f[1] * 4)
    if shape == 0:
        mark = dx * dx + dy * dy < r * r
    elif shape == 1:
        mark = dx + dy < r * 1.2
    elif shape == 2:
        mark = (y > 0.14) & (y < 0.4) & (dx < (y - 0.14) * 0.6)
    else:
        mark = (dx < r * 0.85) & (dy < r * 0.85)
    _paint(img, mark, emblem)


_SEPIA = (1.08, 0.85, 0.6)


def _grade(img: np.ndarray, year: int, grain: np.ndarray) -> None:
    """Desaturate, tone sepia, flatten, vignette and grain ``img`` in place, the more the older ``year``.

    Per channel the three colour steps fold into ``a * channel + b * luminance + c``."""
    age = min(1.0, max(0.0, (2015 - year) / 95))
    if age <= 0:
        return
    saturation, sepia, contrast = 1.0 - 0.8 * age, 0.7 * age**1.3, 1.0 - 0.3 * age
    lum = 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]
    vignette = 1.0 - (1.2 * age) * _corners(img.shape[2], img.shape[1])
    noise = (28.0 * age**1.3) * grain
    a = contrast * (1.0 - sepia) * saturation
    for channel in range(3):
        b = contrast * ((1.0 - sepia) * (1.0 - saturation) + sepia * _SEPIA[channel])
        plane = img[channel]
        plane *= a
        plane += b * lum + 128.0 * (1.0 - contrast)
        plane *= vignette
        plane += noise


def draw(
    seed: int, movie_id: int, version: int, genre: int | None, year: int, collection_id: int | None,
    width: int, height: int,
) -> np.ndarray:
    """The poster as three (height, width) uint8 planes, R, G and B (see the module docstring for its layers)."""
    x, y = _grid(width, height)
    v = _variation(seed, movie_id, version)
    composition, palette = GENRE_LOOKS.get(genre or DEFAULT_GENRE, GENRE_LOOKS[DEFAULT_GENRE])
    palette = palette * np.float32(0.9 + 0.2 * v[7])
    t = np.clip(y / 1.5 + 0.3 * (v[6] - 0.5) * (x - 0.5), 0.0, 1.0)
    img = np.empty((3, height, width), dtype=np.float32)
    for channel in range(3):
        img[channel] = palette[0, channel] + t * (palette[1, channel] - palette[0, channel])
    for mask, colour in composition(x, y, v, _crop(width, height, v[5], v[6])):
        _paint(img, mask, palette[colour])
    if collection_id is not None:
        _franchise(img, x, y, seed, collection_id)
    _grade(img, year, _crop(width, height, v[3], v[4]))
    np.clip(img, 0.0, 255.0, out=img)
    return img.astype(np.uint8)
