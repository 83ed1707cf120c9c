"""Pools, retry policies and run tags shared by the domains, defined once so a typo cannot create a new,
unlimited pool or a second retry rule."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from movie_assets.harvest.discover import WindowTooDense
from movie_assets.lake import LakeError
from movie_assets.settings import catalog_policy_from_env
from movie_assets.tmdb.errors import TMDbAuthError, TMDbRequestError

# The adult/video policy (MOVIE_ASSETS_INCLUDE_ADULT / _VIDEO), the default of every asset that applies it.
CATALOG_POLICY = catalog_policy_from_env()

# dagster.yaml gives every pool a limit of 1: one TMDb-calling step and one DuckDB writer at a time.
TMDB_POOL = "tmdb"
DUCKDB_POOL = "duckdb"
POOLS = (TMDB_POOL, DUCKDB_POOL)

# Transient failures the client could not absorb (e.g. TMDb down for minutes) get a second chance.
TMDB_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL)
# Failures that a retry cannot fix: the user has to change a setting first.
PERMANENT_ERRORS = (TMDbAuthError, TMDbRequestError, WindowTooDense, LakeError, ValueError)

# Retry a run once when the run itself died; step failures are retried by the assets' RetryPolicy.
RUN_RETRY_TAGS = {
    "dagster/max_retries": "1",
    "dagster/retry_strategy": "FROM_FAILURE",
    "dagster/retry_on_asset_or_op_failure": "false",
}

# Assets downstream of unpartitioned assets follow them as soon as they update.
FOLLOW_UPSTREAM = dg.AutomationCondition.eager()

# A yearly partition that follows the same partition upstream (movie_embeddings[Y] after movies[Y]), in every
# year: `eager()` alone acts on the latest time window only, but a backfill or a sync rewrites old years too.
FOLLOW_UPSTREAM_EVERY_YEAR = (
    dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
).with_label("eager, in every year")

# For unpartitioned assets that read every year (AllPartitionMapping). `eager()` would never fire for them:
# its `~any_deps_missing()` is true while any of the ~127 years is unharvested. Instead: rebuild after any
# year updated, once no year is being materialized (so a 50-year backfill triggers one rebuild).
AFTER_ANY_YEAR_UPDATED = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after any year updated, when no year is in progress")


@contextlib.contextmanager
def fail_fast_on_bad_input() -> Iterator[None]:
    """Turn errors that need a user's fix into a `dg.Failure` that the retry policy does not retry."""
    try:
        yield
    except PERMANENT_ERRORS as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
