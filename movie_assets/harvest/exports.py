"""TMDb's daily ID export: the list of every movie that exists, kept as one typed Parquet snapshot a day.

TMDb publishes ``movie_ids_MM_DD_YYYY.json.gz`` (and ``adult_movie_ids_MM_DD_YYYY.json.gz``) at
``TMDB_EXPORTS_BASE_URL`` every day around 08:00 UTC and deletes them after about three months: gzip JSON
Lines, one ``{"adult":false,"id":3924,"original_title":"Blondie","popularity":1.2707,"video":false}`` per
movie. `fetch_export` takes the newest day that should be published; before 08:00 UTC, or when the host
answers 403/404, it falls back a day (at most `MAX_FALLBACK_DAYS` times) and says which day it used. The
file is parsed strictly (a truncated or corrupt file is an error, never a shorter list) and written as
``raw/exports/day=D/movie_ids.parquet`` (`EXPORT_SCHEMA`, sorted by id): a daily popularity history of the
whole catalog at no API cost. A day already on disk is reused without a download.

An export that lists no movie at all, when an earlier snapshot listed some, is refused and nothing is
written. A merely partial export is stored (its additions are real); whether its absences count as
deletions is the sync's decision (`movie_assets.harvest.deletions`). A stored snapshot that cannot be read is
set aside (``*.corrupt``): the newest day is downloaded again, an older one only loses its comparison.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import Lake, write_parquet_atomic
from movie_assets.lake.files import create_temporary_file
from movie_assets.lake.schema import EXPORT_SCHEMA
from movie_assets.lake.state import StateFileError, read_state_parquet
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.errors import TMDbConnectionError, TMDbFileMissing, display_url

log = logging.getLogger(__name__)

PUBLISH_HOUR_UTC = 8
MAX_FALLBACK_DAYS = 3
BATCH_LINES = 100_000


class ExportError(RuntimeError):
    """The daily export cannot be used; the message says what to fix. Nothing was written."""


def export_file_name(day: dt.date, adult: bool = False) -> str:
    """``movie_ids_MM_DD_YYYY.json.gz`` (``adult_movie_ids_…`` for adult titles)."""
    return f"{'adult_' if adult else ''}movie_ids_{day:%m_%d_%Y}.json.gz"


def newest_published_day(now: dt.datetime) -> dt.date:
    """The newest day whose export should be on the host at ``now`` (yesterday's before 08:00 UTC)."""
    now = now.astimezone(dt.UTC)
    return now.date() if now.hour >= PUBLISH_HOUR_UTC else now.date() - dt.timedelta(days=1)


@dataclass
class ExportSnapshot:
    """One day's export as stored in the lake, and how it was obtained."""

    day: dt.date
    path: Path
    ids: int
    reused: bool = False
    skipped_days: list[str] = field(default_factory=list)  # "2026-11-01: HTTP 403", newest first
    previous_day: dt.date | None = None
    added: int | None = None  # ids not in the previous snapshot
    removed: int | None = None  # ids of the previous snapshot no longer listed

    def describe(self) -> str:
        text = f"daily ID export of {self.day} ({self.ids:,} movies)"
        if self.skipped_days:
            text += f"; newer days not published: {', '.join(self.skipped_days)}"
        if self.previous_day is not None:
            text += f"; vs {self.previous_day}: +{self.added:,} / -{self.removed:,} ids"
        return text


def parse_export(path: Path, day: dt.date, name: str) -> Iterator[pa.Table]:
    """The lines of one downloaded export as `EXPORT_SCHEMA` tables of at most `BATCH_LINES` rows."""
    rows: list[dict[str, Any]] = []
    line_number = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line_number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                rows.append(_export_row(line, day, name, line_number))
                if len(rows) >= BATCH_LINES:
                    yield pa.Table.from_pylist(rows, schema=EXPORT_SCHEMA)
                    rows = []
    except (EOFError, OSError, zlib.error, UnicodeDecodeError) as exc:
        raise ExportError(
            f"{name} is truncated or corrupt after line {line_number} ({exc}); the files host sent a broken "
            "file: run again later, or check TMDB_EXPORTS_BASE_URL"
        ) from None
    if rows:
        yield pa.Table.from_pylist(rows, schema=EXPORT_SCHEMA)


def _export_row(line: str, day: dt.date, name: str, number: int) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{name} line {number} is not JSON ({exc.msg}); the file is corrupt") from None
    movie_id = item.get("id") if isinstance(item, dict) else None
    if not isinstance(movie_id, int) or isinstance(movie_id, bool) or movie_id <= 0:
        raise ExportError(f"{name} line {number} has no valid movie id: {line[:120]!r}")
    popularity = item.get("popularity")
    return {
        "id": movie_id,
        "original_title": item.get("original_title") if isinstance(item.get("original_title"), str) else None,
        "popularity": float(popularity) if isinstance(popularity, int | float) else None,
        "adult": bool(item.get("adult", False)),
        "video": bool(item.get("video", False)),
        "day": day,
    }


def read_snapshot(lake: Lake, day: dt.date, columns: list[str]) -> pa.Table:
    """``columns`` of the stored snapshot of ``day``; a corrupt one is a `StateFileError` that says what
    really happens without it."""
    return read_state_parquet(
        lake.export_snapshot_file(day), f"the daily ID export snapshot of {day}", columns=columns,
        required={c: EXPORT_SCHEMA.field(c).type for c in columns},
        fix="delete it, or run the sync, which sets it aside: the sync then downloads the newest export again "
            "and reconciles the whole lake with it (no deletion is lost: it compares the lake with the export, "
            "not with the snapshot before); an older day's snapshot is only popularity history",
    )


def set_aside_if_corrupt(lake: Lake, day: dt.date, logger: logging.Logger) -> bool:
    """Move the snapshot of ``day`` aside as ``*.corrupt`` when it cannot be read; True if it did."""
    try:
        read_snapshot(lake, day, ["id"])
    except StateFileError as exc:
        path = lake.export_snapshot_file(day)
        os.replace(path, path.with_suffix(".corrupt"))
        logger.warning("%s; moved aside to %s", exc.problem, path.with_suffix(".corrupt").name)
        return True
    return False


def read_snapshot_ids(lake: Lake, day: dt.date) -> pa.Array:
    """The ids of one stored snapshot."""
    return read_snapshot(lake, day, ["id"]).column("id").combine_chunks()


def listed_ids(lake: Lake, day: dt.date, include_adult: bool, include_video: bool) -> set[int]:
    """The ids of the export of ``day`` under the adult/video policy."""
    table = read_snapshot(lake, day, ["id", "adult", "video"])
    if not include_adult:
        table = table.filter(pc.invert(table.column("adult")))
    if not include_video:
        table = table.filter(pc.invert(table.column("video")))
    return set(table.column("id").to_pylist())


async def _download(client: TMDbClient, base_url: str, name: str, directory: Path) -> Path:
    tmp = create_temporary_file(directory / name)
    try:
        await client.download(f"{base_url}/{name}", tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


async def fetch_export(
    client: TMDbClient,
    lake: Lake,
    *,
    now: dt.datetime,
    include_adult: bool = False,
    logger: logging.Logger | None = None,
) -> ExportSnapshot:
    """Store the newest published daily export as a typed snapshot (see the module docstring)."""
    logger = logger or log
    lake.ensure_writable()
    base_url = client.settings.effective_exports_base_url
    newest = newest_published_day(now)
    skipped: list[str] = []
    for back in range(MAX_FALLBACK_DAYS + 1):
        day = newest - dt.timedelta(days=back)
        if lake.export_snapshot_file(day).exists() and not set_aside_if_corrupt(lake, day, logger):
            snapshot = ExportSnapshot(day, lake.export_snapshot_file(day), len(read_snapshot_ids(lake, day)),
                                      reused=True, skipped_days=skipped)
            return _compare_with_previous(lake, snapshot, logger=logger)
        names = [export_file_name(day)] + ([export_file_name(day, adult=True)] if include_adult else [])
        downloads: list[Path] = []
        try:
            for name in names:
                downloads.append(await _download(client, base_url, name, lake.exports_dir))
        except TMDbFileMissing as exc:
            for path in downloads:  # the day is incomplete (e.g. no adult file yet): nothing of it is kept
                path.unlink(missing_ok=True)
            skipped.append(f"{day}: HTTP {exc.http_status}")
            logger.info("daily export of %s is not published at %s (HTTP %s); trying the day before",
                        day, display_url(base_url), exc.http_status)
            continue
        except TMDbConnectionError as exc:
            for path in downloads:
                path.unlink(missing_ok=True)
            raise ExportError(f"cannot reach the exports host ({exc}); check TMDB_EXPORTS_BASE_URL") from None
        try:
            return _store(lake, day, names, downloads, skipped, logger)
        finally:
            for path in downloads:
                path.unlink(missing_ok=True)
    raise ExportError(
        f"no daily ID export at {display_url(base_url)} for {newest} or the {MAX_FALLBACK_DAYS} days before "
        f"({'; '.join(skipped)}); check TMDB_EXPORTS_BASE_URL (exports are published around 08:00 UTC "
        "and deleted after about three months)"
    )


def _store(
    lake: Lake, day: dt.date, names: list[str], downloads: list[Path], skipped: list[str], logger: logging.Logger
) -> ExportSnapshot:
    parts = [t for name, path in zip(names, downloads, strict=True) for t in parse_export(path, day, name)]
    table = pa.concat_tables(parts) if parts else EXPORT_SCHEMA.empty_table()
    table = table.sort_by([("id", "ascending")])
    ids = table.column("id")
    if len(pc.unique(ids)) != len(ids):
        table = _first_of_each_id(table)
    snapshot = _compare_with_previous(lake, ExportSnapshot(day, lake.export_snapshot_file(day), table.num_rows,
                                                           skipped_days=skipped), table.column("id"), logger=logger)
    if snapshot.previous_day is not None and snapshot.ids == 0 and snapshot.removed:
        raise ExportError(
            f"the export of {day} lists no movie at all, where that of {snapshot.previous_day} listed "
            f"{snapshot.removed:,}: the file is broken; run again later (nothing was written)"
        )
    write_parquet_atomic(table, snapshot.path)
    logger.info("%s", snapshot.describe())
    return snapshot


def _first_of_each_id(table: pa.Table) -> pa.Table:
    """Drop repeated ids (an id listed twice, e.g. in both files), keeping the first row of each."""
    ids = table.column("id").to_numpy()
    keep = [True] + [bool(a != b) for a, b in zip(ids[1:], ids[:-1], strict=True)]
    return table.filter(pa.array(keep))


def previous_snapshot_day(lake: Lake, day: dt.date, logger: logging.Logger | None = None) -> dt.date | None:
    """The newest readable snapshot before ``day`` (unreadable ones are set aside on the way), or None."""
    for earlier in reversed([d for d in lake.export_days() if d < day]):
        if not set_aside_if_corrupt(lake, earlier, logger or log):
            return earlier
    return None


def _compare_with_previous(lake: Lake, snapshot: ExportSnapshot, ids: pa.ChunkedArray | None = None, *,
                           logger: logging.Logger) -> ExportSnapshot:
    previous_day = previous_snapshot_day(lake, snapshot.day, logger)
    if previous_day is None:
        return snapshot
    earlier = [previous_day]
    previous_ids = read_snapshot_ids(lake, earlier[-1])
    current = ids if ids is not None else read_snapshot_ids(lake, snapshot.day)
    snapshot.previous_day = earlier[-1]
    snapshot.added = int(pc.sum(pc.invert(pc.is_in(current, value_set=previous_ids))).as_py() or 0)
    snapshot.removed = int(pc.sum(pc.invert(pc.is_in(previous_ids, value_set=current))).as_py() or 0)
    return snapshot
