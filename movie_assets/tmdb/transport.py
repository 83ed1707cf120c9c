"""How the TMDb client talks to a host: one aiohttp session, a shared rate limit, bounded retries, typed errors.

Status handling:
- 429 → wait ``Retry-After`` if sent and valid (seconds or an HTTP-date, at most ``TMDB_RETRY_AFTER_MAX``;
  else exponential backoff), slow the shared bucket, retry;
- 5xx, timeouts, dropped connections, truncated or invalid JSON → backoff with full jitter, bounded;
- an attempt that has not finished within ``4 × TMDB_READ_TIMEOUT`` (a server dripping bytes, which the
  per-read timeout never catches) is a timeout; a file download must instead bring 64 KiB per that much
  time, so a large export on a slow line is not cut off;
- 401 → `TMDbAuthError` at once; 404 with status_code 34 → `TMDbNotFound`, not retried;
- other 4xx, or ``"success": false`` under any status → `TMDbRequestError` with TMDb's own message.
No failure ever becomes an empty record: every call returns a parsed body or raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Self, TypeVar

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from .config import SettingsError, TMDbSettings
from .errors import (
    Retryable,
    TMDbAuthError,
    TMDbConnectionError,
    TMDbNotFound,
    TMDbPageLimitError,
    TMDbRequestError,
    TMDbResponseTooLarge,
    TMDbUnavailable,
    display_url,
    redact,
)
from .ratelimit import AdaptiveRateLimiter
from .responses import ClientStats, TMDbResponse, date_header, parse_retry_after, tmdb_message
from .shared_rate import SharedRateSchedule

T = TypeVar("T")

# TMDb status codes that mean "try again later" even when they arrive with a 200 or 4xx status.
TRANSIENT_STATUS_CODES = {9, 11, 24, 43, 46}


class TMDbTransport:
    """The session, throttling and retry policy under `TMDbClient`'s calls; ``get`` is its one API request."""

    def __init__(self, settings: TMDbSettings, *, logger: logging.Logger):
        self.settings = settings
        self.base_url = settings.effective_base_url
        self.display_base_url = display_url(self.base_url)
        shared = settings.shared_rate_file
        # A legitimate shared next slot lies at most a capped Retry-After plus a queue of requests ahead.
        self.shared_rate = SharedRateSchedule(shared, settings.effective_rps,
                                              max_ahead=settings.retry_after_max + 600) if shared else None
        self.limiter = AdaptiveRateLimiter(settings.effective_rps, shared=self.shared_rate)
        self.stats = ClientStats()
        self.log = logger
        self._session: aiohttp.ClientSession | None = None
        token = settings.read_access_token
        self._auth_headers = {"Authorization": f"Bearer {token}"} if token else None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open aiohttp session (no credentials attached: those go on API requests only)."""
        if self._session is None:
            raise RuntimeError("TMDbClient must be used inside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        if self.shared_rate is not None:
            with self._shared_rate_file():
                self.shared_rate.open()
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
        if self.shared_rate is not None:
            self.shared_rate.close()

    @contextlib.contextmanager
    def _shared_rate_file(self) -> Iterator[None]:
        """An I/O error on the shared-rate file (on opening it, or later: a disk that filled up, a lock the
        filesystem refuses) as a `SettingsError` naming ``TMDB_RATE_SHARE_FILE``, not a bare `OSError`."""
        try:
            yield
        except OSError as exc:
            assert self.shared_rate is not None
            raise SettingsError(
                f"TMDB_RATE_SHARE_FILE={str(self.shared_rate.path)!r} cannot be used to share the request "
                f"rate ({exc.strerror or exc}); point it at a file this user can create and write, with "
                f"working locks (every process behind one IP shares it), or set it to off"
            ) from None

    async def _acquire(self) -> None:
        """Wait for this request's slot (the shared schedule's too)."""
        if self.shared_rate is None:
            await self.limiter.acquire()
            return
        with self._shared_rate_file():
            await self.limiter.acquire()

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

    @contextlib.asynccontextmanager
    async def _deadline(self, where: str) -> AsyncIterator[asyncio.Timeout]:
        """Bound one attempt, body included, to ``settings.attempt_deadline`` seconds: the per-read timeout
        restarts with every byte, so a server dripping a body would otherwise never be cut off."""
        seconds = self.settings.attempt_deadline
        try:
            async with asyncio.timeout(seconds) as deadline:
                yield deadline
        except TimeoutError:
            if deadline.expired():
                raise Retryable(
                    "timeout", f"{where} did not finish an answer within {seconds:g} s (4 × TMDB_READ_TIMEOUT)"
                ) from None
            raise

    def _rate_limited(self, headers: Any, detail: str) -> Retryable:
        """Count a 429, slow the shared bucket and say how long to wait: ``Retry-After`` when usable, at
        most ``TMDB_RETRY_AFTER_MAX`` (counted when capped); none (exponential backoff) otherwise."""
        self.stats.rate_limited += 1
        retry_after = parse_retry_after(headers)
        if retry_after is None and headers.get("Retry-After") is not None:
            self.stats.retry_after_invalid += 1
            self.log.debug("ignoring an unusable Retry-After: %r", self._redact(headers.get("Retry-After")))
        cap = self.settings.retry_after_max
        if retry_after is not None and retry_after > cap:
            self.stats.retry_after_capped += 1
            self.log.warning("429 with Retry-After %g s; waiting TMDB_RETRY_AFTER_MAX=%g s instead",
                             retry_after, cap)
            retry_after = cap
        if self.shared_rate is None:
            self.limiter.penalize(retry_after)
        else:
            with self._shared_rate_file():
                self.limiter.penalize(retry_after)
        return Retryable("429", detail, retry_after=retry_after)

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
        await self._acquire()
        self.stats.requests += 1
        with self._transport_errors(self.display_base_url):
            async with (
                self._deadline(self.display_base_url),
                self._session.get(self.base_url + path, params=query, headers=self._auth_headers) as resp,
            ):
                raw = await self._read_body(resp, self.display_base_url)
                status, headers = resp.status, resp.headers
        self.stats.bytes_received += len(raw)
        self.stats.statuses[status] += 1
        body = self._parse(raw)
        return self._interpret(path, status, headers, raw, body)

    async def _read_body(self, resp: aiohttp.ClientResponse, shown: str) -> bytes:
        """The (decompressed) body, refused past ``TMDB_MAX_RESPONSE_MB``: an endless or bomb-like answer
        fails at the limit instead of filling the memory."""
        limit = int(self.settings.max_response_mb * 2**20)
        chunks, size = [], 0
        async for chunk in resp.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > limit:
                raise self._too_large(shown, "TMDB_MAX_RESPONSE_MB", self.settings.max_response_mb)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, shown: str, setting_name: str, limit_mb: float) -> TMDbResponseTooLarge:
        return TMDbResponseTooLarge(self._redact(
            f"GET {shown} sent more than {limit_mb:g} MiB; that is no TMDb answer (raise {setting_name} if it "
            "really is one)"))

    @staticmethod
    def _parse(raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def _interpret(self, path: str, status: int, headers: Any, raw: bytes, body: Any) -> TMDbResponse:
        message = tmdb_message(body)
        status_code = body.get("status_code") if isinstance(body, dict) else None
        if status == 429:
            raise self._rate_limited(headers, f"HTTP 429 ({message})")
        if status >= 500:
            raise Retryable("5xx", f"HTTP {status} ({message})")
        if status == 401:
            if self.settings.has_credentials:
                hint = "set TMDB_READ_ACCESS_TOKEN (preferred) or TMDB_API_KEY in .env to a valid value"
            else:
                hint = (f"TMDB_BASE_URL={self.display_base_url} needs credentials: set TMDB_READ_ACCESS_TOKEN "
                        "or TMDB_API_KEY")
            raise TMDbAuthError(
                self._redact(f"TMDb rejected the credentials (HTTP 401, {message}); {hint}"),
                http_status=401,
                status_code=status_code,
            )
        if status == 404:
            if status_code in (34, 6):
                self.stats.not_found += 1
                missing = TMDbNotFound(f"{path}: {message}", http_status=404, status_code=status_code)
                missing.server_time = date_header(headers)
                raise missing
            raise TMDbRequestError(
                self._redact(
                    f"GET {path} answered HTTP 404 without a TMDb error body: is TMDB_BASE_URL={self.display_base_url} "
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
        return TMDbResponse(body, date_header(headers))

    @staticmethod
    def _is_page_error(status: int, body: Any) -> bool:
        if not isinstance(body, dict):
            return False
        if body.get("status_code") == 22:
            return True
        return status == 422 and any("page must be" in str(e) for e in body.get("errors") or [])
