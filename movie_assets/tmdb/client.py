"""Async TMDb v3 client: one aiohttp session, a shared rate limit, bounded retries, typed errors.

Status handling:
- 429 → wait ``Retry-After`` if sent (else exponential backoff), slow the shared bucket, retry;
- 5xx, timeouts, dropped connections, truncated or invalid JSON → backoff with full jitter, bounded;
- 401 → `TMDbAuthError` at once; 404 with status_code 34 → `TMDbNotFound`, not retried;
- other 4xx, or ``"success": false`` under any status → `TMDbRequestError` with TMDb's own message.
No failure ever becomes an empty record: every method returns a parsed body or raises.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from .config import TMDbSettings
from .errors import (
    Retryable,
    TMDbAuthError,
    TMDbConnectionError,
    TMDbError,
    TMDbFileMissing,
    TMDbNotFound,
    TMDbPageLimitError,
    TMDbRequestError,
    TMDbUnavailable,
    redact,
)
from .ratelimit import AdaptiveRateLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PAGE = 500
# TMDb status codes that mean "try again later" even when they arrive with a 200 or 4xx status.
TRANSIENT_STATUS_CODES = {9, 11, 24, 43, 46}


@dataclass
class ClientStats:
    """Counters a caller can read at any time."""

    requests: int = 0
    bytes_received: int = 0
    rate_limited: int = 0
    not_found: int = 0
    retries: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bytes_received": self.bytes_received,
            "rate_limited_429": self.rate_limited,
            "not_found": self.not_found,
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


def _server_time(headers: Any) -> dt.datetime | None:
    raw = headers.get("Date")
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(raw).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return None


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _tmdb_message(body: Any) -> str:
    if isinstance(body, dict):
        if body.get("status_message"):
            return f"status_code {body.get('status_code')}: {body['status_message']}"
        if body.get("errors"):
            return "; ".join(str(e) for e in body["errors"])
    return "no TMDb error body"


class TMDbClient:
    """Async TMDb client. Use as ``async with TMDbClient(settings) as client: ...``."""

    def __init__(self, settings: TMDbSettings, *, logger: logging.Logger | None = None):
        self.settings = settings
        self.base_url = settings.effective_base_url
        self.limiter = AdaptiveRateLimiter(settings.effective_rps)
        self.stats = ClientStats()
        self.log = logger or log
        self._session: aiohttp.ClientSession | None = None
        token = settings.read_access_token
        self._auth_headers = {"Authorization": f"Bearer {token}"} if token else None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open aiohttp session (no credentials attached: those go on API requests only)."""
        if self._session is None:
            raise RuntimeError("TMDbClient must be used inside 'async with'")
        return self._session

    def __repr__(self) -> str:
        return f"TMDbClient(base_url={self.base_url!r}, rps={self.limiter.target_rate:g})"

    async def __aenter__(self) -> TMDbClient:
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self.settings.connect_timeout, sock_read=self.settings.read_timeout
        )
        headers = {"Accept": "application/json", "User-Agent": "movie_assets/0.1"}
        connector = aiohttp.TCPConnector(limit=self.settings.max_connections, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(timeout=timeout, headers=headers, connector=connector)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the calls the pipeline needs ------------------------------------------------------------
    async def discover_movies(
        self,
        *,
        gte: dt.date,
        lte: dt.date,
        page: int = 1,
        sort_by: str = "primary_release_date.asc",
        include_adult: bool = False,
        include_video: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One page of ``/discover/movie`` filtered on primary release date."""
        if not 1 <= page <= MAX_PAGE:
            raise TMDbPageLimitError(f"discover page {page} is outside 1..{MAX_PAGE}; split the window instead")
        params = {
            "primary_release_date.gte": gte.isoformat(),
            "primary_release_date.lte": lte.isoformat(),
            "sort_by": sort_by,
            "include_adult": str(include_adult).lower(),
            "include_video": str(include_video).lower(),
            "page": page,
            **(extra or {}),
        }
        return (await self.get("/discover/movie", params)).data

    async def movie_details(self, movie_id: int, append: tuple[str, ...] = ("credits", "keywords")) -> TMDbResponse:
        """``/movie/{id}`` with ``append_to_response``; raises `TMDbNotFound` for unknown ids."""
        params = {"append_to_response": ",".join(append)} if append else {}
        return await self.get(f"/movie/{int(movie_id)}", params)

    async def configuration(self) -> dict[str, Any]:
        """``/configuration``: image base URLs and sizes."""
        return (await self.get("/configuration")).data

    async def movie_genres(self) -> dict[int, str]:
        """``/genre/movie/list`` as ``{id: name}``."""
        data = (await self.get("/genre/movie/list")).data
        return {int(g["id"]): g["name"] for g in data.get("genres", [])}

    async def popular_movies(self, page: int = 1) -> dict[str, Any]:
        """``/movie/popular``."""
        return (await self.get("/movie/popular", {"page": page})).data

    async def server_time(self) -> dt.datetime:
        """"Now" as the API sees it (one request): the ``Date`` header of ``/configuration`` (the emulator's
        clock), or this machine's UTC time when the header is missing."""
        return (await self.get("/configuration")).server_time or dt.datetime.now(dt.UTC)

    async def movie_changes(self, start: dt.date, end: dt.date, page: int = 1) -> dict[str, Any]:
        """``/movie/changes`` for a window of at most 14 days."""
        if (end - start).days > 14:
            raise TMDbRequestError(f"changes window {start}..{end} is longer than TMDb's 14 days")
        params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "page": page}
        return (await self.get("/movie/changes", params)).data

    async def download(self, url: str, target: str | os.PathLike) -> FileDownload:
        """Stream the file at absolute ``url`` (no API credentials sent) into ``target``, with the same
        throttling and retries as API calls. A 403 or 404 raises `TMDbFileMissing` (not retried): that
        is how a files host says the file is not there."""
        return await self._with_retries(lambda: self._download_attempt(url, Path(target)), url, other_host=True)

    async def _download_attempt(self, url: str, target: Path) -> FileDownload:
        assert self._session is not None
        await self.limiter.acquire()
        self.stats.requests += 1
        with self._transport_errors(url):
            async with self._session.get(url) as resp:
                self.stats.statuses[resp.status] += 1
                if resp.status in (403, 404):
                    raise TMDbFileMissing(f"{url} is not there (HTTP {resp.status})", http_status=resp.status)
                if resp.status == 429 or resp.status >= 500:
                    retry_after = _retry_after(resp.headers) if resp.status == 429 else None
                    raise Retryable("429" if resp.status == 429 else "5xx", f"HTTP {resp.status} from {url}",
                                    retry_after=retry_after)
                if resp.status != 200:
                    raise TMDbRequestError(f"GET {url} answered HTTP {resp.status}", http_status=resp.status)
                size = 0
                with target.open("wb") as sink:
                    async for chunk in resp.content.iter_chunked(1 << 16):
                        sink.write(chunk)
                        size += len(chunk)
                expected = resp.content_length
                if expected is not None and size != expected:
                    raise Retryable("connection", f"{url}: got {size} of {expected} bytes")
                self.stats.bytes_received += size
                return FileDownload(url=url, path=target, size=size, server_time=_server_time(resp.headers))

    # -- transport --------------------------------------------------------------------------------
    async def get(self, path: str, params: dict[str, Any] | None = None) -> TMDbResponse:
        """GET ``base_url + path`` with throttling and retries; returns the parsed body or raises."""
        query = {"language": self.settings.language, **(params or {})}
        if self.settings.api_key and not self.settings.read_access_token:
            query["api_key"] = self.settings.api_key
        return await self._with_retries(lambda: self._attempt(path, query), path)

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]], what: str, *, other_host: bool = False) -> T:
        """Run ``attempt`` under the retry policy (transient failures only); after the last attempt, a typed
        error: `TMDbConnectionError` when the host was never reached, else `TMDbUnavailable`."""
        if self._session is None:
            raise RuntimeError("TMDbClient must be used inside 'async with'")
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(Retryable),
            before_sleep=self._count_retry,
        )
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    return await attempt()
        except RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, Retryable)
            # An API host that answered before is reachable; a files host is judged on its own.
            unreachable = last.cause == "connection" and (other_host or not self.stats.statuses)
            kind = TMDbConnectionError if unreachable else TMDbUnavailable
            hint = " (check TMDB_BASE_URL and the network)" if unreachable and not other_host else ""
            message = f"GET {what} failed after {self.settings.max_attempts} attempts; last: {last.detail}{hint}"
            raise kind(self._redact(message)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.contextmanager
    def _transport_errors(self, where: str) -> Iterator[None]:
        """Turn aiohttp's transport failures into `Retryable` ones, named by their cause."""
        try:
            yield
        except TimeoutError:
            raise Retryable("timeout", f"no answer from {where} within the timeout") from None
        except aiohttp.ClientConnectorError as exc:
            raise Retryable("connection", f"cannot connect to {where}: {exc.strerror or exc}") from None
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise Retryable("connection", f"connection dropped: {type(exc).__name__}") from None
        except aiohttp.ClientError as exc:
            raise Retryable("connection", f"{type(exc).__name__}") from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return wait_random_exponential(multiplier=self.settings.backoff_base, max=self.settings.backoff_max)(state)

    def _count_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable):
            self.stats.retries[exc.cause] += 1
            self.log.debug("retrying after %s: %s", exc.cause, self._redact(exc.detail))

    def _redact(self, text: str) -> str:
        return redact(text, self.settings.secrets)

    async def _attempt(self, path: str, query: dict[str, Any]) -> TMDbResponse:
        assert self._session is not None
        await self.limiter.acquire()
        self.stats.requests += 1
        with self._transport_errors(self.base_url):
            async with self._session.get(self.base_url + path, params=query, headers=self._auth_headers) as resp:
                raw = await resp.read()
                status, headers = resp.status, resp.headers
        self.stats.bytes_received += len(raw)
        self.stats.statuses[status] += 1
        body = self._parse(raw)
        return self._interpret(path, status, headers, raw, body)

    @staticmethod
    def _parse(raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def _interpret(self, path: str, status: int, headers: Any, raw: bytes, body: Any) -> TMDbResponse:
        message = _tmdb_message(body)
        status_code = body.get("status_code") if isinstance(body, dict) else None
        if status == 429:
            self.stats.rate_limited += 1
            retry_after = _retry_after(headers)
            self.limiter.penalize(retry_after)
            raise Retryable("429", f"HTTP 429 ({message})", retry_after=retry_after)
        if status >= 500:
            raise Retryable("5xx", f"HTTP {status} ({message})")
        if status == 401:
            if self.settings.has_credentials:
                hint = "set TMDB_READ_ACCESS_TOKEN (preferred) or TMDB_API_KEY in .env to a valid value"
            else:
                hint = f"TMDB_BASE_URL={self.base_url} needs credentials: set TMDB_READ_ACCESS_TOKEN or TMDB_API_KEY"
            raise TMDbAuthError(
                self._redact(f"TMDb rejected the credentials (HTTP 401, {message}); {hint}"),
                http_status=401,
                status_code=status_code,
            )
        if status == 404:
            if status_code in (34, 6):
                self.stats.not_found += 1
                missing = TMDbNotFound(f"{path}: {message}", http_status=404, status_code=status_code)
                missing.server_time = _server_time(headers)
                raise missing
            raise TMDbRequestError(
                self._redact(
                    f"GET {path} answered HTTP 404 without a TMDb error body: is TMDB_BASE_URL={self.base_url} "
                    "a TMDb v3 API (it should end in /3)?"
                ),
                http_status=404,
            )
        if isinstance(body, dict) and body.get("success") is False and status_code in TRANSIENT_STATUS_CODES:
            raise Retryable("5xx", f"HTTP {status} ({message})")
        if status >= 400 or (isinstance(body, dict) and body.get("success") is False):
            error = TMDbPageLimitError if self._is_page_error(status, body) else TMDbRequestError
            raise error(self._redact(f"GET {path} failed: HTTP {status} ({message})"), http_status=status,
                        status_code=status_code)
        if not isinstance(body, dict):
            raise Retryable("bad_json", f"HTTP {status} with a body that is not a JSON object ({len(raw)} bytes)")
        self.limiter.record_success()
        return TMDbResponse(body, _server_time(headers))

    @staticmethod
    def _is_page_error(status: int, body: Any) -> bool:
        if not isinstance(body, dict):
            return False
        if body.get("status_code") == 22:
            return True
        return status == 422 and any("page must be" in str(e) for e in body.get("errors") or [])


__all__ = ["ClientStats", "TMDbClient", "TMDbResponse", "TMDbError", "MAX_PAGE"]
