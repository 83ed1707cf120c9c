"""Helpers shared by the release functions."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.lake import Lake

UNDATED = "undated"


class ReleaseError(RuntimeError):
    """A release step cannot run; the message says what to do."""


def repo_root(lake: Lake) -> Path:
    """The directory release paths are relative to: the parent of the data dir."""
    return lake.root.resolve().parent


def relative_to_root(lake: Lake, path: Path) -> str:
    """``path`` relative to `repo_root`. Links inside the data dir are kept: a year file is listed through
    ``movies_parquet/``, never by the generation it is in now."""
    inside = os.path.relpath(os.path.abspath(path), os.path.abspath(lake.root))
    if not inside.startswith(os.pardir):
        return (Path(lake.root.resolve().name) / inside).as_posix()
    return Path(os.path.relpath(path.resolve(), repo_root(lake))).as_posix()


def read_consolidated(lake: Lake, columns: Iterable[str] | None = None) -> pa.Table:
    """The consolidated ``movies.parquet`` written by ``movies_db``."""
    if not lake.movies_file.exists():
        raise ReleaseError(f"{lake.movies_file} does not exist; materialize movies_db first")
    return pq.read_table(lake.movies_file, columns=list(columns) if columns is not None else None)


def year_key(year: int | None) -> str:
    return UNDATED if year is None else str(year)


def rows_per_year(table: pa.Table) -> dict[str, int]:
    """``{"2020": n, …, "undated": m}`` in year order (undated last)."""
    counts = pc.value_counts(table.column("year")).to_pylist()
    ordered = sorted(counts, key=lambda c: (c["values"] is None, c["values"] or 0))
    return {year_key(c["values"]): int(c["counts"]) for c in ordered}


JSON, COMMA = "json", "comma"  # the list cell formats: a JSON array, or names joined by ", "


def format_names(names: Iterable[str | None], fmt: str) -> str:
    """A list of names as one cell: a JSON array, or the earlier tool's ``", "``-joined string."""
    clean = [n for n in names if n is not None]
    if fmt == COMMA:
        return ", ".join(clean)
    return json.dumps(clean, ensure_ascii=False)


def csv_cell(value: Any) -> str:
    """One scalar as a CSV cell, as pandas writes it: missing empty, ``True``/``False``, floats round-trip,
    dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class ConfigValueError(ValueError):
    """A configuration value is unusable; the message names the field."""


def parse_iso_date(value: str | None, field: str) -> dt.date | None:
    """``"2024-01-31"`` → date; None/blank → None; anything else → `ConfigValueError` naming ``field``."""
    if value is None or not str(value).strip():
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigValueError(f"{field}={value!r} is not a valid ISO date (YYYY-MM-DD)") from None
