"""The TMDb v3 emulator as an aiohttp application: routes, middleware and per-app state wired together.

API under ``/3``, images under ``/t/p`` (as image.tmdb.org), daily ID exports under ``/p/exports`` (as
files.tmdb.org).

Endpoints live in `endpoints`, TMDb's response and error conventions in `protocol`, rate limiting, auth and
fault injection in `faults`, the knobs in `options`.
"""

from __future__ import annotations

from aiohttp import web

from . import endpoints as ep
from .catalog import Catalog
from .faults import emulator_middleware
from .options import EmulatorOptions
from .protocol import drop_date
from .state import STATE_KEY, AppState


def build_app(catalog: Catalog | None = None, options: EmulatorOptions | None = None) -> web.Application:
    """The emulator as an aiohttp application (routes under ``/3``, images under ``/t/p``, stats)."""
    app = web.Application(middlewares=[emulator_middleware])
    app[STATE_KEY] = AppState(catalog or Catalog(), options or EmulatorOptions())
    app.on_response_prepare.append(drop_date)
    r = app.router
    r.add_get("/3/discover/movie", ep.discover_movie)
    r.add_get("/3/movie/popular", ep.movie_popular)
    r.add_get("/3/movie/changes", ep.movie_changes)
    r.add_get("/3/movie/{movie_id}", ep.movie_details)
    r.add_get(f"/3/movie/{{movie_id}}/{{resource:{'|'.join(ep.APPENDABLE)}}}", ep.movie_sub_resource)
    r.add_get("/3/configuration", ep.configuration)
    r.add_get("/3/genre/movie/list", ep.genre_movie_list)
    r.add_get("/3/authentication", ep.authentication)
    r.add_route("*", "/3/{tail:.*}", ep.api_not_found)
    r.add_get("/t/p/{size}/{file}", ep.image)
    r.add_get("/p/exports/{name}", ep.daily_export)
    r.add_get("/__emulator/stats", ep.stats_handler)
    r.add_post("/__emulator/reset", ep.reset_handler)
    r.add_post("/__emulator/clock", ep.clock_handler)
    r.add_post("/__emulator/configure", ep.configure_handler)
    return app
