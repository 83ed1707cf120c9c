"""The one place that reads environment variables (and ``.env``).

Libraries take their settings as arguments; the Dagster definitions, the CLI, benchmarks and drills
call these functions when they start, never at import time of a library module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import load_dotenv

from movie_assets.instance import celery, postgres
from movie_assets.lake.languages import LANGUAGES_ENV, parse_languages
from movie_assets.lake.policy import CatalogPolicy
from movie_assets.tmdb.config import TMDbSettings

DATA_DIR_ENV = "MOVIE_ASSETS_DATA_DIR"
# "1" on cluster workers (set by their Celery app): runs there need the shared lake to exist, never start one.
LAKE_MUST_EXIST_ENV = "MOVIE_ASSETS_LAKE_MUST_EXIST"
START_YEAR_ENV = "MOVIE_ASSETS_START_YEAR"
INCLUDE_ADULT_ENV = "MOVIE_ASSETS_INCLUDE_ADULT"
INCLUDE_VIDEO_ENV = "MOVIE_ASSETS_INCLUDE_VIDEO"
EMBEDDING_BACKEND_ENV = "MOVIE_ASSETS_EMBEDDING_BACKEND"
IMAGE_BACKEND_ENV = "MOVIE_ASSETS_IMAGE_BACKEND"
DEFAULT_DATA_DIR = "data"  # the built-in emulator's lake (the demo's)
# Real TMDb's lake by default: never the demo's, as movie ids are unique only within one source.
TMDB_DATA_DIR = "data/tmdb"
# The variables whose values choose real TMDb (or another API) over the built-in emulator.
_SOURCE_VARIABLES = tuple(f.metadata["env"] for f in TMDbSettings.fields()
                          if f.name in ("base_url", "read_access_token", "api_key"))
DEFAULT_START_YEAR = 1900
OLDEST_FILM_YEAR = 1874


def load_env_file() -> None:
    """Read ``.env`` in the working directory into the environment (variables already set win)."""
    load_dotenv()


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def is_set(name: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether variable ``name`` holds a non-blank value."""
    return bool(_env(env).get(name, "").strip())


def catalog_policy_from_env(env: Mapping[str, str] | None = None) -> CatalogPolicy:
    """``MOVIE_ASSETS_INCLUDE_ADULT`` / ``MOVIE_ASSETS_INCLUDE_VIDEO`` (true/false, default false)."""
    values = {}
    for field_name, name in (("include_adult", INCLUDE_ADULT_ENV), ("include_video", INCLUDE_VIDEO_ENV)):
        raw = _env(env).get(name, "").strip().lower()
        if raw in ("", "0", "false", "no"):
            values[field_name] = False
        elif raw in ("1", "true", "yes"):
            values[field_name] = True
        else:
            raise ValueError(f"{name}={raw!r} must be true or false")
    return CatalogPolicy(**values)


def languages_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """``MOVIE_ASSETS_LANGUAGES`` (e.g. ``de,pt-BR``): the languages of the lake's text, English (TMDb's
    primary) first; a bad code raises ValueError naming the variable."""
    return parse_languages(_env(env).get(LANGUAGES_ENV, ""), LANGUAGES_ENV)


def tmdb_settings_from_env(env: Mapping[str, str] | None = None, *, data_dir: str | None = None) -> TMDbSettings:
    """The ``TMDB_*`` settings; a bad value raises `SettingsError` naming the variable.

    ``TMDB_RATE_SHARE_FILE`` unset: the request rate is shared through ``<data dir>/state/tmdb-rate-<key of
    the API host:port>`` (``data_dir``, default ``MOVIE_ASSETS_DATA_DIR``), so the Dagster runs and commands
    working on one lake share one budget per API; nothing is shared for the built-in emulator, which each
    process starts for itself."""
    settings = TMDbSettings.from_mapping(_env(env))
    if settings.rate_share_file is None and not settings.uses_emulator:
        from movie_assets.lake.paths import Lake
        from movie_assets.tmdb.shared_rate import rate_share_key

        lake = Lake.at(data_dir or data_dir_from_env(env))
        path = lake.tmdb_rate_file(rate_share_key(settings.effective_base_url))
        settings = dataclasses.replace(settings, rate_share_file=str(path))
    return settings


def data_dir_from_env(env: Mapping[str, str] | None = None) -> str:
    """``MOVIE_ASSETS_DATA_DIR``: the lake's root. Unset: ``data`` for the built-in emulator (no credentials
    and no ``TMDB_BASE_URL``), ``data/tmdb`` for TMDb, so the demo's synthetic lake and a real one never share
    a directory (`movie_assets.lake.source` refuses a lake of another source)."""
    chosen = _env(env).get(DATA_DIR_ENV, "").strip()
    if chosen:
        return chosen
    return TMDB_DATA_DIR if any(is_set(name, env) for name in _SOURCE_VARIABLES) else DEFAULT_DATA_DIR


def start_year_from_env(env: Mapping[str, str] | None = None) -> int:
    """``MOVIE_ASSETS_START_YEAR`` (default 1900), validated against the current year."""
    raw = _env(env).get(START_YEAR_ENV, "").strip() or str(DEFAULT_START_YEAR)
    try:
        year = int(raw)
    except ValueError:
        raise ValueError(f"{START_YEAR_ENV}={raw!r} is not a year") from None
    current = dt.datetime.now(dt.UTC).year
    if not OLDEST_FILM_YEAR <= year <= current:
        raise ValueError(
            f"{START_YEAR_ENV}={year} must be between {OLDEST_FILM_YEAR} (the oldest films) and the current "
            f"year {current}"
        )
    return year


def embedding_backend_from_env(env: Mapping[str, str] | None = None) -> str:
    """``MOVIE_ASSETS_EMBEDDING_BACKEND``: ``auto`` (default: torch on a CUDA device, else onnx-int8), ``torch``
    or ``onnx-int8``; a bad value raises ValueError naming the variable."""
    from movie_assets.embeddings.backend_choice import validate_backend

    return validate_backend(_env(env).get(EMBEDDING_BACKEND_ENV, ""), EMBEDDING_BACKEND_ENV)



def image_backend_from_env(env: Mapping[str, str] | None = None) -> str:
    """``MOVIE_ASSETS_IMAGE_BACKEND``: the poster image encoder, ``auto`` (default: torch on a CUDA device, else
    onnx), ``torch``, ``onnx`` or ``clip`` (needs local CLIP weights); a bad value raises ValueError naming the
    variable."""
    from movie_assets.posters.image_model import validate_image_backend

    return validate_image_backend(_env(env).get(IMAGE_BACKEND_ENV, ""), IMAGE_BACKEND_ENV)

# -- the Dagster instance -------------------------------------------------------------------------------
def postgres_selected(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``DAGSTER_PG_HOST`` selects PostgreSQL instance storage."""
    return postgres.is_selected(_env(env))


def celery_selected(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``DAGSTER_CELERY_BROKER_URL`` selects runs on Celery workers."""
    return celery.is_selected(_env(env))


def celery_broker_from_env(env: Mapping[str, str] | None = None) -> str:
    """``DAGSTER_CELERY_BROKER_URL``; `celery.CelerySettingsError` naming it when malformed."""
    return celery.broker_url(_env(env))


def postgres_settings_from_env(env: Mapping[str, str] | None = None) -> postgres.PostgresSettings:
    """The ``DAGSTER_PG_*`` settings; `postgres.InstanceSettingsError` naming the variable on a bad one."""
    return postgres.parse_settings(_env(env))


def dagster_home_from_env(env: Mapping[str, str] | None = None) -> Path:
    """``$DAGSTER_HOME`` (Dagster's own variable); `postgres.InstanceSettingsError` when it is unset."""
    value = (_env(env).get("DAGSTER_HOME") or "").strip()
    if not value:
        raise postgres.InstanceSettingsError("DAGSTER_HOME is not set: name the folder of the Dagster instance")
    return Path(value)
