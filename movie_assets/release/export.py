"""CSV export in the earlier tool's flat layout, for people who consume that file.

Columns (in this order): ``adult, backdrop_path, genre_ids, id, original_language, original_title, overview,
popularity, poster_path, release_date, title, video, vote_average, vote_count, runtime, actors, directors``.
Unlike the earlier tool, list fields are JSON arrays: ``genre_ids`` like ``[18, 53]``, ``actors`` and
``directors`` arrays of names (cast in billing order), so names containing commas survive. Missing values
are empty cells; booleans are ``True``/``False`` as pandas writes them. Rows are those with a release date
in ``[start, end]`` (inclusive), sorted by ``(release_date, id)``; adult titles only when asked.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import Lake, atomic_path

from .common import ConfigValueError, ReleaseError, parse_iso_date

EXPORT_COLUMNS = (
    "adult", "backdrop_path", "genre_ids", "id", "original_language", "original_title", "overview",
    "popularity", "poster_path", "release_date", "title", "video", "vote_average", "vote_count", "runtime",
    "actors", "directors",
)
SOURCE_COLUMNS = (
    "adult", "backdrop_path", "genre_ids", "movie_id", "original_language", "original_title", "overview",
    "popularity", "poster_path", "release_date", "title", "video", "vote_average", "vote_count", "runtime",
    "cast", "directors",
)
JSON, COMMA = "json", "comma"


# -- list cells (shared with the credit backfill) ------------------------------------------------------
def format_names(names: Iterable[str | None], fmt: str) -> str:
    """A list of names as one cell: a JSON array, or the earlier tool's ``", "``-joined string."""
    clean = [n for n in names if n is not None]
    if fmt == COMMA:
        return ", ".join(clean)
    return json.dumps(clean, ensure_ascii=False)


def is_blank_list_cell(cell: str | None) -> bool:
    """Empty, whitespace or an empty JSON array."""
    text = (cell or "").strip()
    return text == "" or text.replace(" ", "") == "[]"


def _is_json_list(cell: str) -> bool:
    text = cell.strip()
    if not text.startswith("["):
        return False
    try:
        return isinstance(json.loads(text), list)
    except json.JSONDecodeError:
        return False


def detect_list_format(cells: Iterable[str | None]) -> str | None:
    """``json`` when every non-blank cell is a JSON array, ``comma`` when any is not, None when all are blank."""
    seen = False
    for cell in cells:
        if cell is None or not cell.strip():
            continue
        seen = True
        if not _is_json_list(cell):
            return COMMA
    return JSON if seen else None


# -- export ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportWindow:
    start: dt.date
    end: dt.date
    include_adult: bool = False

    @property
    def filename(self) -> str:
        return f"movies_{self.start.isoformat()}_{self.end.isoformat()}.csv"


def resolve_window(table: pa.Table, start_date: str | None, end_date: str | None,
                   include_adult: bool = False) -> ExportWindow:
    """Validate the configured window; a blank bound defaults to the data's first/last release date."""
    start = parse_iso_date(start_date, "start_date")
    end = parse_iso_date(end_date, "end_date")
    if start is None or end is None:
        dated = table.column("release_date").drop_null()
        if len(dated) == 0 and (start is None or end is None):
            raise ReleaseError("no movie has a release_date; set start_date and end_date explicitly")
        start = start or pc.min(dated).as_py()
        end = end or pc.max(dated).as_py()
    if start > end:
        raise ConfigValueError(f"start_date={start.isoformat()} is after end_date={end.isoformat()}")
    return ExportWindow(start, end, include_adult)


def select_rows(table: pa.Table, window: ExportWindow) -> pa.Table:
    dates = table.column("release_date")
    mask = pc.and_(
        pc.greater_equal(dates, pa.scalar(window.start, pa.date32())),
        pc.less_equal(dates, pa.scalar(window.end, pa.date32())),
    )
    if not window.include_adult:
        mask = pc.and_(mask, pc.invert(pc.fill_null(table.column("adult"), False)))
    selected = table.filter(pc.fill_null(mask, False))
    return selected.sort_by([("release_date", "ascending"), ("movie_id", "ascending")])


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_row(row: dict[str, Any]) -> list[str]:
    out = []
    for column, source in zip(EXPORT_COLUMNS, SOURCE_COLUMNS, strict=True):
        value = row.get(source)
        if column == "genre_ids":
            out.append(json.dumps([int(g) for g in value or []]))
        elif column in ("actors", "directors"):
            out.append(format_names((p.get("name") for p in value or []), JSON))
        else:
            out.append(_scalar(value))
    return out


def write_csv(rows: Iterable[Sequence[str]], header: Sequence[str], target: Path) -> Path:
    """Write a CSV atomically (temp file + rename), ``\\n`` line endings, minimal quoting."""
    with atomic_path(target) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    return target


def export_csv(lake: Lake, table: pa.Table, window: ExportWindow) -> tuple[Path, pa.Table]:
    """Write ``<data dir>/movies_START_END.csv``; returns its path and the exported rows."""
    selected = select_rows(table, window)
    columns = [c for c in SOURCE_COLUMNS if c in selected.column_names]
    rows = (csv_row(r) for batch in selected.select(columns).to_batches(max_chunksize=5_000)
            for r in batch.to_pylist())
    target = lake.export_file(window.filename)
    write_csv(rows, EXPORT_COLUMNS, target)
    return target, selected
