"""TMDb's HTTP conventions: JSON bodies and headers, error envelopes, query-parameter validation, paging.

A handler that meets a bad query parameter raises `BadParam` carrying the TMDb-shaped error response; the
middleware answers with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from typing import Any

from aiohttp import web

from .state import STATE_KEY, AppState

MAX_PAGE = 500
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


# ---------------------------------------------------------------------- responses
def json_headers(state: AppState, body: bytes, max_age: int) -> dict[str, str]:
    """TMDb's headers for a JSON ``body``: content type, Cache-Control, weak ETag, frozen Date, Server (`drop_date`
    takes the Date off a details answer when the options say so)."""
    headers = {
        "Content-Type": JSON_CONTENT_TYPE,
        "Cache-Control": f"public, max-age={max_age}",
        "ETag": f'W/"{hashlib.md5(body).hexdigest()}"',
        "Server": "openresty",
    }
    headers["Date"] = state.date_header
    return headers


_DETAILS_PATH = re.compile(r"^/3/movie/[0-9]+$")


async def drop_date(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: without ``date_header``, a details answer (``/3/movie/{id}``, whose Date becomes
    a stored version's time) keeps no ``Date``; aiohttp adds its own wall-clock one to any response that has
    none, and this runs after it does. Other answers keep theirs, so "today" stays the emulator's."""
    if not request.app[STATE_KEY].options.date_header and _DETAILS_PATH.match(request.path):
        response.headers.popall("Date", None)


def json_response(request: web.Request, data: Any, status: int = 200, max_age: int = 14400) -> web.Response:
    """A TMDb-like JSON response (compact UTF-8, frozen Date, ETag, Cache-Control)."""
    state = request.app[STATE_KEY]
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return web.Response(body=body, status=status, headers=json_headers(state, body, max_age))


def tmdb_error(request: web.Request, error: tuple[int, int, str]) -> web.Response:
    """A ``{"status_code", "status_message", "success": false}`` error response."""
    code, status, message = error
    body = {"status_code": code, "status_message": message, "success": False}
    return json_response(request, body, status=status, max_age=0)


def validation_error(request: web.Request, message: str) -> web.Response:
    """The validation layer's ``{"errors": [...], "success": false}`` form (HTTP 422)."""
    return json_response(request, {"errors": [message], "success": False}, status=422, max_age=0)


def paged(page: int, results: list[Any], total: int, page_size: int) -> dict[str, Any]:
    """TMDb's paging envelope around one page of ``results``."""
    return {
        "page": page,
        "results": results,
        "total_pages": math.ceil(total / page_size),
        "total_results": total,
    }


# ---------------------------------------------------------------------- query parameters
class BadParam(Exception):
    """A query parameter failed validation; ``response`` is the error to answer with."""

    def __init__(self, response: web.Response) -> None:
        super().__init__("bad parameter")
        self.response = response


def query_page(request: web.Request) -> int:
    """The ``page`` parameter (default 1), in 1-500; the error form depends on ``page_error_style``."""
    raw = request.query.get("page", "1")
    documented = request.app[STATE_KEY].options.page_error_style == "documented"
    try:
        page = int(raw)
    except ValueError:
        raise BadParam(tmdb_error(request, ERR_PAGE)) from None
    if 1 <= page <= MAX_PAGE:
        return page
    if documented:
        raise BadParam(tmdb_error(request, ERR_PAGE))
    message = (
        "page must be greater than 0" if page < 1 else f"page must be less than or equal to {MAX_PAGE}"
    )
    raise BadParam(validation_error(request, message))


def query_date(request: web.Request, name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` parameter, or None when absent or empty."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadParam(tmdb_error(request, ERR_DATE)) from None


def query_bool(request: web.Request, name: str) -> bool:
    """A boolean parameter: true only for "true" (any case)."""
    return request.query.get(name, "false").strip().lower() == "true"


def query_number(request: web.Request, name: str) -> float | None:
    """A numeric parameter, or None when absent or empty."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
        if math.isnan(value):
            raise ValueError(raw)
        return value
    except ValueError:
        raise BadParam(validation_error(request, f"{name} must be a number")) from None
