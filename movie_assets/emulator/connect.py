"""Where the built-in emulator is chosen: open a client on real TMDb, or start the emulator on loopback and
open the same client on it when no credentials and no base URL are set. The TMDb resource
(`movie_assets.wiring.resources.TMDbResource`) and the CLI commands open their clients here; the client itself
(`movie_assets.tmdb`) knows nothing of the emulator.

Given the lake it writes, `open_client` first checks that the lake mirrors the same source (`lake_source`;
`movie_assets.lake.source`), before any request and before the emulator starts."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

from movie_assets.lake import Lake
from movie_assets.lake.source import LakeSource, claim_source
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.tmdb.errors import display_url

log = logging.getLogger(__name__)


@contextlib.contextmanager
def resolved_settings(settings: TMDbSettings, logger: logging.Logger | None = None) -> Iterator[TMDbSettings]:
    """Yield settings that point at a reachable API, starting the emulator on loopback if needed."""
    logger = logger or log
    if not settings.uses_emulator:
        yield settings
        return
    # Imported here, not at the top: a run against real TMDb never loads the emulator's server and catalog.
    from movie_assets.emulator.catalog import Catalog
    from movie_assets.emulator.runner import running_emulator

    catalog = Catalog(seed=settings.emulator_seed, movies_per_year=settings.emulator_movies_per_year)
    with running_emulator(catalog=catalog) as emulator:
        logger.info(
            "No TMDb credentials and no TMDB_BASE_URL set: using the built-in TMDb emulator at %s "
            "(seed %d, %d movies in a peak year). Put TMDB_READ_ACCESS_TOKEN in .env to harvest real TMDb.",
            display_url(emulator.base_url),
            settings.emulator_seed,
            settings.emulator_movies_per_year,
        )
        yield dataclasses.replace(
            settings,
            base_url=emulator.base_url,
            exports_base_url=settings.exports_base_url or emulator.root_url + "/p/exports",
            requests_per_second=settings.effective_rps,
            image_requests_per_second=settings.effective_image_rps,
        )


def lake_source(settings: TMDbSettings) -> LakeSource:
    """The TMDb a client of ``settings`` reads: the built-in emulator's catalog (seed and size), else the API's
    host (never its credentials, user info or port: an emulator started by hand may take any port)."""
    if settings.uses_emulator:
        return LakeSource.emulator(settings.emulator_seed, settings.emulator_movies_per_year)
    return LakeSource.api(urlsplit(settings.effective_base_url).hostname or settings.effective_base_url)


@contextlib.asynccontextmanager
async def open_client(settings: TMDbSettings, logger: logging.Logger | None = None, *,
                      lake: Lake | None = None) -> AsyncIterator[TMDbClient]:
    """``async with open_client(settings) as client`` — real TMDb or the emulator, same client code. With the
    ``lake`` the caller writes: a lake of another source raises `LakeSourceError` before any request (a new
    lake records this one)."""
    if lake is not None:
        claim_source(lake, lake_source(settings))
    with resolved_settings(settings, logger) as effective:
        async with TMDbClient(effective, logger=logger) as client:
            yield client
