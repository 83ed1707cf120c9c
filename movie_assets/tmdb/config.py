"""Client settings: where TMDb is, how to authenticate, and how hard to push it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
# TMDb documents "somewhere in the 40 requests per second range" per IP; stay just under it.
DEFAULT_TMDB_RPS = 35.0
# The built-in emulator runs on loopback; it has no upstream limit worth respecting.
DEFAULT_EMULATOR_RPS = 400.0


class SettingsError(ValueError):
    """A setting has a value the client cannot use; the message names the setting."""


def _number(env: Mapping[str, str], name: str, kind: type, default):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class TMDbSettings:
    """Everything the client needs. Secrets are excluded from ``repr``.

    With no credentials and no base URL the pipeline uses the built-in emulator (`uses_emulator`).
    """

    base_url: str | None = None
    read_access_token: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    requests_per_second: float | None = None
    max_connections: int = 20
    max_attempts: int = 6
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    language: str = "en-US"
    emulator_movies_per_year: int = 30_000
    emulator_seed: int = 42

    def __post_init__(self) -> None:
        if self.requests_per_second is not None and self.requests_per_second <= 0:
            raise SettingsError("TMDB_REQUESTS_PER_SECOND must be positive")
        if self.max_connections < 1:
            raise SettingsError("TMDB_MAX_CONNECTIONS must be at least 1")
        if self.max_attempts < 1:
            raise SettingsError("TMDB_MAX_ATTEMPTS must be at least 1")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise SettingsError(f"TMDB_BASE_URL={self.base_url!r} must start with http:// or https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TMDbSettings:
        """Read ``TMDB_*`` variables (blank values count as unset)."""
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            base_url=text("TMDB_BASE_URL"),
            read_access_token=text("TMDB_READ_ACCESS_TOKEN"),
            api_key=text("TMDB_API_KEY"),
            requests_per_second=_number(env, "TMDB_REQUESTS_PER_SECOND", float, None),
            max_connections=_number(env, "TMDB_MAX_CONNECTIONS", int, 20),
            max_attempts=_number(env, "TMDB_MAX_ATTEMPTS", int, 6),
            connect_timeout=_number(env, "TMDB_CONNECT_TIMEOUT", float, 10.0),
            read_timeout=_number(env, "TMDB_READ_TIMEOUT", float, 30.0),
            emulator_movies_per_year=_number(env, "TMDB_EMULATOR_MOVIES_PER_YEAR", int, 30_000),
            emulator_seed=int(env.get("TMDB_EMULATOR_SEED") or 42),
        )

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
    def effective_rps(self) -> float:
        if self.requests_per_second is not None:
            return self.requests_per_second
        return DEFAULT_EMULATOR_RPS if self.uses_emulator else DEFAULT_TMDB_RPS

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.read_access_token, self.api_key) if s)

    def with_base_url(self, base_url: str) -> TMDbSettings:
        return replace(self, base_url=base_url)
