"""The one `Definitions` object of movie_assets: everything under `movie_assets/defs/` (one folder per
domain, found by `dg.load_from_defs_folder`) plus the shared resources. Adding an asset, check, job,
schedule or sensor means adding it to a module under `defs/`; this file does not change.

This product uses the TMDB API but is not endorsed or certified by TMDB.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import movie_assets.defs
from movie_assets.settings import data_dir_from_env, load_env_file
from movie_assets.wiring.resources import LakeResource, TMDbResource, duckdb_resource

load_env_file()  # `.env` in the working directory: TMDB_* settings (dagster dev also reads it)


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load_domains() -> dg.Definitions:
    """Everything under `movie_assets/defs/`: with dg's project config (pyproject.toml, in a checkout or an
    editable install) through `dg.load_from_defs_folder`; from an installed wheel, which has no project
    config, by walking the same package."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)
    return dg.load_definitions_from_package_module(movie_assets.defs)


@dg.definitions
def defs() -> dg.Definitions:
    data_dir = data_dir_from_env()
    return dg.Definitions.merge(
        load_domains(),
        dg.Definitions(
            resources={
                "tmdb": TMDbResource.from_environment(),
                "lake": LakeResource(data_dir=data_dir),
                "duckdb": duckdb_resource(data_dir),
            }
        ),
    )
