"""Catalog sync against a living catalog: full-sync cost, incremental cost per changed movie, exactness.

    python benchmarks/bench_sync.py --quick      # ≈ 12k movies, 30 simulated days (a couple of minutes)
    python benchmarks/bench_sync.py              # ≈ 120k movies, 30 simulated days

A standalone emulator (its own process) serves a living catalog; the clock is moved one day at a time over
HTTP and one `sync` runs per day. Figures:

* full sync: requests per listed movie (target ≤ 1.01 with the export as the id source);
* incremental: requests ÷ (changed + new movies), over all the days, and the worst day's requests against
  the issue's bound 1.2 × (changed + new) + 20;
* exactness after the last day: the lake's (movie id → year) against the truth, computed from an identical
  catalog in this process (the catalog is a pure function of its seed and day): missing, extra and
  misplaced counts, which must all be 0.
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import emulator_process, report  # noqa: E402

from movie_assets.emulator import Catalog, ChurnRates, RemoteEmulator  # noqa: E402
from movie_assets.harvest import sync as catalog_sync  # noqa: E402
from movie_assets.lake import Lake  # noqa: E402
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402
from movie_assets.warehouse.build import read_movies  # noqa: E402

SEED = 31
START = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


async def one_sync(base_url: str, root: str, lake: Lake, rate: float) -> catalog_sync.SyncReport:
    settings = TMDbSettings(base_url=base_url, exports_base_url=f"{root}/p/exports", requests_per_second=rate,
                            max_connections=64, max_attempts=6, backoff_base=0.05, backoff_max=1.0)
    async with TMDbClient(settings) as client:
        return await catalog_sync.sync(client, lake, batch_size=1000, concurrency=64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--movies-per-year", type=int, default=None)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rate", type=float, default=3000.0)
    args = parser.parse_args()
    per_year = args.movies_per_year or (300 if args.quick else 3000)
    rates = ChurnRates()  # TMDb-like daily rates: 0.03 % of movies move, 0.01 % go, 0.05 % are added
    catalog = Catalog(seed=SEED, movies_per_year=per_year, churn=rates)
    emulator_args = [
        "--seed", str(SEED), "--movies-per-year", str(per_year), "--as-of", START.isoformat(),
        "--churn-move", str(rates.move), "--churn-delete", str(rates.delete), "--churn-add", str(rates.add),
    ]
    with tempfile.TemporaryDirectory() as tmp, emulator_process(*emulator_args) as base_url:
        root = base_url.rsplit("/3", 1)[0]
        lake = Lake.at(Path(tmp) / "data")
        started = time.monotonic()
        full = asyncio.run(one_sync(base_url, root, lake, args.rate))
        full_seconds = time.monotonic() - started
        days = []
        for _ in range(args.days):
            RemoteEmulator(root).advance(1)
            days.append(asyncio.run(one_sync(base_url, root, lake, args.rate)))
        catalog.set_day(START.date() + dt.timedelta(days=args.days))
        expected = catalog.live_movies()
        table = read_movies(lake)
        movies = dict(zip(table.column("movie_id").to_pylist(), table.column("year").to_pylist(), strict=True))
    touched = sum(d.changed + d.new for d in days)
    requests = sum(d.requests for d in days)
    worst = max(days, key=lambda d: d.requests - (1.2 * (d.changed + d.new) + 20))
    report(
        "catalog_sync",
        {
            "movies_listed": full.listed,
            "full_requests": full.requests,
            "full_requests_per_movie": round(full.requests / full.listed, 4),
            "full_seconds": round(full_seconds, 1),
            "days": args.days,
            "incremental_changed_plus_new": touched,
            "incremental_requests": requests,
            "incremental_requests_per_changed_movie": round(requests / max(1, touched), 3),
            "worst_day_requests": worst.requests,
            "worst_day_bound": round(1.2 * (worst.changed + worst.new) + 20, 1),
            "vanished_total": sum(d.vanished for d in days),
            "after_days_missing": len(set(expected) - set(movies)),
            "after_days_extra": len(set(movies) - set(expected)),
            "after_days_misplaced": sum(1 for i in movies if i in expected and movies[i] != expected[i]),
            "after_days_duplicates": table.num_rows - len(movies),
            "after_days_undated": sum(1 for y in movies.values() if y is None),
            "targets": "full <= 1.01 requests/movie; each day <= 1.2 x (changed+new) + 20; 0 missing/extra/misplaced",
        },
    )


if __name__ == "__main__":
    main()
