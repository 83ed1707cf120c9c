"""Pure functions that build lake rows from TMDb payloads (the schemas are in `movie_assets.lake.schema`).

Nothing here does I/O: `discover_row` turns one discover result into a raw row, `movie_row` turns one
discover summary plus its details payload into one `movies` row, `movies_table` turns rows into an Arrow
table with `MOVIES_SCHEMA`, sorted by ``(release_date, movie_id)``. `parse_credits` is the one reading of
TMDb's credits block (cast by billing order, directors once each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from movie_assets.harvest.payload_fields import blank_to_none, optional_int, rich_fields
from movie_assets.lake.schema import MOVIES_SCHEMA, TRANSLATIONS


def zero_to_none(value: Any) -> int | None:
    """TMDb sends 0 for an unknown runtime, budget or revenue; store null."""
    if value in (None, 0, ""):
        return None
    return int(value)


def parse_date(value: Any) -> dt.date | None:
    value = blank_to_none(value)
    if value is None:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def image_url(base_url: str | None, size: str, path: str | None) -> str | None:
    """Absolute image URL, or None when there is no image (never ``base + "None"``)."""
    path = blank_to_none(path)
    if path is None or not base_url:
        return None
    return f"{base_url.rstrip('/')}/{size}{path}"


def parse_credits(credits: Mapping[str, Any] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """TMDb's ``credits`` block → (cast by billing order, directors once each in crew order).

    Cast members are sorted by ``(order, person id)``; one without an ``order`` goes last and keeps a
    null order, one without an id keeps a null ``person_id``. Directors are the crew with job
    ``Director``, once each: by person id (one person can be listed twice, e.g. for two departments), or
    by name when TMDb gives no id.
    """
    credits = credits or {}
    cast = sorted(
        (
            {
                "person_id": optional_int(c.get("id")),
                "name": c.get("name"),
                "character": blank_to_none(c.get("character")),
                "order": optional_int(c.get("order")),
            }
            for c in credits.get("cast") or []
            if isinstance(c, Mapping)
        ),
        key=lambda c: (c["order"] is None, c["order"] or 0, c["person_id"] is None, c["person_id"] or 0),
    )
    directors: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for c in credits.get("crew") or []:
        if not isinstance(c, Mapping) or c.get("job") != "Director":
            continue
        person_id = optional_int(c.get("id"))
        key = ("id", person_id) if person_id is not None else ("name", c.get("name"))
        if key not in seen:
            seen.add(key)
            directors.append({"person_id": person_id, "name": c.get("name")})
    return cast, directors


def discover_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """One discover result item → one row of `DISCOVER_SCHEMA`."""
    return {
        "movie_id": int(item["id"]),
        "title": item.get("title"),
        "original_title": item.get("original_title"),
        "original_language": item.get("original_language"),
        "overview": item.get("overview"),
        "release_date": item.get("release_date"),
        "adult": bool(item.get("adult", False)),
        "video": bool(item.get("video", False)),
        "popularity": item.get("popularity"),
        "vote_average": item.get("vote_average"),
        "vote_count": item.get("vote_count"),
        "genre_ids": [int(g) for g in item.get("genre_ids") or []],
        "poster_path": item.get("poster_path"),
        "backdrop_path": item.get("backdrop_path"),
    }


def movie_row(
    summary: Mapping[str, Any],
    details: Mapping[str, Any] | None,
    *,
    status: str,
    harvested_at: dt.datetime | None,
    genre_names: Mapping[int, str],
    image_base_url: str | None,
    poster_size: str = "w500",
    backdrop_size: str = "w780",
) -> dict[str, Any]:
    """Build one `movies` row from the discover summary and the details payload (None if not found)."""
    src: Mapping[str, Any] = details if details is not None else summary
    movie_id = int(summary["movie_id"] if "movie_id" in summary else summary["id"])
    release_date = parse_date(src.get("release_date"))
    if details is not None:
        genres = [g.get("name") for g in details.get("genres") or []]
        genre_ids = [optional_int(g.get("id")) for g in details.get("genres") or []]
    else:
        genre_ids = [int(g) for g in summary.get("genre_ids") or []]
        genres = [genre_names.get(g, str(g)) for g in genre_ids]
    cast, directors = parse_credits((details or {}).get("credits"))
    keywords_block = (details or {}).get("keywords") or {}
    keywords = [k.get("name") for k in keywords_block.get("keywords") or []]
    rich = rich_fields(details or {})
    del rich["translations"]  # the build reads them for each translated language (none here)
    rich["missing_appends"] = [name for name in rich["missing_appends"] if name != TRANSLATIONS]
    poster_path = blank_to_none(src.get("poster_path"))
    backdrop_path = blank_to_none(src.get("backdrop_path"))
    return {
        "movie_id": movie_id,
        "title": blank_to_none(src.get("title")),
        "original_title": blank_to_none(src.get("original_title")),
        "original_language": blank_to_none(src.get("original_language")),
        "overview": blank_to_none(src.get("overview")),
        "tagline": blank_to_none(src.get("tagline")),
        "status": blank_to_none(src.get("status")),
        "imdb_id": blank_to_none(src.get("imdb_id")),
        "release_date": release_date,
        "year": release_date.year if release_date else None,
        "adult": bool(src.get("adult", False)),
        "video": bool(src.get("video", False)),
        "popularity": src.get("popularity"),
        "vote_average": src.get("vote_average"),
        "vote_count": src.get("vote_count"),
        "runtime": zero_to_none(src.get("runtime")),
        "budget": zero_to_none(src.get("budget")),
        "revenue": zero_to_none(src.get("revenue")),
        "genres": genres,
        "genre_ids": genre_ids,
        "cast": cast,
        "directors": directors,
        "keywords": keywords,
        **rich,
        "poster_path": poster_path,
        "backdrop_path": backdrop_path,
        "poster_url": image_url(image_base_url, poster_size, poster_path),
        "backdrop_url": image_url(image_base_url, backdrop_size, backdrop_path),
        "details_status": status,
        "harvested_at": harvested_at,
    }


# The order of every movies table and file: stable bytes whatever order the rows were built in.
MOVIES_ORDER = [("release_date", "ascending"), ("movie_id", "ascending")]


def movies_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows → Arrow table with `MOVIES_SCHEMA`, sorted by (release_date, movie_id) for stable bytes."""
    table = pa.Table.from_pylist(list(rows), schema=MOVIES_SCHEMA)
    return table.sort_by(MOVIES_ORDER)
