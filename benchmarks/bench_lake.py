"""Lake benchmark: the `movies` build of one year ÷ a bare `pyarrow.parquet.write_table` of the same table.

    python benchmarks/bench_lake.py [--movies-per-year 20000] [--year 2024] [--rounds 5]
    python benchmarks/bench_lake.py --quick

A year is harvested once from an in-process emulator into a temporary lake. Then, best of ``--rounds``:
* ``build``: `year_build.build_movies_year` — read the year's typed readings from the details store (parsed once,
  when each payload was stored), join them to the latest versions, sort, write deterministic Parquet
  atomically (one rename);
* ``row_by_row``: the same table built the former way (every payload parsed with ``json.loads`` into
  `movie_row` dicts and `movies_table`), to show the bytes are identical and what the typed build saves;
* ``write``: `year_build.write_year_partition` alone (the atomic, deterministic write of the built table);
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

import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report  # noqa: E402

from movie_assets.emulator import Catalog, running_emulator  # noqa: E402
from movie_assets.harvest import (
    stages,  # noqa: E402
    year_build,  # noqa: E402
)
from movie_assets.harvest.records import movie_row, movies_table  # noqa: E402
from movie_assets.lake import (  # noqa: E402
    Lake,
    file_sha256,
    readers,  # noqa: E402
)
from movie_assets.lake.schema import BUILD_KEY  # noqa: E402
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
        table = year_build.build_movies_year(lake, args.year)
        digests = set()

        def build() -> None:
            year_build.build_movies_year(lake, args.year)
            digests.add(file_sha256(lake.movies_year_file(args.year)))

        def row_by_row() -> None:
            view = year_build.StoreView.load(lake)
            reference = readers.load_reference(lake, args.year)
            latest = view.latest
            year = latest.filter(pc.fill_null(pc.equal(latest.column("release_year"), args.year), False))
            records = view.store.records(year.filter(pc.equal(year.column("status"), "ok")))
            rows = (movie_row({"movie_id": r.movie_id}, r.details(), status=r.status, harvested_at=r.harvested_at,
                              genre_names={}, image_base_url=reference["image_base_url"]) for r in records.values())
            table = movies_table(rows).replace_schema_metadata({BUILD_KEY: view.build_fingerprint})
            year_build.write_year_partition(lake, args.year, table)
            digests.add(file_sha256(lake.movies_year_file(args.year)))

        bare_path = Path(tmp) / "bare.parquet"
        row_by_row_s = best_of(rounds, row_by_row)
        build_s = best_of(rounds, build)
        write_s = best_of(rounds, lambda: year_build.write_year_partition(lake, args.year, table))
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
            "row_by_row_seconds": round(row_by_row_s, 3),
            "row_by_row_over_bare_write": round(row_by_row_s / bare_s, 2),
            "atomic_write_over_bare_write": round(write_s / bare_s, 2),
            "file_mb": round(size / 2**20, 2),
            "bare_file_mb": round(bare_size / 2**20, 2),
            "identical_bytes_typed_and_row_by_row": len(digests) == 1,
            "target": "build_over_bare_write <= 8 (stretch 5), identical bytes",
        },
    )


if __name__ == "__main__":
    main()
