"""One year's posters: fetch what is not cached yet and record every movie's outcome.

``processed/posters_parquet/year=Y/part-0.parquet`` has one row per movie of ``movies_parquet/year=Y`` (sorted by
``movie_id``): its ``poster_path``, the ``size`` fetched, a ``status`` (`movie_assets.posters.decode.STATUSES`)
with a human ``reason`` when it is not ``ok``, and for a cached poster the ``image_sha256`` of its bytes and its
pixel size. A movie is never left out: no ``poster_path`` is ``no_poster``, a 404 ``not_found``, a body that is
not a usable image says which way it is not.

A run reads the year's movies and, per movie:

* a cached file of the same path and size: kept (its bytes hashed again; a file that no longer matches the hash
  recorded for it is decoded again, and removed if it no longer decodes);
* an earlier answer that the path is unavailable (``not_found``, ``refused`` …): kept, unless
  ``retry_unavailable``; ``not_image`` and ``undecodable``, which a passing fault can also give, are asked again
  until three runs have said so; a changed ``poster_path`` is a new path, so only that movie is fetched again;
* otherwise it is downloaded, decoded (`decode_poster`) and, when ok, cached atomically.

Downloads whose retries are exhausted are written as ``failed`` with the error, so the table says what happened,
and `YearPosters.failed` tells the caller to fail the step; the next run asks for those again. A killed run loses
no download: files land whole, and the next run finds them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.common.concurrency import bounded_map
from movie_assets.lake import Lake, atomic_path, write_parquet_atomic
from movie_assets.lake.files import remove_dir_atomic, sweep_stale_temporaries
from movie_assets.posters import cache, decode
from movie_assets.tmdb.errors import TMDbError, TMDbRequestError, display_url

SCHEMA = pa.schema([
    ("movie_id", pa.int64()),
    ("poster_path", pa.string()),
    ("size", pa.string()),
    ("status", pa.string()),
    ("reason", pa.string()),
    ("image_sha256", pa.string()),
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("bytes", pa.int64()),
    ("attempts", pa.int32()),
])
COLUMN_DESCRIPTIONS = {
    "movie_id": "TMDb movie id (unique, sorted)",
    "poster_path": "TMDb poster path (null: the movie has none)",
    "size": "TMDb image size fetched (w185 by default)",
    "status": "ok (cached), no_poster, not_found (404), not_image, too_large, too_small, undecodable, refused (another "
              "HTTP status, too big), failed (retries exhausted: asked again)",
    "reason": "why the poster is not ok, in words (empty when ok)",
    "image_sha256": "sha256 of the cached image's bytes (null unless ok)",
    "width": "pixels", "height": "pixels", "bytes": "size of the cached file",
    "attempts": "runs that asked for this poster path and got this answer",
}
Progress = Callable[[int, int], None]


@dataclass
class YearPosters:
    """What one run did for a year."""

    table: pa.Table
    downloaded: int = 0
    reused: int = 0
    bytes_downloaded: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Movies per status."""
        statuses = self.table.column("status").to_pylist()
        return {s: statuses.count(s) for s in decode.STATUSES if s in statuses}

    @property
    def failed(self) -> int:
        return self.counts().get(decode.FAILED, 0)


def year_poster_paths(lake: Lake, year: int | None) -> pa.Table:
    """movie_id, poster_path of ``year``'s movies (empty when the year has no movies file)."""
    source = lake.movies_year_file(year)
    if not source.exists():
        return pa.table({"movie_id": pa.array([], pa.int64()), "poster_path": pa.array([], pa.string())})
    return pq.read_table(source, columns=["movie_id", "poster_path"]).sort_by("movie_id")


def previous_rows(lake: Lake, year: int | None) -> dict[int, dict[str, Any]]:
    """The year's last recorded outcome per movie."""
    path = lake.posters_year_file(year)
    return {row["movie_id"]: row for row in pq.read_table(path).to_pylist()} if path.exists() else {}


def _stands(row: dict[str, Any]) -> bool:
    """Whether an earlier answer about a poster path stands (see `decode.ASKED_AGAIN`)."""
    if row["status"] not in decode.UNAVAILABLE:
        return False
    return row["status"] not in decode.ASKED_AGAIN or (row.get("attempts") or 0) >= decode.ATTEMPTS


def _row(movie_id: int, path: str | None, size: str, status: str, reason: str = "", **cached: Any) -> dict[str, Any]:
    return {"movie_id": movie_id, "poster_path": path, "size": size, "status": status, "reason": reason,
            "image_sha256": cached.get("image_sha256"), "width": cached.get("width"),
            "height": cached.get("height"), "bytes": cached.get("bytes"), "attempts": cached.get("attempts", 1)}


def _cached_row(movie_id: int, path: str, size: str, body: bytes, checked: dict[str, Any] | None) -> dict[str, Any]:
    """The row of a cached file: the earlier row when its hash still matches, else the file decoded again."""
    digest = hashlib.sha256(body).hexdigest()
    if checked is not None and checked.get("image_sha256") == digest and checked.get("status") == decode.OK:
        return {**checked, "size": size, "poster_path": path}
    decoded = decode.decode_poster(body)
    if decoded.status != decode.OK:
        return _row(movie_id, path, size, decoded.status, decoded.reason)
    return _row(movie_id, path, size, decode.OK, image_sha256=digest, width=decoded.width,
                height=decoded.height, bytes=len(body))


async def fetch_year_posters(
    lake: Lake,
    year: int | None,
    images: Any,
    *,
    size: str = cache.DEFAULT_SIZE,
    concurrency: int = cache.DEFAULT_CONCURRENCY,
    retry_unavailable: bool = False,
    image_base: str | None = None,
    progress: Progress | None = None,
) -> YearPosters:
    """Bring ``year``'s posters up to date (see the module docstring) through ``images`` (a `TMDbClient` for the
    image host) and write the year's table; a year without movies has its table removed."""
    started = time.perf_counter()
    cache.check_size(size)
    movies = year_poster_paths(lake, year)
    target = lake.posters_year_file(year)
    if movies.num_rows == 0:
        if target.exists():
            remove_dir_atomic(target.parent)
        return YearPosters(SCHEMA.empty_table())
    if (lake.posters_dir / size).exists():
        sweep_stale_temporaries(lake.posters_dir / size)  # what a killed run left half-written
    before = previous_rows(lake, year)
    rows: dict[int, dict[str, Any]] = {}
    todo: list[tuple[int, str]] = []
    tries: dict[int, int] = {}  # earlier runs that got the same answer, for the posters asked again
    result = YearPosters(SCHEMA.empty_table())
    for movie_id, path in zip(movies.column("movie_id").to_pylist(), movies.column("poster_path").to_pylist(),
                              strict=True):
        if not path or not path.strip():
            rows[movie_id] = _row(movie_id, None, size, decode.NO_POSTER, "TMDb lists no poster for this movie")
            continue
        earlier = before.get(movie_id)
        same = earlier if earlier and earlier["poster_path"] == path and earlier["size"] == size else None
        try:
            file = cache.poster_file(lake, path, size)
        except ValueError as exc:
            rows[movie_id] = _row(movie_id, path, size, decode.NOT_FOUND, str(exc))
            continue
        if file.is_file():
            rows[movie_id] = _cached_row(movie_id, path, size, file.read_bytes(), same)
            if rows[movie_id]["status"] != decode.OK:
                file.unlink(missing_ok=True)  # a cached file that no longer decodes is not a cached poster
            result.reused += 1
        elif same is not None and _stands(same) and not retry_unavailable:
            rows[movie_id] = same
            result.reused += 1
        else:
            todo.append((movie_id, path))
            tries[movie_id] = (same or {}).get("attempts") or 0
    if todo:
        base = image_base or await cache.image_base_for(images)
        done = [0]

        async def one(item: tuple[int, str]) -> None:
            movie_id, path = item
            url = cache.poster_url(base, size, path)
            try:
                body = await images.get_bytes(url, accept="image/*")
            except TMDbRequestError as exc:  # an answer (403, 410, too big …): it stands for this path
                rows[movie_id] = _row(movie_id, path, size, decode.REFUSED, str(exc))
                return
            except TMDbError as exc:
                rows[movie_id] = _row(movie_id, path, size, decode.FAILED, str(exc))
                result.errors.append(str(exc))
                return
            finally:
                done[0] += 1
                if progress is not None:
                    progress(done[0], len(todo))
            if body is None:
                rows[movie_id] = _row(movie_id, path, size, decode.NOT_FOUND,
                                      f"GET {display_url(url)} answered 404")
                return
            decoded = decode.decode_poster(body)
            if decoded.status != decode.OK:
                earlier = before.get(movie_id) or {}
                again = tries[movie_id] + 1 if earlier.get("status") == decoded.status else 1
                rows[movie_id] = _row(movie_id, path, size, decoded.status, decoded.reason, attempts=again)
                return
            try:
                with atomic_path(cache.poster_file(lake, path, size)) as tmp:
                    tmp.write_bytes(body)
            except OSError as exc:
                rows[movie_id] = _row(movie_id, path, size, decode.FAILED, f"cannot cache it: {exc}")
                result.errors.append(f"cannot cache the poster of movie {movie_id}: {exc}")
                return
            rows[movie_id] = _row(movie_id, path, size, decode.OK, image_sha256=hashlib.sha256(body).hexdigest(),
                                  width=decoded.width, height=decoded.height, bytes=len(body))
            result.downloaded += 1
            result.bytes_downloaded += len(body)

        await bounded_map(one, todo, concurrency)
    result.table = pa.Table.from_pylist([rows[m] for m in sorted(rows)], schema=SCHEMA)
    write_parquet_atomic(result.table, target)
    result.seconds = time.perf_counter() - started
    return result
