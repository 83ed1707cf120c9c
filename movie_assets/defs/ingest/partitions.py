"""Yearly partitions of the ingest assets, defined once. The current (partial) year is included."""

from __future__ import annotations

import dagster as dg

from movie_assets.settings import START_YEAR_ENV, start_year_from_env


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
            f"(set {START_YEAR_ENV} to start earlier)"
        )
    return int(partition_key)
