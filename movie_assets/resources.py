"""Dagster resources: TMDb access (thin over `movie_assets.tmdb`) and the lake's data root."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.tmdb.connect import open_client

DEFAULT_DATA_DIR = "data"


class TMDbResource(dg.ConfigurableResource):
    """TMDb v3 access. With no credentials and no base URL, steps use the built-in emulator on loopback."""

    base_url: str | None = Field(default=None, description="TMDB_BASE_URL; default https://api.themoviedb.org/3")
    read_access_token: str | None = Field(default=None, description="TMDB_READ_ACCESS_TOKEN (Bearer, preferred)")
    api_key: str | None = Field(default=None, description="TMDB_API_KEY (v3 api_key parameter)")
    requests_per_second: float | None = Field(
        default=None, description="client token bucket; default 35 for TMDb, 400 for the emulator"
    )
    max_connections: int = 20
    max_attempts: int = 6
    read_timeout: float = 30.0
    emulator_movies_per_year: int = 30_000
    emulator_seed: int = 42

    def settings(self) -> TMDbSettings:
        return TMDbSettings(
            base_url=self.base_url or None,
            read_access_token=self.read_access_token or None,
            api_key=self.api_key or None,
            requests_per_second=self.requests_per_second,
            max_connections=self.max_connections,
            max_attempts=self.max_attempts,
            read_timeout=self.read_timeout,
            emulator_movies_per_year=self.emulator_movies_per_year,
            emulator_seed=self.emulator_seed,
        )

    @contextlib.asynccontextmanager
    async def client(self, logger: logging.Logger | None = None) -> AsyncIterator[TMDbClient]:
        """An open client for one step (and the emulator, if that is what the settings mean)."""
        async with open_client(self.settings(), logger) as client:
            yield client

    @classmethod
    def from_environment(cls) -> TMDbResource:
        """Bind the ``TMDB_*`` variables that are set; secrets stay `EnvVar`s, resolved at launch."""

        def env(name: str) -> dg.EnvVar | None:
            return dg.EnvVar(name) if os.environ.get(name, "").strip() else None

        settings = TMDbSettings.from_env()  # validates the numbers, naming the variable on a bad one
        return cls(
            base_url=env("TMDB_BASE_URL"),
            read_access_token=env("TMDB_READ_ACCESS_TOKEN"),
            api_key=env("TMDB_API_KEY"),
            requests_per_second=settings.requests_per_second,
            max_connections=settings.max_connections,
            max_attempts=settings.max_attempts,
            read_timeout=settings.read_timeout,
            emulator_movies_per_year=settings.emulator_movies_per_year,
            emulator_seed=settings.emulator_seed,
        )


class LakeResource(dg.ConfigurableResource):
    """The data root of the Parquet lake (``MOVIE_ASSETS_DATA_DIR``, default ``data/``)."""

    data_dir: str = DEFAULT_DATA_DIR
    reports_dir: str | None = None

    def lake(self) -> Lake:
        return Lake.at(self.data_dir, self.reports_dir)


def data_dir_from_env() -> str:
    return os.environ.get("MOVIE_ASSETS_DATA_DIR", "").strip() or DEFAULT_DATA_DIR


def duckdb_resource(data_dir: str) -> DuckDBResource:
    return DuckDBResource(database=str(Lake.at(data_dir).duckdb_file))
