"""Typed failures of the TMDb client. Messages never contain a secret (see `redact`)."""

from __future__ import annotations

from collections.abc import Iterable


class TMDbError(RuntimeError):
    """Base class: anything the TMDb client could not turn into a valid answer."""

    def __init__(self, message: str, *, http_status: int | None = None, status_code: int | None = None):
        super().__init__(message)
        self.http_status = http_status
        self.status_code = status_code


class TMDbAuthError(TMDbError):
    """HTTP 401: the key or token is missing or wrong. Never retried."""


class TMDbNotFound(TMDbError):
    """HTTP 404 with TMDb status_code 34: the resource does not exist. Never retried. ``server_time``: the
    response's ``Date``, when it had one."""

    server_time = None


class TMDbFileMissing(TMDbError):
    """A files host (daily exports, images) answered 403 or 404: the file is not there. Never retried."""


class TMDbRequestError(TMDbError):
    """A 4xx (or a ``"success": false`` body) that retrying will not fix; carries TMDb's message."""


class TMDbPageLimitError(TMDbRequestError):
    """A page outside 1..500 was requested (HTTP 422 live form or HTTP 400 / status_code 22)."""


class TMDbUnavailable(TMDbError):
    """Transient failures (429, 5xx, timeouts, dropped connections, bad JSON) outlasted the retry budget."""


class TMDbConnectionError(TMDbUnavailable):
    """The host could not be reached at all."""


class Retryable(Exception):
    """Internal signal: this attempt failed in a way worth retrying. ``cause`` names the counter."""

    def __init__(self, cause: str, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.retry_after = retry_after


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret value in ``text`` with ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
