"""Embeddings fan-out: wall time to encode several years' partitions with 1 worker process vs 2.

    python benchmarks/bench_embed_fanout.py [--years 4] [--movies-per-year 600] [--rounds 2] [--quick]

A lake of emulator movies (the pipeline's typed rows: details → `movie_row`) is written for ``--years`` years.
Each round encodes every year's partition from scratch (int8 ONNX, the CPU default) twice, interleaved:
A) one worker process encoding the years one after another with all cores' threads, as one run would;
B) two worker processes, each encoding half of the years with half the threads, as two runs of a backfill
would. Each worker loads the model itself (a Dagster run does too), so start-up is part of the wall time.
Both produce the same partitions (checked by content hash per movie). Figures: median wall time of each,
and A ÷ B (the speed-up of fanning out over two processes on this machine).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from common import report  # noqa: E402

from movie_assets.emulator import Catalog  # noqa: E402
from movie_assets.harvest.records import movie_row  # noqa: E402
from movie_assets.lake import Lake, write_parquet_atomic  # noqa: E402
from movie_assets.lake.schema import MOVIES_SCHEMA  # noqa: E402

FIRST_YEAR = 2015


def write_lake(root: Path, years: int, per_year: int) -> Lake:
    lake = Lake.at(root)
    catalog = Catalog(seed=42, movies_per_year=max(per_year, 1000))
    for year in range(FIRST_YEAR, FIRST_YEAR + years):
        rows = []
        for summary in catalog.movies_in_year(year)[:per_year]:
            details = catalog.details(int(summary.id))
            rows.append(movie_row({"movie_id": int(summary.id)}, details, status="ok", harvested_at=None,
                                  genre_names={}, image_base_url=None))
        write_parquet_atomic(pa.Table.from_pylist(rows, schema=MOVIES_SCHEMA), lake.movies_year_file(year))
    return lake


def worker(root: str, years: list[int], cache_dir: str, threads: int) -> None:
    from movie_assets.embeddings import backends, partitions

    backend = backends.load_backend("onnx-int8", cache_dir=cache_dir, threads=threads)
    lake = Lake.at(root)
    for year in years:
        partitions.embed_year(lake, year, backend, backend.model_id, dimension=backend.dimension,
                              backend=backend.name)


def run(root: Path, groups: list[list[int]], cache_dir: Path, threads: int) -> float:
    shutil.rmtree(Lake.at(root).embeddings_dataset_dir, ignore_errors=True)
    context = mp.get_context("spawn")
    started = time.perf_counter()
    processes = [context.Process(target=worker, args=(str(root), g, str(cache_dir), threads)) for g in groups]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a worker failed with exit code {p.exitcode}")
    return time.perf_counter() - started


def hashes(lake: Lake) -> dict[int, str]:
    out: dict[int, str] = {}
    for _, path in lake.embeddings_year_files():
        table = pq.read_table(path, columns=["movie_id", "content_hash"])
        out.update(zip(table.column("movie_id").to_pylist(), table.column("content_hash").to_pylist(), strict=True))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--movies-per-year", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="4 years × 300 movies, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.years, args.movies_per_year, args.rounds = 4, 300, 2
    cores = len(os.sched_getaffinity(0))
    years = list(range(FIRST_YEAR, FIRST_YEAR + args.years))
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "data", Path(tmp) / "models"
        lake = write_lake(root, args.years, args.movies_per_year)
        worker(str(root), years[:1], str(cache), cores)  # export the int8 model once, outside the timings
        one, two = [], []
        for _ in range(args.rounds):
            one.append(run(root, [years], cache, cores))
            single = hashes(lake)
            two.append(run(root, [years[0::2], years[1::2]], cache, max(1, cores // 2)))
            assert hashes(lake) == single, "two workers produced different partitions"
        movies = len(single)
    a, b = statistics.median(one), statistics.median(two)
    report(
        "embeddings_fanout",
        {
            "years": args.years,
            "movies": movies,
            "cores": cores,
            "backend": "onnx-int8",
            "rounds": args.rounds,
            "one_worker_seconds": round(a, 2),
            "two_workers_seconds": round(b, 2),
            "one_worker_docs_per_second": round(movies / a, 1),
            "two_workers_docs_per_second": round(movies / b, 1),
            "speedup_two_workers": round(a / b, 3),
            "note": "workers load the model themselves, as Dagster runs do; same partitions either way",
        },
    )


if __name__ == "__main__":
    main()
