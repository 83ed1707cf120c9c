"""Lake benchmark: the `movies` build of one year ÷ a bare `pyarrow.parquet.write_table` of the same table.

    python benchmarks/bench_lake.py [--movies-per-year 20000] [--year 2024] [--rounds 5]
    python benchmarks/bench_lake.py --quick

A year is harvested once from an in-process emulator into a temporary lake. Then, best of ``--rounds``:
* ``build``: `stages.build_movies_year` — read the details store and discover output, build typed rows, sort,
  write deterministic Parquet atomically and swap the Hive ``year=Y/`` directory in;
* ``write``: `stages.write_year_partition` alone (the atomic, deterministic write of the built table);
* ``bare``: `pyarrow.parquet.write_table(table, path)` with pyarrow's defaults.
The figures are ``build / bare`` (the whole stage) and ``write / bare`` (the cost of atomic, deterministic
writing on its own), measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report  # noqa: E402

from movie_assets.emulator import Catalog, running_emulator  # noqa: E402
from movie_assets.harvest import stages  # noqa: E402
from movie_assets.lake import Lake, file_sha256  # noqa: E402
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402


async def harvest(base_url: str, lake: Lake, year: int) -> None:
    settings = TMDbSettings(base_url=base_url, requests_per_second=5000, max_connections=64)
    async with TMDbClient(settings) as client:
        await stages.harvest_year(client, lake, year, concurrency=64, batch_size=2000)


def best_of(rounds: int, fn) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 5,000-movie peak year, 3 rounds")
    parser.add_argument("--movies-per-year", type=int, default=None, help="peak-year size (default 20000)")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    per_year = args.movies_per_year or (5_000 if args.quick else 20_000)
    rounds = args.rounds or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake.at(Path(tmp) / "data")
        with running_emulator(catalog=Catalog(seed=42, movies_per_year=per_year)) as emu:
            asyncio.run(harvest(emu.base_url, lake, args.year))
        table = stages.build_movies_year(lake, args.year)
        digests = set()

        def build() -> None:
            stages.build_movies_year(lake, args.year)
            digests.add(file_sha256(lake.movies_year_file(args.year)))

        bare_path = Path(tmp) / "bare.parquet"
        build_s = best_of(rounds, build)
        write_s = best_of(rounds, lambda: stages.write_year_partition(lake, args.year, table))
        bare_s = best_of(rounds, lambda: pq.write_table(table, bare_path))
        size = lake.movies_year_file(args.year).stat().st_size
        bare_size = bare_path.stat().st_size
    report(
        "lake_movies_year",
        {
            "movies": table.num_rows,
            "rounds": rounds,
            "build_seconds": round(build_s, 3),
            "write_seconds": round(write_s, 3),
            "bare_write_table_seconds": round(bare_s, 3),
            "build_over_bare_write": round(build_s / bare_s, 2),
            "atomic_write_over_bare_write": round(write_s / bare_s, 2),
            "file_mb": round(size / 2**20, 2),
            "bare_file_mb": round(bare_size / 2**20, 2),
            "identical_bytes_across_rounds": len(digests) == 1,
            "note": "build = details store JSON -> typed rows -> sort -> zstd write -> dir swap",
        },
    )


if __name__ == "__main__":
    main()
