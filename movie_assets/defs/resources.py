"""The resources every domain's assets use, bound once for the whole code location: ``tmdb`` (TMDb or, with
no credentials and no base URL, the built-in emulator), ``lake`` (the data root) and ``duckdb``."""

from __future__ import annotations

from typing import Any

import dagster as dg

from movie_assets.settings import data_dir_from_env, languages_from_env
from movie_assets.wiring.resources import LakeResource, TMDbResource, duckdb_resource


def shared_resources() -> dict[str, Any]:
    """The resources by key, from the environment (``TMDB_*``, ``MOVIE_ASSETS_DATA_DIR``,
    ``MOVIE_ASSETS_LANGUAGES``), read when the definitions load."""
    data_dir = data_dir_from_env()
    return {
        "tmdb": TMDbResource.from_environment(),
        "lake": LakeResource(data_dir=data_dir, languages=",".join(languages_from_env())),
        "duckdb": duckdb_resource(data_dir),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=shared_resources())
