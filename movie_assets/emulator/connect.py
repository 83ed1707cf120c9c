"""Where the built-in emulator is chosen: open a client on real TMDb, or start the emulator on loopback and
open the same client on it when no credentials and no base URL are set. The TMDb resource
(`movie_assets.wiring.resources.TMDbResource`) and the CLI commands open their clients here; the client itself
(`movie_assets.tmdb`) knows nothing of the emulator."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator

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
        )


@contextlib.asynccontextmanager
async def open_client(settings: TMDbSettings, logger: logging.Logger | None = None) -> AsyncIterator[TMDbClient]:
    """``async with open_client(settings) as client`` — real TMDb or the emulator, same client code."""
    with resolved_settings(settings, logger) as effective:
        async with TMDbClient(effective, logger=logger) as client:
            yield client
