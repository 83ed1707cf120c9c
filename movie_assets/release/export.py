"""CSV export of the movies with a release date in ``[start, end]`` (inclusive), sorted by
``(release_date, id)``, adult titles only when asked, in one of two layouts (`LAYOUTS`):

- ``seed`` (the default; ``movies_START_END.csv``): the earlier tool's flat layout, for people who consume
  that file. Columns (in this order): ``adult, backdrop_path, genre_ids, id, original_language,
  original_title, overview, popularity, poster_path, release_date, title, video, vote_average, vote_count,
  runtime, actors, directors``. Unlike the earlier tool, list fields are JSON arrays: ``genre_ids`` like
  ``[18, 53]``, ``actors`` and ``directors`` arrays of names (cast in billing order), so names containing
  commas survive. Missing values are empty cells; booleans are ``True``/``False`` as pandas writes them.
- ``kaggle`` (``movies_START_END_kaggle.csv``): the columns and encodings of a widely used Kaggle dump of
  TMDb (`movie_assets.release.kaggle`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import Lake, atomic_path

from . import kaggle
from .common import COMMA, JSON, ConfigValueError, ReleaseError, csv_cell, format_names, parse_iso_date

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


# -- list cells (shared with the credit backfill) ------------------------------------------------------
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


def csv_row(row: dict[str, Any]) -> list[str]:
    """One `movies` row (with `SOURCE_COLUMNS`) as the cells of the seed layout's `EXPORT_COLUMNS`."""
    out = []
    for column, source in zip(EXPORT_COLUMNS, SOURCE_COLUMNS, strict=True):
        value = row.get(source)
        if column == "genre_ids":
            out.append(json.dumps([int(g) for g in value or []]))
        elif column in ("actors", "directors"):
            out.append(format_names((p.get("name") for p in value or []), JSON))
        else:
            out.append(csv_cell(value))
    return out


_LINE_BREAK = re.compile(r"\r\n?")


def write_csv(rows: Iterable[Sequence[str]], header: Sequence[str], target: Path) -> Path:
    """Write a CSV atomically (temp file + rename), ``\\n`` line endings, minimal quoting."""
    with atomic_path(target) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            # A line break inside a cell is written as "\n": the csv module leaves a cell holding a lone "\r"
            # unquoted, which breaks the row.
            writer.writerows([_LINE_BREAK.sub("\n", cell) for cell in row] for row in rows)
    return target


@dataclass(frozen=True)
class CsvLayout:
    """A layout of the export: its header, the `movies` columns its rows are written from, how one row is
    written, and what its file name adds to ``movies_START_END``."""

    name: str
    header: tuple[str, ...]
    source_columns: tuple[str, ...]
    row: Callable[[dict[str, Any]], list[str]]
    suffix: str = ""

    def file_name(self, window: ExportWindow) -> str:
        return f"{Path(window.filename).stem}{self.suffix}.csv"


SEED, KAGGLE = "seed", "kaggle"
LAYOUTS = {
    SEED: CsvLayout(SEED, EXPORT_COLUMNS, SOURCE_COLUMNS, csv_row),
    KAGGLE: CsvLayout(KAGGLE, kaggle.KAGGLE_COLUMNS, kaggle.SOURCE_COLUMNS, kaggle.kaggle_row, "_kaggle"),
}


def csv_layout(name: str | None) -> CsvLayout:
    """The layout called ``name`` (blank: ``seed``); any other value raises `ConfigValueError` naming ``layout``."""
    key = (name or "").strip() or SEED
    if key not in LAYOUTS:
        raise ConfigValueError(f"layout={name!r} is not a CSV layout; use one of {', '.join(map(repr, LAYOUTS))}")
    return LAYOUTS[key]


def export_csv(lake: Lake, table: pa.Table, window: ExportWindow,
               layout: CsvLayout = LAYOUTS[SEED]) -> tuple[Path, pa.Table]:
    """Write ``<data dir>/movies_START_END.csv`` (``…_kaggle.csv`` in that layout); returns its path and the
    exported rows."""
    selected = select_rows(table, window)
    lacking = [c for c in layout.source_columns if c not in selected.column_names]
    if lacking:  # a movies.parquet built by an older release: never a column of blanks
        raise ReleaseError(f"movies.parquet lacks {', '.join(lacking)} (built by an older release); materialize "
                           "`movies` and `movies_db` (or run `movie-assets sync`) first")
    columns = list(layout.source_columns)
    rows = (layout.row(r) for batch in selected.select(columns).to_batches(max_chunksize=5_000)
            for r in batch.to_pylist())
    target = lake.export_file(layout.file_name(window))
    write_csv(rows, layout.header, target)
    return target, selected
