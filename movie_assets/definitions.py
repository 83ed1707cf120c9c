"""The one `Definitions` object of movie_assets: everything under `movie_assets/defs/` (one folder per
domain, its resources in `defs/resources.py`, found by `dg.load_from_defs_folder`), with the policies every
asset shares applied once here: TMDb's attribution in each description. Adding an asset, check, job, schedule
or sensor means adding it to a module under `defs/`; this file does not change.

This product uses the TMDB API but is not endorsed or certified by TMDB.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

import movie_assets.defs
from movie_assets.defs.resources import shared_resources
from movie_assets.settings import load_env_file
from movie_assets.wiring.metadata import with_attribution

load_env_file()  # `.env` in the working directory: TMDB_* settings (dagster dev also reads it)


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load_domains() -> dg.Definitions:
    """Everything under `movie_assets/defs/`: with dg's project config (pyproject.toml, in a checkout or an
    editable install) through `dg.load_from_defs_folder`; from an installed wheel, which has no project
    config, by walking the same package (which finds no `@dg.definitions` function: the resources are bound
    here)."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)
    return dg.load_definitions_from_package_module(movie_assets.defs, resources=shared_resources())


@dg.definitions
def defs() -> dg.Definitions:
    domains = load_domains()
    with warnings.catch_warnings():  # map_asset_specs is marked preview in Dagster 1.13
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return domains.map_asset_specs(func=with_attribution)
