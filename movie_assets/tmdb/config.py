"""Client settings: where TMDb is, how to authenticate, and how hard to push it.

`TMDbSettings` declares every setting once: its default, its environment variable and its help text
(field metadata). `TMDbSettings.from_mapping` parses a mapping of variables (``os.environ`` is read in
`movie_assets.settings`, nowhere else); the Dagster resource derives its fields from the same table.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import display_url, url_secrets

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
# TMDb's daily ID exports (no key needed), published around 08:00 UTC and kept about three months.
DEFAULT_EXPORTS_BASE_URL = "https://files.tmdb.org/p/exports"
# TMDb documents "somewhere in the 40 requests per second range" per IP; stay just under it.
DEFAULT_TMDB_RPS = 35.0
# The built-in emulator runs on loopback; it has no upstream limit worth respecting.
DEFAULT_EMULATOR_RPS = 400.0
# The image host (image.tmdb.org, a CDN) documents no limit; a polite default that fetches a million posters in
# about 14 hours. Kept apart from the API's rate: image downloads never slow the harvest down.
DEFAULT_TMDB_IMAGE_RPS = 20.0
DEFAULT_EMULATOR_IMAGE_RPS = 400.0
# TMDB_RATE_SHARE_FILE's value that turns the shared rate off.
RATE_SHARE_OFF = "off"


class SettingsError(ValueError):
    """A setting has a value the client cannot use; the message names the setting."""


def setting(
    default: Any, env: str, help: str, *, secret: bool = False, bounds: tuple[float, float] | None = None
) -> Any:
    """A `TMDbSettings` field: its default, the variable that sets it, what it means and, for a number,
    the closed range ``bounds`` it must lie in (checked, with finiteness, by `TMDbSettings.__post_init__`)."""
    return field(
        default=default,
        repr=not secret,
        metadata={"env": env, "help": help, "secret": secret, "bounds": bounds},
    )


# Ranges of the numeric settings. A timeout or delay of zero is meaningless, hence the small lower bounds.
SECONDS = (0.001, 3600.0)


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
        None, "TMDB_REQUESTS_PER_SECOND", "client token bucket; default 35 for TMDb, 400 for the emulator",
        bounds=(0.01, 10_000.0),
    )
    image_requests_per_second: float | None = setting(
        None, "TMDB_IMAGE_REQUESTS_PER_SECOND",
        "image host token bucket, separate from the API's; default 20 for TMDb, 400 for the emulator",
        bounds=(0.01, 10_000.0),
    )
    rate_share_file: str | None = setting(
        None, "TMDB_RATE_SHARE_FILE",
        "file through which processes share TMDB_REQUESTS_PER_SECOND (one per API host and egress IP); `off` "
        "to disable; default <MOVIE_ASSETS_DATA_DIR>/state/tmdb-rate-<hash of the API host:port>, none for the "
        "built-in emulator",
    )
    max_connections: int = setting(20, "TMDB_MAX_CONNECTIONS", "open connections per client", bounds=(1, 1000))
    max_attempts: int = setting(6, "TMDB_MAX_ATTEMPTS", "attempts per request before a typed error", bounds=(1, 100))
    connect_timeout: float = setting(10.0, "TMDB_CONNECT_TIMEOUT", "seconds to open a connection", bounds=SECONDS)
    read_timeout: float = setting(
        30.0, "TMDB_READ_TIMEOUT",
        "seconds to wait for the next bytes of a response; a whole attempt gets 4 times this",
        bounds=SECONDS,
    )
    backoff_base: float = setting(
        0.5, "TMDB_BACKOFF_BASE", "first retry delay in seconds (exponential, jittered)", bounds=SECONDS
    )
    backoff_max: float = setting(30.0, "TMDB_BACKOFF_MAX", "longest retry delay in seconds", bounds=SECONDS)
    retry_after_max: float = setting(
        60.0, "TMDB_RETRY_AFTER_MAX", "longest Retry-After of a 429 honoured, in seconds; longer ones wait this",
        bounds=SECONDS,
    )
    max_response_mb: float = setting(
        32.0, "TMDB_MAX_RESPONSE_MB", "largest API answer or image accepted, in MiB (decompressed)",
        bounds=(0.01, 4096.0),
    )
    max_download_mb: float = setting(
        2048.0, "TMDB_MAX_DOWNLOAD_MB", "largest daily export file accepted, in MiB", bounds=(0.01, 1 << 20),
    )
    language: str = setting("en-US", "TMDB_LANGUAGE", "language of titles and overviews")
    emulator_movies_per_year: int = setting(
        30_000, "TMDB_EMULATOR_MOVIES_PER_YEAR", "the built-in emulator's movies in a peak year",
        bounds=(1, 1_000_000),
    )
    emulator_seed: int = setting(
        42, "TMDB_EMULATOR_SEED", "the built-in emulator's catalog seed", bounds=(-(2**63), 2**63 - 1)
    )

    def __post_init__(self) -> None:
        """Check every field against its declaration (type, finiteness, bounds), naming the variable."""
        for f in self.fields():
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue
            checked = _check(f, value)
            if checked is not value:
                object.__setattr__(self, f.name, checked)
        if self.rate_share_file is not None and ("\0" in self.rate_share_file or not self.rate_share_file.strip()):
            raise SettingsError(f"TMDB_RATE_SHARE_FILE={self.rate_share_file!r} is not a file path (or `off`)")
        for name, url in (("TMDB_BASE_URL", self.base_url), ("TMDB_EXPORTS_BASE_URL", self.exports_base_url)):
            if url is not None:
                _check_url(name, url)
        if self.base_url and "@" in urlsplit(self.base_url).netloc and self.read_access_token:
            raise SettingsError(
                f"TMDB_BASE_URL={display_url(self.base_url)!r} carries credentials (user:pass@) and "
                "TMDB_READ_ACCESS_TOKEN is set: one request cannot carry both; drop one of them"
            )

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
    def effective_image_rps(self) -> float:
        if self.image_requests_per_second is not None:
            return self.image_requests_per_second
        return DEFAULT_EMULATOR_IMAGE_RPS if self.uses_emulator else DEFAULT_TMDB_IMAGE_RPS

    def for_images(self) -> TMDbSettings:
        """Settings of the client that downloads images: the image host's own rate (shared between processes
        through a file beside the API's, when the API's is shared); the rest as the API's (the built-in
        emulator serves images itself)."""
        shared = self.shared_rate_file
        return dataclasses.replace(
            self,
            requests_per_second=self.effective_image_rps,
            image_requests_per_second=self.effective_image_rps,
            rate_share_file=f"{shared}.images" if shared else RATE_SHARE_OFF,
        )

    @property
    def shared_rate_file(self) -> str | None:
        """The file of the rate shared with other processes, or None (unset, or ``off``)."""
        if self.rate_share_file is None or self.rate_share_file.strip().lower() == RATE_SHARE_OFF:
            return None
        return self.rate_share_file

    @property
    def attempt_deadline(self) -> float:
        """Seconds one attempt may take in all, however steadily bytes trickle in (4 × read timeout)."""
        return 4 * self.read_timeout

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value no message may show: the token, the key, and the userinfo (and ``api_key`` query
        values) of the base URLs."""
        found = [self.read_access_token, self.api_key, *url_secrets(self.base_url),
                 *url_secrets(self.exports_base_url)]
        return tuple(dict.fromkeys(s for s in found if s))


def value_type(f: dataclasses.Field) -> type:
    """The non-optional Python type of a settings field (its annotation is a string here)."""
    annotation = str(f.type).replace(" | None", "")
    return {"str": str, "int": int, "float": float}[annotation]


def _parse(f: dataclasses.Field, raw: str) -> Any:
    """Convert ``raw`` to the field's type; ranges are checked when the settings are built."""
    kind, name = value_type(f), f.metadata["env"]
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def _check(f: dataclasses.Field, value: Any) -> Any:
    """``value`` if it fits field ``f`` (an int given for a float becomes a float), else `SettingsError`."""
    kind, name = value_type(f), f.metadata["env"]
    if kind is str:
        if not isinstance(value, str):
            raise SettingsError(f"{name} must be a string, got {type(value).__name__}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and isinstance(value, float)):
        raise SettingsError(f"{name}={value!r} is not a valid {kind.__name__}")
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {value!r}")
    low, high = f.metadata["bounds"]
    if not low <= value <= high:
        what = "positive" if value <= 0 < low else "in range"
        raise SettingsError(f"{name} must be {what} ({low:g} to {high:g}), got {value!r}")
    return float(value) if kind is float and not isinstance(value, float) else value


def _check_url(name: str, url: str) -> None:
    """An http(s) URL with a host, whose port (if any) is a number: checked before any request is made."""
    try:
        parts = urlsplit(url)
        port = parts.port  # parses it: ValueError when it is not a number in range
    except ValueError:
        raise SettingsError(f"{name}={display_url(url)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}={display_url(url)!r} must start with http:// or https:// and name a host")
    del port
