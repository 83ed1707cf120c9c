"""Subprocess of the kill drill: fetch one year's details into a lake (discover output must exist).

    python drills/details_worker.py --base-url URL/3 --data-dir DIR --year Y [--batch-size N]

Prints one JSON line with the `DetailsSummary` figures. The drill kills this process with SIGKILL.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from movie_assets.harvest import stages
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings


async def main_async(args: argparse.Namespace) -> dict:
    settings = TMDbSettings(base_url=args.base_url, requests_per_second=args.rate, backoff_base=0.01,
                            backoff_max=0.2, max_attempts=10)
    async with TMDbClient(settings) as client:
        summary = await stages.run_details(client, Lake.at(args.data_dir), args.year,
                                           batch_size=args.batch_size, concurrency=args.concurrency)
    return {"movies": summary.movies, "requested": summary.requested, "ok": summary.ok,
            "not_found": summary.not_found, "discarded_shards": summary.discarded_shards}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1500.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))), flush=True)


if __name__ == "__main__":
    main()
