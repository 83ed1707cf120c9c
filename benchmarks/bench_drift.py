"""Drift benchmark: requests per movie harvesting a year from a server whose popularity drifts between pages.

    python benchmarks/bench_drift.py [--movies-per-year 40000] [--drift 0.003] [--quick]

Two years are harvested (discover + details, the code the `discover_movies` and `movie_details` assets run)
against the in-process emulator with ``EmulatorOptions(drift=...)``: a normal year, and a dense one whose
January 1 holds ~11k films (more than discover's 10,000-result cap, so that day is split on vote_count).
Discover sorts by release date, so movies released the same day are ordered by popularity, which moves
between requests: pages that straddle a day can skip or repeat movies, and the harvester has to repair them.

For each year: the server-side count of discover + details requests ÷ movies, and completeness judged by id
sets against the catalog's ground truth (every movie of the year found, none twice, nothing else). The
headline ``requests_per_movie`` is the worse of the two years; a year that is not exact fails the script.
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
from common import report  # noqa: E402

from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator  # noqa: E402
from movie_assets.harvest import stages  # noqa: E402
from movie_assets.lake import (
    Lake,  # noqa: E402
    readers,  # noqa: E402
)
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402

DENSE_DAY_MOVIES = 11_000


async def harvest(base_url: str, lake: Lake, year: int, details: bool) -> dict:
    settings = TMDbSettings(base_url=base_url, requests_per_second=5000, max_connections=64)
    async with TMDbClient(settings) as client:
        discover = await stages.run_discover(client, lake, year)
        if details:
            await stages.run_details(client, lake, year, concurrency=64, batch_size=2000)
    return {"discover_requests": discover.requests, "windows": discover.windows}


def one_year(label: str, movies_per_year: int, day_cluster: float | None, drift: float, year: int,
             details: bool, seed: int) -> dict:
    catalog = Catalog(seed=seed, movies_per_year=movies_per_year, first_year=year - 4, last_year=year + 2,
                      day_cluster=day_cluster)
    truth = catalog.discover_ids(dt.date(year, 1, 1), dt.date(year, 12, 31))
    jan1 = len(catalog.discover_ids(dt.date(year, 1, 1), dt.date(year, 1, 1)))
    started = time.monotonic()
    options = EmulatorOptions(drift=drift, seed=seed)
    with tempfile.TemporaryDirectory() as tmp, running_emulator(catalog, options) as emu:
        lake = Lake.at(Path(tmp) / "data")
        asyncio.run(harvest(emu.base_url, lake, year, details))
        by_path = emu.stats()["by_path"]
        found = readers.discover_ids(lake, year)
    seconds = time.monotonic() - started
    discover_requests = by_path.get("discover", 0)
    details_requests = by_path.get("movie", 0) if details else len(found)  # discover-only: one call a movie
    exact = len(found) == len(set(found)) and set(found) == set(truth)
    return {
        "year": label,
        "movies": len(truth),
        "jan1_movies": jan1,
        "exact": exact,
        "missing": len(set(truth) - set(found)),
        "extra": len(set(found) - set(truth)) + len(found) - len(set(found)),
        "discover_requests": discover_requests,
        "details_requests": details_requests,
        "requests_per_movie": round((discover_requests + details_requests) / len(truth), 4),
        "discover_requests_per_page_floor": round(discover_requests / (len(truth) / 20), 3),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movies-per-year", type=int, default=40_000)
    parser.add_argument("--drift", type=float, default=0.003,
                        help="popularity noise per discover request (EmulatorOptions.drift)")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--discover-only", action="store_true",
                        help="skip the details stage and count one details call per movie (it costs exactly that)")
    parser.add_argument("--quick", action="store_true", help="discover only (about a minute)")
    args = parser.parse_args()
    details = not (args.discover_only or args.quick)
    years = []
    normal = one_year("normal", args.movies_per_year, None, args.drift, args.year, details, args.seed)
    years.append(normal)
    # The share of the year dated January 1 that puts ~11k films on that day.
    cluster = DENSE_DAY_MOVIES / normal["movies"]
    years.append(one_year("dense_day", args.movies_per_year, cluster, args.drift, args.year, details, args.seed))
    for y in years:
        print(f"   {y}", flush=True)
    if not all(y["exact"] for y in years):
        raise SystemExit(f"a drifting year was not harvested exactly: {years}")
    worst = max(years, key=lambda y: y["requests_per_movie"])
    report(
        "harvest_drift",
        {
            "drift": args.drift,
            "movies_per_year": args.movies_per_year,
            "details": "fetched" if details else "counted (one call per movie)",
            "requests_per_movie": worst["requests_per_movie"],
            "worst_year": worst["year"],
            "years": years,
            "targets": "requests/movie <= 1.06 on both years, ids exact",
        },
    )


if __name__ == "__main__":
    main()
