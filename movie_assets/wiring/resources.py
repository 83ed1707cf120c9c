"""Dagster resources: TMDb access (thin over `movie_assets.tmdb`), the lake's data root and DuckDB."""

from __future__ import annotations

import contextlib
import logging
import os
import typing
from collections.abc import AsyncIterator

import dagster as dg
import pydantic
from dagster_duckdb import DuckDBResource

from movie_assets.emulator.connect import open_client
from movie_assets.lake import Lake
from movie_assets.lake.languages import LANGUAGES_ENV, parse_languages, record_languages
from movie_assets.settings import DEFAULT_DATA_DIR, LAKE_MUST_EXIST_ENV, is_set, tmdb_settings_from_env
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings, value_type


class _TMDbResourceBase(dg.ConfigurableResource):
    """TMDb v3 access. With no credentials and no base URL, steps use the built-in emulator on loopback.

    Its fields are `TMDbSettings`' fields (declared once, there), each described by its variable."""

    def settings(self) -> TMDbSettings:
        values = {f.name: getattr(self, f.name) for f in TMDbSettings.fields()}
        # An unset EnvVar or an empty string means "not set", as in the environment.
        return TMDbSettings(**{k: v for k, v in values.items() if v not in (None, "")})

    @contextlib.asynccontextmanager
    async def client(self, logger: logging.Logger | None = None, lake: Lake | None = None
                     ) -> AsyncIterator[TMDbClient]:
        """An open client for one step (and the emulator, if that is what the settings mean); a step that
        writes ``lake`` is refused before any request when the lake mirrors another source."""
        async with open_client(self.settings(), logger, lake=lake) as client:
            yield client

    @classmethod
    def from_environment(cls) -> TMDbResource:
        """Bind the ``TMDB_*`` variables that are set: secrets and the URLs stay `EnvVar`s, resolved
        at launch; numbers are validated now, naming the variable on a bad one. ``rate_share_file`` unset
        becomes the lake's shared-rate file of the API host (`tmdb_settings_from_env`), so every run shares
        one request rate."""
        settings = tmdb_settings_from_env()
        values: dict[str, typing.Any] = {}
        for f in TMDbSettings.fields():
            if f.metadata["secret"] or f.name.endswith("base_url"):  # URLs may carry user:pass
                if is_set(f.metadata["env"]):
                    values[f.name] = dg.EnvVar(f.metadata["env"])
            else:
                values[f.name] = getattr(settings, f.name)
        return cls(**values)


def _resource_field(f) -> tuple[typing.Any, typing.Any]:
    kind = value_type(f)
    optional = f.default is None
    description = f"{f.metadata['env']}: {f.metadata['help']}"
    return (kind | None if optional else kind), pydantic.Field(default=f.default, description=description)


TMDbResource = pydantic.create_model(
    "TMDbResource",
    __base__=_TMDbResourceBase,
    __module__=__name__,
    **{f.name: _resource_field(f) for f in TMDbSettings.fields()},
)
TMDbResource.__doc__ = _TMDbResourceBase.__doc__


class LakeResource(dg.ConfigurableResource):
    """The data root of the Parquet lake (``MOVIE_ASSETS_DATA_DIR``, default ``data/``) and the languages of
    its text (``MOVIE_ASSETS_LANGUAGES``; None leaves the lake's recorded ones)."""

    data_dir: str = DEFAULT_DATA_DIR
    reports_dir: str | None = None
    languages: str | None = pydantic.Field(
        default=None, description=f"{LANGUAGES_ENV}: languages of title/overview beside English, e.g. de,pt-BR")

    def lake(self) -> Lake:
        return Lake.at(self.data_dir, self.reports_dir)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Once per step: on a cluster worker, check that the shared lake is there (``MOVIE_ASSETS_LAKE_MUST_EXIST``,
        set by `movie_assets.wiring.celery.worker_app`); clear what a killed step left behind (temporary files,
        build folders), and record the languages (a change makes the next build rebuild every year with the new
        columns)."""
        lake = self.lake()
        if os.environ.get(LAKE_MUST_EXIST_ENV) == "1":
            lake.require_existing()
        removed = lake.remove_stale_temporaries()
        if removed and context.log is not None:
            context.log.info(f"removed {len(removed)} temporary files left by killed runs, e.g. {removed[0]}")
        if self.languages is not None and record_languages(lake, parse_languages(self.languages)) and context.log:
            context.log.info(f"{LANGUAGES_ENV} is now {self.languages}: the next build rebuilds every year")


def duckdb_resource(data_dir: str) -> DuckDBResource:
    return DuckDBResource(database=str(Lake.at(data_dir).duckdb_file))
