"""Incremental refresh benchmark: what a refresh of a harvested year costs next to harvesting it.

    python benchmarks/bench_incremental.py [--movies-per-year 20000] [--year 2024] [--days 10] [--quick]

1. Harvest one year fully with the library (`run_discover`, `run_details`, `build_movies_year`).
2. Re-materialize it with nothing changed (discover re-check + details from the store).
3. Refresh it the way `changes_sensor` does: read `/movie/changes` for the last ``--days`` days (the
   emulator changes ~0.1 % of movies a day, so 10 days ≈ 1 %), map ids to the year with
   `refresh.affected_years`, then re-run discover + details with ``refetch`` = those ids + the typed year.

Requests are counted by the emulator (its own process, frozen clock 2026-11-01). The `/movie/changes`
pages cover the whole catalog, not one year: they are reported apart, and amortised over every year.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emulator_process, emulator_stats, report, reset_emulator  # noqa: E402

from movie_assets.harvest import changes as refresh  # noqa: E402
from movie_assets.harvest import stages  # noqa: E402
from movie_assets.lake import (
    Lake,  # noqa: E402
    readers,  # noqa: E402
)
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402

AS_OF = dt.date(2026, 11, 1)
YEARS_IN_CATALOG = 2026 - 1900 + 1


def requests_by_path(base_url: str) -> dict[str, int]:
    stats = emulator_stats(base_url)
    return {"total": stats["requests_total"], **stats["by_path"]}


async def run(base_url: str, lake: Lake, year: int, days: int, rate: float) -> dict:
    settings = TMDbSettings(base_url=base_url, requests_per_second=rate, max_connections=50)
    async with TMDbClient(settings) as client:
        reset_emulator(base_url)
        started = time.monotonic()
        await stages.harvest_year(client, lake, year, concurrency=50, batch_size=1000)
        full_seconds = time.monotonic() - started
        full = requests_by_path(base_url)
        movies = len(readers.discover_ids(lake, year))

        reset_emulator(base_url)
        started = time.monotonic()
        await stages.harvest_year(client, lake, year, concurrency=50, batch_size=1000)
        unchanged_seconds = time.monotonic() - started
        unchanged = requests_by_path(base_url)

        reset_emulator(base_url)
        started = time.monotonic()
        today = await refresh.server_today(client)
        changes = await refresh.changed_ids_since(client, today - dt.timedelta(days=days - 1), today)
        changes_requests = requests_by_path(base_url)["total"]
        ids = refresh.affected_years(lake, changes.ids).get(year, [])
        await stages.harvest_year(client, lake, year, refetch=set(ids), concurrency=50, batch_size=1000)
        refresh_seconds = time.monotonic() - started
        refreshed = requests_by_path(base_url)

    year_requests = refreshed["total"] - changes_requests  # what the year's refresh run itself cost
    return {
        "year": year,
        "movies": movies,
        "changed_days": days,
        "changed_in_year": len(ids),
        "changed_share": round(len(ids) / movies, 4) if movies else 0.0,
        "full_requests": full["total"],
        "full_details_requests": full.get("movie", 0),
        "full_seconds": round(full_seconds, 2),
        "unchanged_requests": unchanged["total"],
        "unchanged_over_full": round(unchanged["total"] / full["total"], 4),
        "unchanged_seconds": round(unchanged_seconds, 2),
        "refresh_year_requests": year_requests,
        "refresh_details_requests": refreshed.get("movie", 0),
        "refresh_discover_check_requests": refreshed.get("discover", 0),
        "refresh_over_full": round(year_requests / full["total"], 4),
        "refresh_details_over_full_details": round(refreshed.get("movie", 0) / max(1, full.get("movie", 0)), 4),
        "changes_requests_whole_catalog": changes_requests,
        "changes_ids_whole_catalog": len(changes.ids),
        "changes_requests_per_year_amortised": round(changes_requests / YEARS_IN_CATALOG, 2),
        "refresh_seconds": round(refresh_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movies-per-year", type=int, default=20_000)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--days", type=int, default=10, help="days of /movie/changes (≈0.1 %% of movies a day)")
    parser.add_argument("--rate", type=float, default=1000.0, help="client requests/second")
    parser.add_argument("--quick", action="store_true", help="a 3,000-movie peak year (CI)")
    args = parser.parse_args()
    movies_per_year = 3000 if args.quick else args.movies_per_year
    with emulator_process("--movies-per-year", str(movies_per_year), "--seed", "42") as base_url, \
            tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(run(base_url, Lake.at(Path(tmp) / "data"), args.year, args.days, args.rate))
    figures["target"] = "refresh_over_full ≈ changed_share + discover check; unchanged_over_full ≈ discover check"
    report("incremental_refresh", figures)


if __name__ == "__main__":
    main()
