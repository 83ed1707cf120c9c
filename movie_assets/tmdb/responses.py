"""What the TMDb client hands back and counts: parsed answers, downloaded files, the client's counters, and
the reading of the headers and error bodies they come with (``Date``, ``Retry-After``, TMDb's messages)."""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ClientStats:
    """Counters a caller can read at any time."""

    requests: int = 0
    bytes_received: int = 0
    rate_limited: int = 0
    not_found: int = 0
    retry_after_capped: int = 0
    retry_after_invalid: int = 0
    retries: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bytes_received": self.bytes_received,
            "rate_limited_429": self.rate_limited,
            "not_found": self.not_found,
            "retry_after_capped": self.retry_after_capped,
            "retry_after_invalid": self.retry_after_invalid,
            "retries": dict(sorted(self.retries.items())),
            "retries_total": sum(self.retries.values()),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


@dataclass(frozen=True)
class FileDownload:
    """A file fetched with `TMDbClient.download`."""

    url: str
    path: Path
    size: int
    server_time: dt.datetime | None


@dataclass(frozen=True)
class TMDbResponse:
    """A parsed JSON body and the server's ``Date`` (used as ``harvested_at``)."""

    data: dict[str, Any]
    server_time: dt.datetime | None


def http_date(raw: str) -> dt.datetime | None:
    """An RFC 9110 HTTP-date as an aware UTC datetime, or None. A zone written ``-0000`` (RFC 2822's
    "unknown zone") parses to a naive datetime: HTTP-dates are UTC, so it is taken as UTC."""
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def date_header(headers: Any) -> dt.datetime | None:
    """The response's ``Date`` (the server's clock), or None when it is missing or unusable."""
    raw = headers.get("Date")
    return http_date(raw) if raw else None


def parse_retry_after(headers: Any, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds, or an HTTP-date measured against the
    response's own ``Date`` (the server's clock), else ``now``. ``inf`` when the server asks for an
    unbounded wait; None when the header is absent or unusable (junk, negative, nan): back off instead."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        when = http_date(raw)
        if when is None:
            return None
        reference = date_header(headers) or now or dt.datetime.now(dt.UTC)
        return max(0.0, (when - reference).total_seconds())
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds


def tmdb_message(body: Any) -> str:
    """TMDb's own words from an error body (``status_message`` or ``errors``), for the raised error."""
    if isinstance(body, dict):
        if body.get("status_message"):
            return f"status_code {body.get('status_code')}: {body['status_message']}"
        if body.get("errors"):
            return "; ".join(str(e) for e in body["errors"])
    return "no TMDb error body"
