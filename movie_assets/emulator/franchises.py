"""Collections (``belongs_to_collection``): franchises of two to four movies of neighbouring years.

A movie id encodes its year and its slot within the year (`Catalog` id scheme: ``id = 2 + year_index +
n_years * slot``). Each slot's years are cut into blocks of two to four consecutive years (the block length is
drawn per slot); the movies of one slot in one block form a group, and a share `SHARE` of the groups (a draw
per group) are collections. So ~8 % of the movies are in a collection, as on TMDb, and the movies of a
collection are sequels released a year or so apart.

Everything is a function of the seed, the catalog's years and its per-year counts (which slots exist), never
of the clock: a collection keeps its id and name when members move, are deleted, or change poster. Its id is
``10 + 3 * first member's id`` and its name the first member's title + " Collection". Movies the living
catalog adds later are in no collection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import appends, records
from .hashing import mix64, unit
from .images import PATH_COLLECTION, image_path

SHARE = 0.08  # of the groups, so of the movies, in a collection
_S_BLOCK, _S_MEMBER = 128, 129  # salts (the catalog's streams: see `catalog`)

Decode = Callable[[int], tuple[int, int] | None]


def _group(seed: int, movie_id: int, n_years: int) -> tuple[int, int, int]:
    """``(slot, first year index, years)`` of the block of ``movie_id``."""
    slot, year_index = divmod(movie_id - 2, n_years)
    length = 2 + mix64(seed, _S_BLOCK, slot) % 3
    return slot, year_index - year_index % length, length


def members(seed: int, movie_id: int, n_years: int, decode: Decode) -> list[int]:
    """The ids of ``movie_id``'s collection, oldest first ([] when it is in none). ``decode`` is
    `Catalog.decode_id` (None for an id the base catalog does not have)."""
    if decode(movie_id) is None:
        return []
    slot, start, length = _group(seed, movie_id, n_years)
    if unit(seed, _S_MEMBER, slot, start) >= SHARE:
        return []
    ids = (2 + y + n_years * slot for y in range(start, min(start + length, n_years)))
    return [i for i in ids if decode(i) is not None]


def collection_id(seed: int, movie_id: int, n_years: int, decode: Decode) -> int | None:
    """The id of ``movie_id``'s collection, or None."""
    group = members(seed, movie_id, n_years, decode)
    return 10 + 3 * group[0] if group else None


def collection(seed: int, movie_id: int, n_years: int, decode: Decode) -> dict[str, Any] | None:
    """``belongs_to_collection`` of ``movie_id``: id, name, poster_path, backdrop_path (or None)."""
    group = members(seed, movie_id, n_years, decode)
    if not group:
        return None
    cid = 10 + 3 * group[0]
    return {
        "id": cid,
        "name": f"{records.make_record(seed, group[0])['title']} Collection",
        "poster_path": image_path(seed, PATH_COLLECTION, cid),
        "backdrop_path": appends.collection_backdrop(seed, cid),
    }
