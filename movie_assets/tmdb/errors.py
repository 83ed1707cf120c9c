"""Typed failures of the TMDb client. Messages never contain a secret (see `redact`)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit


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
    """Replace every secret value in ``text`` with ``***`` (longest first, so ``user:pass`` goes whole
    before a bare ``pass`` could leave ``user:***``)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# A bare password shorter than this is not redacted on its own (it would blank out every "a" or "ab" of a
# message); its ``user:password`` form still is, and `display_url` drops userinfo from every URL shown.
MIN_BARE_PASSWORD = 4
_SECRET_QUERY = re.compile(r"((?:^|&)(?:api_key|access_token|token)=)[^&]*", re.IGNORECASE)


def url_secrets(url: str | None) -> tuple[str, ...]:
    """The secret parts of ``url``: its userinfo (``user:pass``) and password, as written and decoded, and
    the values of ``api_key`` / ``access_token`` query parameters."""
    if not url:
        return ()
    try:
        parts = urlsplit(url)
        parts.password  # noqa: B018 - parses the userinfo
    except ValueError:
        return (url,)  # unparseable: hide it whole
    userinfo = parts.netloc.rpartition("@")[0]
    found = [userinfo, unquote(userinfo)]
    if userinfo:  # as an HTTP Basic header carries it, should a server echo that back
        found.append(base64.b64encode(unquote(userinfo).encode()).decode())
    if parts.password and len(unquote(parts.password)) >= MIN_BARE_PASSWORD:
        found += [parts.password, unquote(parts.password)]
    for match in _SECRET_QUERY.finditer(parts.query):
        value = parts.query[match.end(1):match.end()]
        found += [value, unquote(value)]
    return tuple(dict.fromkeys(s for s in found if s))


def display_url(url: str | None) -> str:
    """``url`` as it may be shown (messages, logs, reprs, CLI output): userinfo becomes ``***@`` and
    ``api_key`` / ``access_token`` query values ``***``."""
    if not url:
        return str(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = _SECRET_QUERY.sub(r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class TMDbResponseTooLarge(TMDbRequestError):
    """An answer bigger than the setting allows (``TMDB_MAX_RESPONSE_MB`` / ``TMDB_MAX_DOWNLOAD_MB``): a
    hostile or broken server; not retried."""
