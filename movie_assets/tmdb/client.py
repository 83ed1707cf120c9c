"""Async TMDb v3 client: the calls the pipeline makes, each a parsed body or a typed error.

The endpoint methods and file fetches live here; how a request is sent, throttled, retried and its status
read is `movie_assets.tmdb.transport` (see its docstring for the status handling), and what comes back and
is counted is `movie_assets.tmdb.responses`. A paged list is read with `movie_assets.tmdb.paging`.
No failure ever becomes an empty record: every method returns a parsed body or raises.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from movie_assets.lake.schema import DETAILS_APPENDS

from .config import TMDbSettings
from .errors import Retryable, TMDbFileMissing, TMDbPageLimitError, TMDbRequestError, display_url
from .responses import FileDownload, TMDbResponse, date_header
from .transport import TMDbTransport

log = logging.getLogger(__name__)

# The last page TMDb serves of any list.
MAX_PAGE = 500
# A download must receive this many bytes per attempt deadline (4 × read timeout) to go on.
DOWNLOAD_PROGRESS_BYTES = 1 << 16


MAX_APPENDS = 20  # TMDb's limit on append_to_response


class TMDbClient(TMDbTransport):
    """Async TMDb client. Use as ``async with TMDbClient(settings) as client: ...``."""

    def __init__(self, settings: TMDbSettings, *, logger: logging.Logger | None = None):
        super().__init__(settings, logger=logger or log)

    def __repr__(self) -> str:
        return f"TMDbClient(base_url={self.display_base_url!r}, rps={self.limiter.target_rate:g})"

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

    async def movie_details(self, movie_id: int, append: tuple[str, ...] = DETAILS_APPENDS) -> TMDbResponse:
        """``/movie/{id}`` with ``append_to_response``; raises `TMDbNotFound` for unknown ids."""
        if len(append) > MAX_APPENDS:  # TMDb answers status_code 27 for more: a bug in the caller, not a retry
            raise ValueError(f"append_to_response takes at most {MAX_APPENDS} names, not {len(append)}")
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

    # -- files (daily exports, images) ---------------------------------------------------------------
    async def download(self, url: str, target: str | os.PathLike) -> FileDownload:
        """Stream the file at absolute ``url`` (no API credentials sent) into ``target``, with the same
        throttling and retries as API calls. A 403 or 404 raises `TMDbFileMissing` (not retried): that
        is how a files host says the file is not there. The answer must start within the attempt deadline
        and then bring `DOWNLOAD_PROGRESS_BYTES` per deadline (a stalled or dripping file is retried)."""
        return await self._with_retries(lambda: self._download_attempt(url, Path(target)), display_url(url),
                                        other_host=True)

    async def get_bytes(self, url: str, *, accept: str = "image/*") -> bytes | None:
        """The body of absolute ``url`` (an image, say) through the rate limit and retry policy of API
        calls, without API credentials; None on 404. 429 / 5xx / timeouts / dropped connections / an empty
        200 are retried; another status raises `TMDbRequestError`, exhausted retries `TMDbUnavailable`."""
        return await self._with_retries(lambda: self._bytes_attempt(url, accept), display_url(url),
                                        other_host=True)

    async def _bytes_attempt(self, url: str, accept: str) -> bytes | None:
        assert self._session is not None
        shown = display_url(url)
        await self._acquire()
        self.stats.requests += 1
        with self._transport_errors(shown):
            async with self._deadline(shown), self._session.get(url, headers={"Accept": accept}) as resp:
                status, headers = resp.status, resp.headers
                raw = await self._read_body(resp, shown) if status == 200 else b""
        self.stats.statuses[status] += 1
        self.stats.bytes_received += len(raw)
        if status == 404:
            self.stats.not_found += 1
            return None
        self._raise_for_file_status(status, headers, shown)
        if not raw:
            raise Retryable("empty", f"HTTP 200 with an empty body from {shown}")
        self.limiter.record_success()
        return raw

    def _raise_for_file_status(self, status: int, headers: Any, shown: str) -> None:
        """429 and 5xx of a files host → `Retryable`; any other status but 200 → `TMDbRequestError`."""
        if status == 429:
            raise self._rate_limited(headers, f"HTTP 429 from {shown}")
        if status >= 500:
            raise Retryable("5xx", f"HTTP {status} from {shown}")
        if status != 200:
            raise TMDbRequestError(self._redact(f"GET {shown} answered HTTP {status}"), http_status=status)

    async def _download_attempt(self, url: str, target: Path) -> FileDownload:
        assert self._session is not None
        shown = display_url(url)
        await self._acquire()
        self.stats.requests += 1
        with self._transport_errors(shown):
            # identity: a .gz file is stored as sent, and its Content-Length is the length of what is read
            async with (self._deadline(shown) as deadline,
                        self._session.get(url, headers={"Accept-Encoding": "identity"}) as resp):
                self.stats.statuses[resp.status] += 1
                if resp.status in (403, 404):
                    raise TMDbFileMissing(f"{shown} is not there (HTTP {resp.status})", http_status=resp.status)
                self._raise_for_file_status(resp.status, resp.headers, shown)
                size = progress = 0
                limit = int(self.settings.max_download_mb * 2**20)
                with target.open("wb") as sink:
                    async for chunk in resp.content.iter_chunked(1 << 16):
                        sink.write(chunk)
                        size += len(chunk)
                        if size > limit:
                            raise self._too_large(shown, "TMDB_MAX_DOWNLOAD_MB", self.settings.max_download_mb)
                        progress += len(chunk)
                        if progress >= DOWNLOAD_PROGRESS_BYTES:  # moving along: a new deadline
                            progress = 0
                            deadline.reschedule(asyncio.get_running_loop().time() + self.settings.attempt_deadline)
                expected = resp.content_length
                if expected is not None and size != expected:
                    raise Retryable("truncated", f"{shown}: got {size} of {expected} bytes")
                self.stats.bytes_received += size
                self.limiter.record_success()
                return FileDownload(url=url, path=target, size=size, server_time=date_header(resp.headers))


__all__ = ["MAX_PAGE", "TMDbClient"]
