"""Harvest benchmark: requests per harvested movie, achieved rate ÷ limit, peak RSS, for one large year; and what
the richer details call costs in bytes: the stored (compact JSON) payload per movie with the appends of before
(``credits,keywords``) and of now (`DETAILS_APPENDS`), and the details store's size per 100k movies.

    python benchmarks/bench_harvest.py [--movies-per-year 40000] [--year 2024] [--rate 800]

The emulator runs in its own process with a rate limit equal to the client's rate; the year is harvested
with the same code the `discover_movies` and `movie_details` assets run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emulator_process, emulator_stats, peak_rss_mb, report, reset_emulator  # noqa: E402

from movie_assets.harvest import (
    stages,  # noqa: E402
    year_build,  # noqa: E402
)
from movie_assets.lake import Lake  # noqa: E402
from movie_assets.lake.readers import discover_ids  # noqa: E402
from movie_assets.lake.schema import DETAILS_APPENDS  # noqa: E402
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402


async def harvest(base_url: str, lake: Lake, year: int, rate: float, concurrency: int) -> dict:
    settings = TMDbSettings(base_url=base_url, requests_per_second=rate, max_connections=max(20, concurrency))
    reset_emulator(base_url)
    started = time.monotonic()
    async with TMDbClient(settings) as client:
        discover = await stages.run_discover(client, lake, year)
        discover_seconds = time.monotonic() - started
        details = await stages.run_details(client, lake, year, concurrency=concurrency, batch_size=1000)
        stats = client.stats.as_dict()
    harvest_seconds = time.monotonic() - started
    table = year_build.build_movies_year(lake, year)
    server = emulator_stats(base_url)
    return {
        "movies": table.num_rows,
        "requests": server["requests_total"],
        "discover_requests": discover.requests,
        "details_requests": details.requested,
        "seconds": harvest_seconds,
        "discover_seconds": discover_seconds,
        "http_429": stats["rate_limited_429"],
        "retries": stats["retries_total"],
    }


async def payload_bytes(base_url: str, lake: Lake, year: int, sample: int) -> dict:
    """Mean stored payload bytes per movie of ``sample`` movies of the year, with the old and the new appends,
    the two requests of a movie interleaved."""
    ids = discover_ids(lake, year)[:: max(1, len(discover_ids(lake, year)) // sample)][:sample]
    sizes = {"before": 0, "after": 0}
    async with TMDbClient(TMDbSettings(base_url=base_url, requests_per_second=1000)) as client:
        for movie_id in ids:
            for name, appends in (("before", ("credits", "keywords")), ("after", DETAILS_APPENDS)):
                data = (await client.movie_details(movie_id, appends)).data
                sizes[name] += len(json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                                   .encode())
    return {name: total / len(ids) for name, total in sizes.items()}


def store_bytes(lake: Lake) -> int:
    return sum(f.stat().st_size for f in lake.details_store_dir.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--movies-per-year", type=int, default=40_000)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--rate", type=float, default=300.0,
                        help="emulator limit = client rate (well above TMDb's ~40/s; at 800/s the client is CPU-bound)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--payload-sample", type=int, default=300, help="movies whose payload bytes are measured")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, emulator_process(
        "--movies-per-year", str(args.movies_per_year), "--rate-limit", str(args.rate)
    ) as base_url:
        lake = Lake.at(Path(tmp) / "data")
        first = asyncio.run(harvest(base_url, lake, args.year, args.rate, args.concurrency))
        reset_emulator(base_url)
        again = asyncio.run(harvest(base_url, lake, args.year, args.rate, args.concurrency))
        stored = store_bytes(lake)
        reset_emulator(base_url)
        payloads = asyncio.run(payload_bytes(base_url, lake, args.year, args.payload_sample))
    report(
        "harvest_year",
        {
            "movies": first["movies"],
            "requests_per_movie": round(first["requests"] / first["movies"], 4),
            "achieved_over_limit": round(first["requests"] / first["seconds"] / args.rate, 3),
            "http_429": first["http_429"],
            "harvest_seconds": round(first["seconds"], 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "rematerialize_requests": again["requests"],
            "rematerialize_over_full": round(again["requests"] / first["requests"], 5),
            "payload_bytes_per_movie_before": round(payloads["before"]),
            "payload_bytes_per_movie_after": round(payloads["after"]),
            "payload_after_over_before": round(payloads["after"] / payloads["before"], 2),
            "store_mib_per_100k_movies": round(stored / first["movies"] * 100_000 / 2**20, 1),
            "targets": "requests/movie <= 1.06, achieved/limit >= 0.95",
        },
    )


if __name__ == "__main__":
    main()
