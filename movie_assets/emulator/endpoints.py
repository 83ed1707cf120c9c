"""The emulator's endpoint handlers: discover, popular, movie details, changes, static lists, images (poster
JPEGs, other images as PNGs), stats.

Handlers read the per-app `AppState`; bad query parameters raise `BadParam` (answered by the middleware).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
from typing import Any

import numpy as np
from aiohttp import web

from . import exports, vocab
from .hashing import mix64, mix_round, unit
from .images import PATH_BACKDROP, PATH_LOGO, PATH_PROFILE, png_for, poster_of
from .posters import poster_facts, poster_jpeg
from .protocol import (
    ERR_APPENDS,
    ERR_DATE_RANGE,
    ERR_NOT_FOUND,
    json_response,
    paged,
    query_bool,
    query_date,
    query_number,
    query_page,
    tmdb_error,
    validation_error,
)
from .selection import SORT_KEYS, Selection
from .state import STATE_KEY

PAGE_SIZE = 20
CHANGES_PAGE_SIZE = 100
MAX_APPENDS = 20
# The appendable sub-resources (also served alone, with ``id``, at ``/movie/{id}/{name}``); other names in
# ``append_to_response`` are ignored, as by TMDb.
APPENDABLE = (
    "credits",
    "keywords",
    "release_dates",
    "external_ids",
    "videos",
    "alternative_titles",
    "translations",
)
DETAIL_KEYS = (
    "adult",
    "backdrop_path",
    "belongs_to_collection",
    "budget",
    "genres",
    "homepage",
    "id",
    "imdb_id",
    "origin_country",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "production_companies",
    "production_countries",
    "release_date",
    "revenue",
    "runtime",
    "spoken_languages",
    "status",
    "tagline",
    "title",
    "video",
    "vote_average",
    "vote_count",
)

CONFIGURATION = {
    "images": {
        "base_url": "http://image.tmdb.org/t/p/",
        "secure_base_url": "https://image.tmdb.org/t/p/",
        "backdrop_sizes": ["w300", "w780", "w1280", "original"],
        "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
        "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
        "profile_sizes": ["w45", "w185", "h632", "original"],
        "still_sizes": ["w92", "w185", "w300", "original"],
    },
    "change_keys": [
        "adult",
        "air_date",
        "also_known_as",
        "alternative_titles",
        "biography",
        "birthday",
        "budget",
        "cast",
        "certifications",
        "character_names",
        "created_by",
        "crew",
        "deathday",
        "episode",
        "episode_number",
        "episode_run_time",
        "freebase_id",
        "freebase_mid",
        "general",
        "genres",
        "guest_stars",
        "homepage",
        "images",
        "imdb_id",
        "languages",
        "name",
        "network",
        "origin_country",
        "original_name",
        "original_title",
        "overview",
        "parts",
        "place_of_birth",
        "plot_keywords",
        "production_code",
        "production_companies",
        "production_countries",
        "releases",
        "revenue",
        "runtime",
        "season",
        "season_number",
        "season_regular",
        "spoken_languages",
        "status",
        "tagline",
        "title",
        "translations",
        "tvdb_id",
        "tvrage_id",
        "type",
        "video",
        "videos",
    ],
}
IMAGE_SIZES = {s for sizes in CONFIGURATION["images"].values() if isinstance(sizes, list) for s in sizes}


# ---------------------------------------------------------------------- discover
def _page_of(
    selection: Selection, offset: int, drift: float, epoch: int, seed: int
) -> tuple[np.ndarray, list]:
    """Ids and displayed popularity for ``[offset, offset + 20)`` of a selection, with optional drift."""
    end = min(offset + PAGE_SIZE, selection.total)
    if drift <= 0:
        return selection.ids[offset:end], [None] * (end - offset)
    if selection.primary is None:
        lo, hi = 0, selection.total
    else:
        key = selection.primary
        lo = int(np.searchsorted(key, key[offset], "left"))
        hi = int(np.searchsorted(key, key[end - 1], "right"))
    ids = selection.ids[lo:hi]
    u = (mix_round(mix64(seed, 0xD1F7, epoch), ids) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    noisy = np.round(selection.pop[lo:hi] * (1.0 + drift * (2.0 * u - 1.0)), 3)
    if selection.primary is None:
        order = np.lexsort((ids, -noisy))
    else:
        order = np.lexsort((ids, -noisy, selection.primary[lo:hi]))
    window = order[offset - lo : end - lo]
    return ids[window], [float(x) for x in noisy[window]]


def _selection_page(request: web.Request, selection: Selection, page: int) -> web.Response:
    state = request.app[STATE_KEY]
    state.discover_epoch += 1
    offset = (page - 1) * PAGE_SIZE
    results: list[dict[str, Any]] = []
    if offset < selection.total:
        ids, pops = _page_of(
            selection, offset, state.options.drift, state.discover_epoch, state.options.seed
        )
        for movie_id, pop in zip(ids.tolist(), pops, strict=True):
            item = state.catalog.discover_item(movie_id, pop)
            if item is not None:
                results.append(item)
    return json_response(request, paged(page, results, selection.total, PAGE_SIZE))


async def discover_movie(request: web.Request) -> web.Response:
    """``GET /3/discover/movie``."""
    state = request.app[STATE_KEY]
    page = query_page(request)
    sort_by = request.query.get("sort_by", "popularity.desc") or "popularity.desc"
    if sort_by not in SORT_KEYS:
        return validation_error(request, f"sort_by must be one of {', '.join(SORT_KEYS)}")
    gte = query_date(request, "primary_release_date.gte")
    lte = query_date(request, "primary_release_date.lte")
    vc_gte = query_number(request, "vote_count.gte")
    vc_lte = query_number(request, "vote_count.lte")
    selection = state.catalog.select(
        gte,
        lte,
        include_adult=query_bool(request, "include_adult"),
        include_video=query_bool(request, "include_video"),
        vote_count_gte=None if vc_gte is None else math.ceil(vc_gte),
        vote_count_lte=None if vc_lte is None else math.floor(vc_lte),
        sort_by=sort_by,
    )
    return _selection_page(request, selection, page)


async def movie_popular(request: web.Request) -> web.Response:
    """``GET /3/movie/popular`` (discover by popularity, adult and video excluded)."""
    page = query_page(request)
    selection = request.app[STATE_KEY].catalog.select(None, None, sort_by="popularity.desc")
    return _selection_page(request, selection, page)


# ---------------------------------------------------------------------- movie details
def _movie_id(request: web.Request) -> int | None:
    raw = request.match_info["movie_id"]
    return int(raw) if raw.isdigit() else None


def _details(request: web.Request) -> dict[str, Any] | None:
    state = request.app[STATE_KEY]
    movie_id = _movie_id(request)
    if movie_id is None:
        return None
    return state.catalog.details(movie_id, state.options.as_of.date())


async def movie_details(request: web.Request) -> web.Response:
    """``GET /3/movie/{movie_id}`` with ``append_to_response``."""
    appends = [a.strip() for a in request.query.get("append_to_response", "").split(",") if a.strip()]
    if len(appends) > MAX_APPENDS:
        return tmdb_error(request, ERR_APPENDS)
    details = _details(request)
    if details is None:
        return tmdb_error(request, ERR_NOT_FOUND)
    body = {k: details[k] for k in DETAIL_KEYS}
    for name in appends:
        if name in APPENDABLE and name not in body:
            body[name] = details[name]
    return json_response(request, body)


async def movie_sub_resource(request: web.Request) -> web.Response:
    """``GET /3/movie/{movie_id}/{resource}`` for each resource of `APPENDABLE` (with ``id``)."""
    details = _details(request)
    if details is None:
        return tmdb_error(request, ERR_NOT_FOUND)
    return json_response(request, {"id": details["id"], **details[request.match_info["resource"]]})


# ---------------------------------------------------------------------- changes
async def movie_changes(request: web.Request) -> web.Response:
    """``GET /3/movie/changes`` (100 ids per page, at most a 14-day window)."""
    state = request.app[STATE_KEY]
    page = query_page(request)
    today = state.options.as_of.date()
    end = query_date(request, "end_date") or today
    start = query_date(request, "start_date") or (end - dt.timedelta(days=1))
    if (end - start).days > 14:
        return tmdb_error(request, ERR_DATE_RANGE)
    end = min(end, today)
    key = (today, start, end)
    ids = state.changes_cache.get(key)
    if ids is None:
        ids = state.catalog.changed_ids(start, end) if start <= end else []
        state.changes_cache[key] = ids
        if len(state.changes_cache) > 16:
            state.changes_cache.popitem(last=False)
    offset = (page - 1) * CHANGES_PAGE_SIZE
    results = []
    for movie_id in ids[offset : offset + CHANGES_PAGE_SIZE]:
        summary = state.catalog.summary(movie_id)
        adult = None if unit(state.catalog.seed, 0xAD, movie_id) < 0.01 else bool(summary and summary.adult)
        results.append({"id": movie_id, "adult": adult})
    return json_response(request, paged(page, results, len(ids), CHANGES_PAGE_SIZE), max_age=300)


# ---------------------------------------------------------------------- static endpoints
async def configuration(request: web.Request) -> web.Response:
    """``GET /3/configuration``."""
    return json_response(request, CONFIGURATION, max_age=86400)


async def genre_movie_list(request: web.Request) -> web.Response:
    """``GET /3/genre/movie/list`` (English names whatever ``language``)."""
    return json_response(
        request, {"genres": [{"id": g, "name": n} for g, n in vocab.GENRES]}, max_age=86400
    )


async def authentication(request: web.Request) -> web.Response:
    """``GET /3/authentication``: credentials are valid (the auth check ran in the middleware)."""
    return json_response(
        request, {"success": True, "status_code": 1, "status_message": "Success."}, max_age=0
    )


async def api_not_found(request: web.Request) -> web.Response:
    """Any other ``/3/...`` path."""
    return tmdb_error(request, ERR_NOT_FOUND)


_KIND_SHAPES = {PATH_BACKDROP: "backdrop", PATH_PROFILE: "profile", PATH_LOGO: "logo"}


async def image(request: web.Request) -> web.Response:
    """``GET /t/p/{size}/{file}``: for a movie poster the catalog handed out (its poster of today or an earlier
    one), a JPEG drawn from the movie (`posters`) at the size's pixels; for any other image it hands out, a
    tiny deterministic PNG; else 404."""
    state = request.app[STATE_KEY]
    size, file_path = request.match_info["size"], "/" + request.match_info["file"]
    parsed = state.catalog.parse_image_path(file_path)
    if size not in IMAGE_SIZES or parsed is None or not state.catalog.image_exists(file_path):
        return web.Response(status=404, text="Not Found", headers={"Date": state.date_header})
    poster = poster_of(*parsed)
    facts = poster_facts(state.catalog, *poster) if poster is not None else None
    if facts is not None:
        # Off the loop: a large size takes tens of milliseconds, which would stall every API answer meanwhile.
        body, content_type = await asyncio.to_thread(poster_jpeg, facts, None, size), "image/jpeg"
    else:
        body, content_type = png_for(file_path, _KIND_SHAPES.get(parsed[0], "poster"), state.catalog.seed), "image/png"
    return web.Response(
        body=body,
        headers={
            "Content-Type": content_type,
            "Cache-Control": "public, max-age=31919000",
            "ETag": f'"{hashlib.md5(body).hexdigest()}"',
            "Date": state.date_header,
        },
    )


async def daily_export(request: web.Request) -> web.StreamResponse:
    """``GET /p/exports/{name}``: a daily ID export, streamed (403, as the files host answers, when the
    file is not published at the emulator's clock)."""
    state = request.app[STATE_KEY]
    parsed = exports.parse_export_name(request.match_info["name"])
    if parsed is None or not exports.is_published(parsed[0], state.options.as_of):
        return web.Response(
            status=403,
            text="<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
            "<Message>Access Denied</Message></Error>",
            content_type="application/xml",
            headers={"Date": state.date_header},
        )
    day, adult = parsed
    response = web.StreamResponse(
        headers={"Content-Type": "application/octet-stream", "Date": state.date_header}
    )
    await response.prepare(request)
    chunks = exports.gzip_chunks(exports.export_lines(state.catalog, day, adult))
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:  # keep the loop serving
        await response.write(chunk)
    await response.write_eof()
    return response


async def stats_handler(request: web.Request) -> web.Response:
    """``GET /__emulator/stats`` (``?per_second=1``: with the requests of each wall-clock second)."""
    per_second = request.query.get("per_second", "") not in ("", "0", "false")
    return web.json_response(request.app[STATE_KEY].stats.snapshot(per_second))


async def clock_handler(request: web.Request) -> web.Response:
    """``POST /__emulator/clock`` with ``{"advance_days": n}`` or ``{"as_of": "2026-11-05T09:00:00+00:00"}``:
    move the clock (and the living catalog with it); answers the new time."""
    state = request.app[STATE_KEY]
    try:
        body = await request.json()
        if "as_of" in body:
            as_of = dt.datetime.fromisoformat(str(body["as_of"]))
        else:
            as_of = state.options.as_of + dt.timedelta(days=int(body.get("advance_days", 1)))
    except (ValueError, TypeError, AttributeError) as exc:
        return web.json_response({"error": f"bad clock request: {exc}"}, status=400)
    state.set_clock(as_of)
    return web.json_response({"as_of": state.options.as_of.isoformat(), "catalog_day": str(state.catalog.day)})


async def configure_handler(request: web.Request) -> web.Response:
    """``POST /__emulator/configure`` with option values (e.g. ``{"date_header": false}``): change them while
    the emulator runs; answers the changed options."""
    state = request.app[STATE_KEY]
    try:
        body = await request.json()
        if "as_of" in body:
            body["as_of"] = dt.datetime.fromisoformat(str(body["as_of"]))
        state.configure(**body)
    except (ValueError, TypeError, AttributeError) as exc:
        return web.json_response({"error": f"bad configure request: {exc}"}, status=400)
    return web.json_response({k: getattr(state.options, k) for k in body if k != "as_of"})


async def reset_handler(request: web.Request) -> web.Response:
    """``POST /__emulator/reset``: zero the counters."""
    request.app[STATE_KEY].stats.reset()
    return web.json_response({"reset": True})
