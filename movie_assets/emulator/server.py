"""The TMDb v3 emulator's aiohttp application: endpoints, auth, fault injection and stats.

Every ``/3/...`` request gets a sequence number ``n``; all per-request fault decisions are drawn from
``mix64(options.seed, n, ...)``, so a given request order always yields the same faults. Order of
checks for an API request: rate limit (429) → auth (401) → latency → injected fault → handler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import json
import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from aiohttp import web

from . import vocab
from .catalog import PATH_BACKDROP, PATH_LOGO, PATH_PROFILE, SORT_KEYS, Catalog, Selection
from .hashing import mix64, mix_round, unit
from .images import png_for

PAGE_SIZE = 20
CHANGES_PAGE_SIZE = 100
MAX_PAGE = 500
MAX_APPENDS = 20
APPENDABLE = ("credits", "keywords", "external_ids", "release_dates")
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
JSON_CONTENT_TYPE = "application/json;charset=utf-8"

# TMDb error envelopes (status_code, HTTP status, message).
ERR_INVALID_KEY = (7, 401, "Invalid API key: You must be granted a valid key.")
ERR_NOT_FOUND = (34, 404, "The resource you requested could not be found.")
ERR_DATE_RANGE = (20, 422, "Invalid date range: Should be a range no longer than 14 days.")
ERR_PAGE = (22, 400, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.")
ERR_DATE = (23, 400, "Invalid date: Format needs to be YYYY-MM-DD.")
ERR_RATE = (25, 429, "Your request count (#) is over the allowed limit of (40).")
ERR_APPENDS = (27, 400, "Too many append to response objects: The maximum number of remote calls is 20.")
SERVER_ERRORS = [
    (11, 500, "Internal error: Something went wrong, contact TMDb."),
    (43, 502, "Couldn't connect to the backend server."),
    (9, 503, "Service offline: This service is temporarily offline, try again later."),
    (24, 504, "Your request to the backend server timed out. Try again."),
]

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
FAULT_KINDS = ("rate_limited", "unauthorized", "error", "hang", "drop", "truncate")


@dataclass
class EmulatorOptions:
    """Behaviour knobs of the emulator (all reproducible for a given ``seed`` and request order).

    * ``rate_limit``: requests/second of a per-server token bucket (burst ``rate_limit_burst``, default
      ``max(1, rate_limit)``); excess requests get 429 / status_code 25, with ``Retry-After`` (whole
      seconds until a token is free) only when ``retry_after`` is true. None = unlimited.
    * ``latency`` (+ uniform ``latency_jitter``) seconds added to every API request.
    * ``error_rate``, ``hang_rate``, ``drop_rate``, ``truncate_rate``: disjoint fractions of API requests
      answered 500/502/503/504 (TMDb bodies), delayed ``hang_seconds`` before a normal answer, closed
      without a response, or answered 200 with a truncated (invalid) JSON body.
    * ``drift``: discover popularity is multiplied by ``1 + drift * U(-1, 1)`` drawn per request epoch
      (every discover request is a new epoch), reordering same-date ties and popularity pages.
    * ``page_error_style``: "live" (422 ``{"errors": [...]}``) or "documented" (400, status_code 22).
    * ``api_keys`` / ``tokens``: accepted ``api_key`` values / Bearer tokens; both empty = no auth.
    * ``as_of``: the frozen clock (``Date`` header, changes "today", details revision date).
    """

    seed: int = 0
    as_of: dt.datetime = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    rate_limit: float | None = None
    rate_limit_burst: float | None = None
    retry_after: bool = True
    latency: float = 0.0
    latency_jitter: float = 0.0
    error_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    drift: float = 0.0
    page_error_style: Literal["live", "documented"] = "live"
    api_keys: frozenset[str] | set[str] = field(default_factory=frozenset)
    tokens: frozenset[str] | set[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.page_error_style not in ("live", "documented"):
            raise ValueError("page_error_style must be 'live' or 'documented'")
        rates = (self.error_rate, self.hang_rate, self.drop_rate, self.truncate_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be >= 0 and sum to at most 1")
        if self.as_of.tzinfo is None:
            self.as_of = self.as_of.replace(tzinfo=dt.UTC)
        self.api_keys = frozenset(self.api_keys)
        self.tokens = frozenset(self.tokens)


class EmulatorStats:
    """Thread-safe request counters (read from any thread via `snapshot`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.requests_total = 0
            self.by_path: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()

    def request(self, kind: str) -> None:
        """Count one incoming request of endpoint family ``kind``."""
        with self._lock:
            self.requests_total += 1
            self.by_path[kind] += 1

    def status(self, status: int) -> None:
        """Count one response status."""
        with self._lock:
            self.by_status[str(status)] += 1

    def fault(self, kind: str) -> None:
        """Count one injected fault."""
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of the counters."""
        with self._lock:
            return {
                "requests_total": self.requests_total,
                "by_path": dict(sorted(self.by_path.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "faults": {k: self.faults.get(k, 0) for k in FAULT_KINDS},
            }


class TokenBucket:
    """A plain token bucket (monotonic clock); `take` returns None or the seconds until a token frees up."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now

    def take(self, now: float) -> float | None:
        """Consume one token at time ``now`` if available."""
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


class _State:
    """Mutable per-app state: counters, the fault stream, caches."""

    def __init__(self, catalog: Catalog, options: EmulatorOptions) -> None:
        self.catalog = catalog
        self.options = options
        self.stats = EmulatorStats()
        self.request_seq = 0
        self.discover_epoch = 0
        self.bucket: TokenBucket | None = None
        self.changes_cache: OrderedDict[tuple[dt.date, dt.date], list[int]] = OrderedDict()
        self.date_header = email.utils.format_datetime(options.as_of.astimezone(dt.UTC), usegmt=True)


STATE_KEY: web.AppKey[_State] = web.AppKey("emulator_state", _State)


# ---------------------------------------------------------------------- responses
def _headers(state: _State, body: bytes, max_age: int) -> dict[str, str]:
    return {
        "Content-Type": JSON_CONTENT_TYPE,
        "Cache-Control": f"public, max-age={max_age}",
        "ETag": f'W/"{hashlib.md5(body).hexdigest()}"',
        "Date": state.date_header,
        "Server": "openresty",
    }


def json_response(request: web.Request, data: Any, status: int = 200, max_age: int = 14400) -> web.Response:
    """A TMDb-like JSON response (compact UTF-8, frozen Date, ETag, Cache-Control)."""
    state = request.app[STATE_KEY]
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return web.Response(body=body, status=status, headers=_headers(state, body, max_age))


def tmdb_error(request: web.Request, error: tuple[int, int, str]) -> web.Response:
    """A ``{"status_code", "status_message", "success": false}`` error response."""
    code, status, message = error
    body = {"status_code": code, "status_message": message, "success": False}
    return json_response(request, body, status=status, max_age=0)


def validation_error(request: web.Request, message: str) -> web.Response:
    """The validation layer's ``{"errors": [...], "success": false}`` form (HTTP 422)."""
    return json_response(request, {"errors": [message], "success": False}, status=422, max_age=0)


class _BadParam(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__("bad parameter")
        self.response = response


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    documented = request.app[STATE_KEY].options.page_error_style == "documented"
    try:
        page = int(raw)
    except ValueError:
        raise _BadParam(tmdb_error(request, ERR_PAGE)) from None
    if 1 <= page <= MAX_PAGE:
        return page
    if documented:
        raise _BadParam(tmdb_error(request, ERR_PAGE))
    message = (
        "page must be greater than 0" if page < 1 else f"page must be less than or equal to {MAX_PAGE}"
    )
    raise _BadParam(validation_error(request, message))


def _date(request: web.Request, name: str) -> dt.date | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise _BadParam(tmdb_error(request, ERR_DATE)) from None


def _bool(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").strip().lower() == "true"


def _number(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
        if math.isnan(value):
            raise ValueError(raw)
        return value
    except ValueError:
        raise _BadParam(validation_error(request, f"{name} must be a number")) from None


def _paged(page: int, results: list[Any], total: int, page_size: int) -> dict[str, Any]:
    return {
        "page": page,
        "results": results,
        "total_pages": math.ceil(total / page_size),
        "total_results": total,
    }


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
    return json_response(request, _paged(page, results, selection.total, PAGE_SIZE))


async def discover_movie(request: web.Request) -> web.Response:
    """``GET /3/discover/movie``."""
    state = request.app[STATE_KEY]
    page = _page(request)
    sort_by = request.query.get("sort_by", "popularity.desc") or "popularity.desc"
    if sort_by not in SORT_KEYS:
        return validation_error(request, f"sort_by must be one of {', '.join(SORT_KEYS)}")
    gte = _date(request, "primary_release_date.gte")
    lte = _date(request, "primary_release_date.lte")
    vc_gte = _number(request, "vote_count.gte")
    vc_lte = _number(request, "vote_count.lte")
    selection = state.catalog.select(
        gte,
        lte,
        include_adult=_bool(request, "include_adult"),
        include_video=_bool(request, "include_video"),
        vote_count_gte=None if vc_gte is None else math.ceil(vc_gte),
        vote_count_lte=None if vc_lte is None else math.floor(vc_lte),
        sort_by=sort_by,
    )
    return _selection_page(request, selection, page)


async def movie_popular(request: web.Request) -> web.Response:
    """``GET /3/movie/popular`` (discover by popularity, adult and video excluded)."""
    page = _page(request)
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
    """``GET /3/movie/{movie_id}/{credits|keywords|external_ids|release_dates}`` (with ``id``)."""
    details = _details(request)
    if details is None:
        return tmdb_error(request, ERR_NOT_FOUND)
    return json_response(request, {"id": details["id"], **details[request.match_info["resource"]]})


# ---------------------------------------------------------------------- changes
async def movie_changes(request: web.Request) -> web.Response:
    """``GET /3/movie/changes`` (100 ids per page, at most a 14-day window)."""
    state = request.app[STATE_KEY]
    page = _page(request)
    today = state.options.as_of.date()
    end = _date(request, "end_date") or today
    start = _date(request, "start_date") or (end - dt.timedelta(days=1))
    if (end - start).days > 14:
        return tmdb_error(request, ERR_DATE_RANGE)
    end = min(end, today)
    key = (start, end)
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
    return json_response(request, _paged(page, results, len(ids), CHANGES_PAGE_SIZE), max_age=300)


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
    """``GET /t/p/{size}/{file}``: a tiny deterministic PNG for any image path the catalog hands out."""
    state = request.app[STATE_KEY]
    size, file_path = request.match_info["size"], "/" + request.match_info["file"]
    parsed = state.catalog.parse_image_path(file_path)
    if size not in IMAGE_SIZES or parsed is None or not state.catalog.image_exists(file_path):
        return web.Response(status=404, text="Not Found", headers={"Date": state.date_header})
    body = png_for(file_path, _KIND_SHAPES.get(parsed[0], "poster"), state.catalog.seed)
    return web.Response(
        body=body,
        headers={
            "Content-Type": "image/png",
            "Cache-Control": "public, max-age=31919000",
            "ETag": f'"{hashlib.md5(body).hexdigest()}"',
            "Date": state.date_header,
        },
    )


async def stats_handler(request: web.Request) -> web.Response:
    """``GET /__emulator/stats``."""
    return web.json_response(request.app[STATE_KEY].stats.snapshot())


async def reset_handler(request: web.Request) -> web.Response:
    """``POST /__emulator/reset``: zero the counters."""
    request.app[STATE_KEY].stats.reset()
    return web.json_response({"reset": True})


# ---------------------------------------------------------------------- middleware
def _path_kind(path: str) -> str:
    if path.startswith("/t/p/"):
        return "images"
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "3":
        return "other"
    if parts[2] == "movie" and len(parts) > 3:
        return {"popular": "popular", "changes": "changes"}.get(parts[3], "movie")
    return {
        "discover": "discover",
        "configuration": "configuration",
        "genre": "genre",
        "authentication": "authentication",
    }.get(parts[2], "other")


def _authorized(request: web.Request, options: EmulatorOptions) -> bool:
    if not options.api_keys and not options.tokens:
        return True
    if request.query.get("api_key") in options.api_keys:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.strip() in options.tokens


async def _api_request(request: web.Request, handler: Any, state: _State) -> web.StreamResponse:
    options = state.options
    state.request_seq += 1
    n = state.request_seq
    if options.rate_limit is not None:
        now = asyncio.get_running_loop().time()
        if state.bucket is None:
            burst = options.rate_limit_burst or max(1.0, options.rate_limit)
            state.bucket = TokenBucket(options.rate_limit, burst, now)
        wait = state.bucket.take(now)
        if wait is not None:
            state.stats.fault("rate_limited")
            response = tmdb_error(request, ERR_RATE)
            if options.retry_after:
                response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
    if not _authorized(request, options):
        state.stats.fault("unauthorized")
        return tmdb_error(request, ERR_INVALID_KEY)
    if options.latency or options.latency_jitter:
        await asyncio.sleep(options.latency + options.latency_jitter * unit(options.seed, n, 1))
    u = unit(options.seed, n, 0)
    edges = np.cumsum([options.error_rate, options.hang_rate, options.drop_rate, options.truncate_rate])
    if u < edges[0]:
        state.stats.fault("error")
        return tmdb_error(request, SERVER_ERRORS[mix64(options.seed, n, 2) % len(SERVER_ERRORS)])
    if u < edges[1]:
        state.stats.fault("hang")
        await asyncio.sleep(options.hang_seconds)
    elif u < edges[2]:
        state.stats.fault("drop")
        if request.transport is not None:
            request.transport.abort()
        raise _Dropped
    try:
        response = await handler(request)
    except _BadParam as exc:
        response = exc.response
    if edges[2] <= u < edges[3] and isinstance(response, web.Response) and response.body:
        state.stats.fault("truncate")
        body = bytes(response.body)
        cut = body[: max(1, len(body) // 2)]
        response = web.Response(body=cut, status=response.status, headers=_headers(state, body, 14400))
    return response


class _Dropped(Exception):
    """Raised after the connection has been aborted on purpose."""


@web.middleware
async def emulator_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Stats, rate limiting, auth and fault injection (faults only on ``/3/`` paths)."""
    state = request.app[STATE_KEY]
    if request.path.startswith("/__emulator/"):
        return await handler(request)
    state.stats.request(_path_kind(request.path))
    try:
        if request.path.startswith("/3/"):
            response = await _api_request(request, handler, state)
        else:
            response = await handler(request)
    except _Dropped:
        raise asyncio.CancelledError from None  # connection already aborted: nothing to send
    except web.HTTPException as exc:
        state.stats.status(exc.status)
        raise
    state.stats.status(response.status)
    return response


def build_app(catalog: Catalog | None = None, options: EmulatorOptions | None = None) -> web.Application:
    """The emulator as an aiohttp application (routes under ``/3``, images under ``/t/p``, stats)."""
    app = web.Application(middlewares=[emulator_middleware])
    app[STATE_KEY] = _State(catalog or Catalog(), options or EmulatorOptions())
    r = app.router
    r.add_get("/3/discover/movie", discover_movie)
    r.add_get("/3/movie/popular", movie_popular)
    r.add_get("/3/movie/changes", movie_changes)
    r.add_get("/3/movie/{movie_id}", movie_details)
    r.add_get(
        "/3/movie/{movie_id}/{resource:credits|keywords|external_ids|release_dates}", movie_sub_resource
    )
    r.add_get("/3/configuration", configuration)
    r.add_get("/3/genre/movie/list", genre_movie_list)
    r.add_get("/3/authentication", authentication)
    r.add_route("*", "/3/{tail:.*}", api_not_found)
    r.add_get("/t/p/{size}/{file}", image)
    r.add_get("/__emulator/stats", stats_handler)
    r.add_post("/__emulator/reset", reset_handler)
    return app


def app_state(app: web.Application) -> _State:
    """The emulator state of an app made by `build_app` (catalog, options, stats)."""
    return app[STATE_KEY]
