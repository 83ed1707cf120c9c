"""Yearly partitions, defined once. The current (partial) year is included."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

DEFAULT_START_YEAR = 1900


def start_year_from_env() -> int:
    """``MOVIE_ASSETS_START_YEAR`` (default 1900), validated against the current year."""
    raw = os.environ.get("MOVIE_ASSETS_START_YEAR", "").strip() or str(DEFAULT_START_YEAR)
    try:
        year = int(raw)
    except ValueError:
        raise ValueError(f"MOVIE_ASSETS_START_YEAR={raw!r} is not a year") from None
    current = dt.datetime.now(dt.UTC).year
    if not 1874 <= year <= current:
        raise ValueError(
            f"MOVIE_ASSETS_START_YEAR={year} must be between 1874 (the oldest films) and the current year {current}"
        )
    return year


def yearly_partitions_def(start_year: int) -> dg.TimeWindowPartitionsDefinition:
    return dg.TimeWindowPartitionsDefinition(
        start=str(start_year),
        fmt="%Y",
        cron_schedule="0 0 1 1 *",
        timezone="UTC",
        end_offset=1,  # include the year in progress: TMDb already lists its releases
    )


yearly_partitions = yearly_partitions_def(start_year_from_env())


def partition_year(partition_key: str) -> int:
    """The year of a partition key, with a clear error for anything that is not one of ours."""
    keys = yearly_partitions.get_partition_keys()
    if partition_key not in keys:
        raise ValueError(
            f"unknown partition {partition_key!r}: partitions run from {keys[0]} to {keys[-1]} "
            "(set MOVIE_ASSETS_START_YEAR to start earlier)"
        )
    return int(partition_key)
