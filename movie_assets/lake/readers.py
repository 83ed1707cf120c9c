"""Readers of lake files that several domains share: the discover snapshot of a year, its ids, the reference
data rows are built with (image base URL, genre names), and any Parquet file whose corruption must be
reported as "delete it and re-materialize", never as an Arrow traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.lake.paths import Lake
from movie_assets.lake.state import MapOf, is_corrupt_parquet_error, read_state_json, read_state_parquet

REFERENCE_SHAPE = {"image_base_url": (str, None), "genres": MapOf(str)}


class LakeInputError(RuntimeError):
    """A file a step reads is missing or unreadable; the message names what to materialize (or delete)."""


def read_parquet(path: Path, **kwargs: Any) -> pa.Table:
    """Read one lake file; one whose content is corrupt is a `LakeInputError` that says how to rebuild it (an
    error of the machine — too many open files, a failing disk — propagates as it is: deleting would not help)."""
    return _readable(path, lambda: pq.read_table(path, **kwargs))


def read_parquet_schema(path: Path) -> pa.Schema:
    """The schema (and key-value metadata) of one lake file, with `read_parquet`'s errors."""
    return _readable(path, lambda: pq.read_schema(path))


def _readable(path: Path, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except (OSError, pa.ArrowException) as exc:
        if not is_corrupt_parquet_error(exc):
            raise
        raise LakeInputError(
            f"{path} is unreadable ({exc}); delete it and re-materialize the asset that writes it"
        ) from None


def rediscover_fix(year: int) -> str:
    """What to do about a damaged discover output of ``year``."""
    return f"delete it and re-materialize the partition {year} of discover_movies (which writes it again)"


def read_discover(lake: Lake, year: int, columns: list[str] | None = None) -> pa.Table:
    """The discover snapshot of ``year`` (``columns`` of it); `StateFileError` when it is corrupt."""
    return read_state_parquet(lake.discover_file(year), f"the discover snapshot of {year}", columns=columns,
                              required={"movie_id": pa.int64()}, fix=rediscover_fix(year))


def discover_ids(lake: Lake, year: int) -> list[int]:
    """The ids discover found for ``year``; a `LakeInputError` when discover has not run for it."""
    path = lake.discover_file(year)
    if not path.exists():
        raise LakeInputError(f"no discover output for {year} at {path}; materialize discover_movies for {year} first")
    return read_discover(lake, year, ["movie_id"]).column("movie_id").to_pylist()


def _reference(data: dict[str, Any]) -> dict[str, Any]:
    for key in data["genres"]:
        int(key)  # genre ids
    return data


def load_reference(lake: Lake, year: int | None = None) -> dict[str, Any]:
    """The image base URL and genre names to build rows with: the year's own (from its discover run) when
    there is one, else the lake-wide one."""
    if year is not None and lake.discover_reference_file(year).exists():
        return read_state_json(lake.discover_reference_file(year), f"the reference data of {year}",
                               shape=REFERENCE_SHAPE, parse=_reference, fix=rediscover_fix(year))
    if lake.reference_file.exists():
        return read_state_json(lake.reference_file, "the reference data", shape=REFERENCE_SHAPE, parse=_reference,
                               fix="delete it and run movie-assets sync (or materialize any discover_movies "
                                   "partition), which writes it again")
    raise LakeInputError(
        f"no reference data under {lake.root}; materialize discover_movies or run movie-assets sync")
