"""Client throttle benchmark: achieved requests/s ÷ the emulator's limit R, and 429s, clean and under 5xx.

    python benchmarks/bench_client.py [--rate 40] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emulator_process, emulator_stats, report, reset_emulator  # noqa: E402

from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402


async def drive(base_url: str, rate: float, requests: int) -> dict:
    settings = TMDbSettings(base_url=base_url, requests_per_second=rate, max_attempts=10)
    async with TMDbClient(settings) as client:
        popular = await client.popular_movies()
        ids = [m["id"] for m in popular["results"]]
        reset_emulator(base_url)
        started = time.monotonic()
        await asyncio.gather(*(client.movie_details(ids[i % len(ids)]) for i in range(requests)))
        elapsed = time.monotonic() - started
    server = emulator_stats(base_url)
    sent = server["requests_total"]
    return {
        "requests_sent": sent,
        "achieved_rps": round(sent / elapsed, 2),
        "achieved_over_limit": round(sent / elapsed / rate, 3),
        "http_429": client.stats.rate_limited,
        "retries": dict(client.stats.retries),
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=40.0, help="emulator limit = client rate (requests/s)")
    parser.add_argument("--seconds", type=float, default=15.0, help="approximate length of each run")
    args = parser.parse_args()
    requests = int(args.rate * args.seconds)
    common = ["--movies-per-year", "2000", "--rate-limit", str(args.rate)]
    with emulator_process(*common) as base_url:
        clean = asyncio.run(drive(base_url, args.rate, requests))
    with emulator_process(*common, "--error-rate", "0.1", "--seed", "3") as base_url:
        faulty = asyncio.run(drive(base_url, args.rate, requests))
    report(
        "client_throttle",
        {
            "limit_rps": args.rate,
            "clean_achieved_over_limit": clean["achieved_over_limit"],
            "clean_429s": clean["http_429"],
            "5xx10_achieved_over_limit": faulty["achieved_over_limit"],
            "5xx10_429s": faulty["http_429"],
            "5xx10_retries": faulty["retries"],
            "target": "achieved/limit >= 0.95, 0 429s",
        },
    )


if __name__ == "__main__":
    main()
