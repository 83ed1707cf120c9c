"""Movie posters as image.tmdb.org serves them: a deterministic JPEG for every poster path the catalog hands out.

`poster_jpeg` draws a movie's poster (`poster_art`) from its `PosterFacts` (first genre, base release year,
collection, poster version) at the pixel size of a TMDb size name, with the 2:3 poster aspect: ``w92`` 92×138,
``w154`` 154×231, ``w185`` 185×278, ``w342`` 342×513, ``w500`` 500×750, ``w780`` 780×1170; ``original`` is
600×900 here (TMDb's originals are ~2000×3000: too costly to draw for nothing); any other ``wN`` is N wide,
``hN`` N high. The bytes are a pure function of the facts and the size (JPEG quality `QUALITY`, no randomness
but seeded streams), so the same path answers the same bytes on every call and every run; a small LRU keeps
the latest ones.

The look carries meaning, so image similarity means something: the genre picks the palette and composition,
the decade the grade and grain, the collection a shared franchise look, and the movie id (and poster version)
a small variation. A w185 poster takes ~1-2 ms to draw and encode.

Pillow is needed (matplotlib, a dependency of the project, requires it too).
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from .poster_art import draw

QUALITY = 85
ORIGINAL = (600, 900)
_SIZE = re.compile(r"([wh])([0-9]{1,4})")


@dataclass(frozen=True)
class PosterFacts:
    """What a movie's poster shows: its first genre (None: none), the year it was made (its base release year,
    so a moved date never redraws a poster), its collection, and which of its posters this is."""

    movie_id: int
    first_genre: int | None
    year: int
    collection_id: int | None = None
    version: int = 0
    seed: int = 0


class PosterCatalog(Protocol):
    """What `poster_facts` reads of a catalog (`movie_assets.emulator.Catalog` is one)."""

    seed: int
    last_year: int

    def decode_id(self, movie_id: int) -> tuple[int, int] | None: ...
    def discover_item(self, movie_id: int, popularity: float | None = None) -> dict[str, Any] | None: ...
    def summary(self, movie_id: int) -> Any: ...
    def collection_id(self, movie_id: int) -> int | None: ...
    def poster_version(self, movie_id: int) -> int: ...


def poster_dimensions(size: str) -> tuple[int, int] | None:
    """``(width, height)`` of a poster at TMDb size name ``size`` (``w185``, ``original``, …), or None."""
    if size == "original":
        return ORIGINAL
    match = _SIZE.fullmatch(size)
    if match is None or int(match[2]) == 0:
        return None
    n = int(match[2])
    return (n, int(n * 1.5 + 0.5)) if match[1] == "w" else (int(n / 1.5 + 0.5), n)


def poster_facts(catalog: PosterCatalog, movie_id: int, version: int | None = None) -> PosterFacts | None:
    """The facts of a live movie's poster (``version`` None: its poster of the catalog's day), or None for a
    movie the catalog does not have today."""
    item = catalog.discover_item(movie_id)
    if item is None:
        return None
    decoded = catalog.decode_id(movie_id)
    if decoded is not None:
        year = decoded[0]
    else:  # a movie the living catalog added: its summary never changes
        release = catalog.summary(movie_id).release_date
        year = release.year if release else catalog.last_year
    genres = item["genre_ids"]
    return PosterFacts(
        movie_id=movie_id,
        first_genre=genres[0] if genres else None,
        year=year,
        collection_id=catalog.collection_id(movie_id),
        version=catalog.poster_version(movie_id) if version is None else version,
        seed=catalog.seed,
    )


def poster_jpeg(source: PosterCatalog | PosterFacts, movie_id: int | None = None, size: str = "w185") -> bytes:
    """The JPEG of a movie's poster at TMDb size ``size``: from its facts, or from a catalog and a movie id
    (its poster of the catalog's day). Raises KeyError for a movie the catalog does not have, ValueError for
    a size that is not one."""
    if isinstance(source, PosterFacts):
        facts: PosterFacts | None = source
    else:
        if movie_id is None:
            raise TypeError("poster_jpeg needs a movie id with a catalog")
        facts = poster_facts(source, movie_id)
        if facts is None:
            raise KeyError(movie_id)
    dimensions = poster_dimensions(size)
    if dimensions is None:
        raise ValueError(f"not a TMDb image size: {size!r}")
    return _jpeg(facts, *dimensions)


@functools.lru_cache(maxsize=256)
def _jpeg(facts: PosterFacts, width: int, height: int) -> bytes:
    planes = draw(facts.seed, facts.movie_id, facts.version, facts.first_genre, facts.year, facts.collection_id,
                  width, height)
    out = io.BytesIO()
    Image.merge("RGB", [Image.fromarray(plane, "L") for plane in planes]).save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
