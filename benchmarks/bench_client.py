"""Client throttle benchmark: achieved requests/s ÷ the emulator's limit R, and 429s, clean and under 5xx;
then recovery after a storm of 429s.

    python benchmarks/bench_client.py [--rate 40] [--seconds 15] [--storm 7] [--only recovery]

Recovery: a server on 127.0.0.1 answers 429 (no Retry-After, as TMDb today) to everything for the first
``--storm`` seconds, then lets requests through at its limit = the client's configured rate (a token
bucket, as the emulator's); 20 callers keep requesting. Figures: seconds from the last 429 until the
server sees >= 95 % of the configured rate (over a 2 s window), the same for the client's limiter rate,
and the 429s at the limit after that (target 0). Under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emulator_process, emulator_stats, report, reset_emulator  # noqa: E402

from movie_assets.emulator.faults import TokenBucket  # noqa: E402
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402
from movie_assets.tmdb.errors import TMDbError  # noqa: E402

WINDOW = 2.0  # seconds over which the server's throughput is judged


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


async def recovery(rate: float, storm: float, steady: float = 8.0, budget: float = 50.0) -> dict:
    """429 for ``storm`` seconds, then a token bucket at ``rate``; see the module docstring."""
    oks: list[float] = []
    rejected: list[float] = []
    bucket: TokenBucket | None = None
    start: float | None = None
    page = {"page": 1, "results": [], "total_pages": 0, "total_results": 0}
    over = {"status_code": 25, "status_message": "Your request count (#) is over the allowed limit.", "success": False}

    async def handler(request: web.Request) -> web.Response:
        nonlocal bucket, start
        now = time.monotonic()
        start = start or now
        if now - start >= storm:
            bucket = bucket or TokenBucket(rate, max(1.0, rate), now)
            if bucket.take(now) is None:
                oks.append(now)
                return web.json_response(page)
        rejected.append(now)
        return web.json_response(over, status=429)

    def recovered_at() -> float | None:
        """First time after the last 429 when the server saw >= 95 % of ``rate`` over `WINDOW`."""
        if not rejected:
            return None
        last, i = rejected[-1], 0
        for j, t in enumerate(oks):
            while oks[i] <= t - WINDOW:
                i += 1
            if t - WINDOW >= last and j - i + 1 >= 0.95 * rate * WINDOW:
                return t
        return None

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/3"
    limiter_recovered: float | None = None
    try:
        settings = TMDbSettings(base_url=base_url, api_key="bench", requests_per_second=rate, max_attempts=100)
        async with TMDbClient(settings) as client:
            async def caller() -> None:
                while True:
                    with contextlib.suppress(TMDbError):
                        await client.popular_movies()

            callers = [asyncio.create_task(caller()) for _ in range(20)]
            began = time.monotonic()
            while time.monotonic() - began < budget:
                await asyncio.sleep(0.1)
                now = time.monotonic()
                if (limiter_recovered is None and rejected and now - began > storm
                        and client.limiter.rate >= 0.95 * rate):
                    limiter_recovered = now
                done = recovered_at()
                if done is not None and now - done >= steady:
                    break
            for task in callers:
                task.cancel()
            await asyncio.gather(*callers, return_exceptions=True)
    finally:
        await runner.cleanup()
    done = recovered_at()
    last = rejected[-1] if rejected else None
    return {
        "limit_rps": rate,
        "storm_seconds": storm,
        "storm_429s": len(rejected),
        "recovered_95pct_seconds_after_last_429": round(done - last, 2) if done and last else None,
        "limiter_95pct_seconds_after_last_429": (
            round(limiter_recovered - last, 2) if limiter_recovered and last and limiter_recovered > last else None
        ),
        "429s_after_recovery": sum(1 for t in rejected if done and t > done),
        "steady_achieved_over_limit": round(
            sum(1 for t in oks if done and t > done) / (oks[-1] - done) / rate, 3
        ) if done and oks and oks[-1] > done else None,
        "client_rate_at_end": round(client.limiter.rate, 2),
        "target": "recovered <= 60 s after the last 429, 0 429s after recovery",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=40.0, help="emulator limit = client rate (requests/s)")
    parser.add_argument("--seconds", type=float, default=15.0, help="approximate length of each run")
    parser.add_argument("--storm", type=float, default=7.0, help="seconds of 429s before the recovery figure")
    parser.add_argument("--only", choices=["throttle", "recovery"], help="run one part only")
    args = parser.parse_args()
    if args.only != "throttle":
        report("client_recovery", asyncio.run(recovery(args.rate, args.storm)))
    if args.only == "recovery":
        return
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
