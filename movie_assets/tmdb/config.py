"""Client settings: where TMDb is, how to authenticate, and how hard to push it.

`TMDbSettings` declares every setting once: its default, its environment variable and its help text
(field metadata). `TMDbSettings.from_mapping` parses a mapping of variables (``os.environ`` is read in
`movie_assets.settings`, nowhere else); the Dagster resource derives its fields from the same table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
# TMDb's daily ID exports (no key needed), published around 08:00 UTC and kept about three months.
DEFAULT_EXPORTS_BASE_URL = "https://files.tmdb.org/p/exports"
# TMDb documents "somewhere in the 40 requests per second range" per IP; stay just under it.
DEFAULT_TMDB_RPS = 35.0
# The built-in emulator runs on loopback; it has no upstream limit worth respecting.
DEFAULT_EMULATOR_RPS = 400.0


class SettingsError(ValueError):
    """A setting has a value the client cannot use; the message names the setting."""


def setting(default: Any, env: str, help: str, *, secret: bool = False, positive: bool = True) -> Any:
    """A `TMDbSettings` field: its default, the variable that sets it, and what it means."""
    return field(
        default=default,
        repr=not secret,
        metadata={"env": env, "help": help, "secret": secret, "positive": positive},
    )


@dataclass(frozen=True)
class TMDbSettings:
    """Everything the client needs. Secrets are excluded from ``repr``.

    With no credentials and no base URL the pipeline uses the built-in emulator (`uses_emulator`).
    """

    base_url: str | None = setting(None, "TMDB_BASE_URL", "TMDb-compatible API root; default " + DEFAULT_BASE_URL)
    read_access_token: str | None = setting(
        None, "TMDB_READ_ACCESS_TOKEN", "v4 read token, sent as Authorization: Bearer (preferred)", secret=True
    )
    api_key: str | None = setting(None, "TMDB_API_KEY", "v3 key, sent as the api_key parameter", secret=True)
    exports_base_url: str | None = setting(
        None, "TMDB_EXPORTS_BASE_URL", "where the daily ID exports are; default " + DEFAULT_EXPORTS_BASE_URL
    )
    requests_per_second: float | None = setting(
        None, "TMDB_REQUESTS_PER_SECOND", "client token bucket; default 35 for TMDb, 400 for the emulator"
    )
    max_connections: int = setting(20, "TMDB_MAX_CONNECTIONS", "open connections per client")
    max_attempts: int = setting(6, "TMDB_MAX_ATTEMPTS", "attempts per request before a typed error")
    connect_timeout: float = setting(10.0, "TMDB_CONNECT_TIMEOUT", "seconds to open a connection")
    read_timeout: float = setting(30.0, "TMDB_READ_TIMEOUT", "seconds to wait for a response")
    backoff_base: float = setting(0.5, "TMDB_BACKOFF_BASE", "first retry delay in seconds (exponential, jittered)")
    backoff_max: float = setting(30.0, "TMDB_BACKOFF_MAX", "longest retry delay in seconds")
    language: str = setting("en-US", "TMDB_LANGUAGE", "language of titles and overviews")
    emulator_movies_per_year: int = setting(
        30_000, "TMDB_EMULATOR_MOVIES_PER_YEAR", "the built-in emulator's movies in a peak year"
    )
    emulator_seed: int = setting(42, "TMDB_EMULATOR_SEED", "the built-in emulator's catalog seed", positive=False)

    def __post_init__(self) -> None:
        if self.requests_per_second is not None and self.requests_per_second <= 0:
            raise SettingsError("TMDB_REQUESTS_PER_SECOND must be positive")
        if self.max_connections < 1:
            raise SettingsError("TMDB_MAX_CONNECTIONS must be at least 1")
        if self.max_attempts < 1:
            raise SettingsError("TMDB_MAX_ATTEMPTS must be at least 1")
        for name, url in (("TMDB_BASE_URL", self.base_url), ("TMDB_EXPORTS_BASE_URL", self.exports_base_url)):
            if url is not None and not url.startswith(("http://", "https://")):
                raise SettingsError(f"{name}={url!r} must start with http:// or https://")

    @classmethod
    def fields(cls) -> tuple[dataclasses.Field, ...]:
        return dataclasses.fields(cls)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> TMDbSettings:
        """Parse ``TMDB_*`` variables from ``env`` (blank values count as unset); a bad value raises
        `SettingsError` naming the variable."""
        values = {}
        for f in cls.fields():
            raw = (env.get(f.metadata["env"]) or "").strip()
            if raw:
                values[f.name] = _parse(f, raw)
        return cls(**values)

    @property
    def has_credentials(self) -> bool:
        return bool(self.read_access_token or self.api_key)

    @property
    def uses_emulator(self) -> bool:
        """No credentials and no base URL: run against the built-in emulator."""
        return not self.has_credentials and self.base_url is None

    @property
    def effective_base_url(self) -> str:
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    @property
    def effective_exports_base_url(self) -> str:
        return (self.exports_base_url or DEFAULT_EXPORTS_BASE_URL).rstrip("/")

    @property
    def effective_rps(self) -> float:
        if self.requests_per_second is not None:
            return self.requests_per_second
        return DEFAULT_EMULATOR_RPS if self.uses_emulator else DEFAULT_TMDB_RPS

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.read_access_token, self.api_key) if s)


def value_type(f: dataclasses.Field) -> type:
    """The non-optional Python type of a settings field (its annotation is a string here)."""
    annotation = str(f.type).replace(" | None", "")
    return {"str": str, "int": int, "float": float}[annotation]


def _parse(f: dataclasses.Field, raw: str) -> Any:
    kind, name = value_type(f), f.metadata["env"]
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
    if kind is not str and f.metadata["positive"] and value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value
