"""Subprocess of the churn drill: one catalog sync of a lake (`movie_assets.harvest.sync.sync`).

    python drills/sync_worker.py --base-url URL/3 --exports-url URL/p/exports --data-dir DIR [--batch-size N]

Prints one JSON line with the `SyncReport` figures. The drill kills this process with SIGKILL.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from movie_assets.harvest.sync import sync
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings


async def main_async(args: argparse.Namespace) -> dict:
    settings = TMDbSettings(base_url=args.base_url, exports_base_url=args.exports_url, requests_per_second=3000,
                            max_connections=50, backoff_base=0.01, backoff_max=0.05, max_attempts=6)
    async with TMDbClient(settings) as client:
        report = await sync(client, Lake.at(args.data_dir), batch_size=args.batch_size, concurrency=20)
    return {"listed": report.listed, "new": report.new, "changed": report.changed, "vanished": report.vanished,
            "requests": report.requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--exports-url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))), flush=True)


if __name__ == "__main__":
    main()
