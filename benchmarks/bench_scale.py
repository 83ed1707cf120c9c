"""Scale benchmark: wall time and peak RSS of harvesting a whole (simulated) catalog in one process.

    python benchmarks/bench_scale.py                 # full: 30,000 movies in a peak year ≈ 1.19M movies
    python benchmarks/bench_scale.py --quick         # ≈ 120k movies (peak year 3,040), checkpoint at 30k
    python benchmarks/bench_scale.py --movies-per-year 10000 --checkpoint-movies 100000

The emulator runs in its own process with a raised rate limit; every year from the first to the last is
harvested with the library functions the ingest assets call (`run_discover`, `run_details`,
`build_movies_year`), one client per year as Dagster would open one per step, and the process RSS is
read after each year. Memory is flat when the peak RSS after the whole catalog is about the peak RSS
after the first ``--checkpoint-movies`` movies; as one year is held in memory at a time (its details, then its
typed table), the peak follows the largest year so far (also reported), not the catalog. When the run is
scaled down, the wall time is also extrapolated linearly (the harvest is request-bound: time ∝ requests)
to the full 1.19M catalog.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emulator_process, emulator_stats, report  # noqa: E402

from movie_assets.emulator import Catalog  # noqa: E402
from movie_assets.harvest import stages  # noqa: E402
from movie_assets.lake import Lake  # noqa: E402
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402
from movie_assets.warehouse import build as warehouse  # noqa: E402

FULL_MOVIES_PER_YEAR = 30_000


def rss_mb() -> float:
    """Current resident set size of this process (VmRSS), in MiB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def harvest_catalog(base_url: str, lake: Lake, years: list[int], args: argparse.Namespace) -> list[dict]:
    settings = TMDbSettings(base_url=base_url, requests_per_second=args.rate, max_connections=max(20, args.concurrency),
                            backoff_base=0.05, backoff_max=2.0, max_attempts=10)
    rows: list[dict] = []
    cumulative = 0
    started = time.monotonic()
    for year in years:
        async with TMDbClient(settings) as client:
            harvest = await stages.harvest_year(client, lake, year, concurrency=args.concurrency,
                                                batch_size=args.batch_size)
        table_rows = harvest.table.num_rows
        cumulative += table_rows
        del harvest
        largest = max(table_rows, rows[-1]["largest_year"] if rows else 0)
        rows.append({"year": year, "movies": cumulative, "largest_year": largest, "seconds": time.monotonic() - started,
                     "rss_mb": rss_mb(), "peak_mb": peak_mb()})
        if year % 10 == 0 or year == years[-1]:
            r = rows[-1]
            print(f"   {year}: {cumulative:>9} movies {r['seconds']:8.1f}s rss {r['rss_mb']:7.1f} MiB "
                  f"peak {r['peak_mb']:7.1f} MiB", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="≈120k movies, RSS compared at 30k")
    parser.add_argument("--movies-per-year", type=int, default=None, help="peak-year size (default 30000)")
    parser.add_argument("--checkpoint-movies", type=int, default=None,
                        help="compare peak RSS at this many movies with the end (default 100000; quick 30000)")
    parser.add_argument("--first-year", type=int, default=1900)
    parser.add_argument("--last-year", type=int, default=2026)
    parser.add_argument("--rate", type=float, default=3000.0, help="emulator limit = client rate (requests/s)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--with-db", action="store_true",
                        help="also time build_movies_db (it streams year by year)")
    args = parser.parse_args()
    per_year = args.movies_per_year or (3_040 if args.quick else FULL_MOVIES_PER_YEAR)
    checkpoint = args.checkpoint_movies or (30_000 if args.quick else 100_000)
    years = list(range(args.first_year, args.last_year + 1))
    catalog = Catalog(movies_per_year=per_year, first_year=args.first_year, last_year=args.last_year)
    catalog_movies = catalog.total_movies
    full_movies = Catalog(movies_per_year=FULL_MOVIES_PER_YEAR).total_movies
    print(f"== scale: {len(years)} years, ~{catalog_movies} movies (peak year {per_year}), rate {args.rate:g} rps",
          flush=True)
    baseline = rss_mb()
    with tempfile.TemporaryDirectory() as tmp, emulator_process(
        "--movies-per-year", str(per_year), "--rate-limit", str(args.rate),
        "--first-year", str(args.first_year), "--last-year", str(args.last_year),
    ) as base_url:
        lake = Lake.at(Path(tmp) / "data")
        rows = asyncio.run(harvest_catalog(base_url, lake, years, args))
        server = emulator_stats(base_url)
        db_seconds = db_peak = None
        if args.with_db:

            started = time.monotonic()
            warehouse.build_movies_db(lake)
            db_seconds, db_peak = time.monotonic() - started, peak_mb()
        lake_bytes = sum(p.stat().st_size for p in lake.root.rglob("*") if p.is_file())
    total = rows[-1]["movies"]
    seconds = rows[-1]["seconds"]
    at_checkpoint = next((r for r in rows if r["movies"] >= checkpoint), rows[-1])
    figures = {
        "movies": total,
        "years": len(years),
        "requests": server["requests_total"],
        "requests_per_movie": round(server["requests_total"] / max(1, total), 4),
        "http_429": server["by_status"].get("429", 0),
        "wall_seconds": round(seconds, 1),
        "movies_per_second": round(total / seconds, 1),
        "achieved_over_limit": round(server["requests_total"] / seconds / args.rate, 3),
        "rss_start_mb": round(baseline, 1),
        "checkpoint_movies": at_checkpoint["movies"],
        "largest_year_at_checkpoint": at_checkpoint["largest_year"],
        "peak_rss_at_checkpoint_mb": round(at_checkpoint["peak_mb"], 1),
        "largest_year_at_end": rows[-1]["largest_year"],
        "peak_rss_at_end_mb": round(rows[-1]["peak_mb"], 1),
        "peak_rss_end_over_checkpoint": round(rows[-1]["peak_mb"] / at_checkpoint["peak_mb"], 3),
        "rss_end_mb": round(rows[-1]["rss_mb"], 1),
        "lake_mb": round(lake_bytes / 2**20, 1),
    }
    if total < full_movies * 0.9:
        scale = full_movies / total
        figures["extrapolated_full_catalog_movies"] = full_movies
        figures["extrapolated_full_wall_minutes_at_this_rate"] = round(seconds * scale / 60, 1)
        figures["extrapolated_full_hours_at_tmdb_35rps"] = round(server["requests_total"] * scale / 35 / 3600, 1)
    if db_seconds is not None:
        figures["movies_db_seconds"] = round(db_seconds, 1)
        figures["peak_rss_after_movies_db_mb"] = round(db_peak, 1)
    figures["target"] = "peak RSS bounded by the largest year, not the catalog size"
    report("scale_catalog", figures)


if __name__ == "__main__":
    main()
