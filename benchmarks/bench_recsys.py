"""Recsys benchmark: build a recommender dataset of 25M synthetic interactions over a 60k-movie lake (ml-25m's size).

    python benchmarks/bench_recsys.py                  # 10 years × 6,000 movies, 25M interactions (~15 min)
    python benchmarks/bench_recsys.py --quick          # 1 year × 6,000 movies, 1M interactions
    python benchmarks/bench_recsys.py --lake /tmp/l    # reuse a lake (and its events) from an earlier run

The lake is harvested from an emulator process and every year embedded with random 384-d vectors (the text
model's speed is measured elsewhere; this measures the dataset build). The synthetic generator writes the events
once (timed on its own); then a fresh process reads them and builds the dataset (`build.build_from_events`: indexes,
split, aligned arrays, as-of features from the details store, interaction versions, reports, atomic write), timed
with its peak RSS. Targets: build ≤ 120 s and ≤ 4 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emulator_process, report  # noqa: E402

from movie_assets.embeddings import partitions  # noqa: E402
from movie_assets.harvest import stages  # noqa: E402
from movie_assets.lake import Lake  # noqa: E402
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402

FIRST_YEAR = 2010


class RandomEncoder:
    """Unit vectors seeded by each text's sha256: fast, deterministic, the shape of the real model's."""

    def encode(self, sentences, **kwargs):
        out = np.empty((len(sentences), 384), np.float32)
        for row, text in enumerate(sentences):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            out[row] = vector / np.linalg.norm(vector)
        return out


def make_lake(root: Path, years: int, per_year: int) -> Lake:
    lake = Lake.at(root / "data")
    if lake.movies_year_files():
        return lake
    with emulator_process("--movies-per-year", str(per_year), "--seed", "11") as base_url:
        async def run():
            settings = TMDbSettings(base_url=base_url, requests_per_second=5000, max_connections=64)
            async with TMDbClient(settings) as client:
                for year in range(FIRST_YEAR, FIRST_YEAR + years):
                    await stages.harvest_year(client, lake, year, concurrency=64, batch_size=2000)

        asyncio.run(run())
    for year, _ in lake.movies_year_files():
        partitions.embed_year(lake, year, RandomEncoder(), "bench-random-384", dimension=384)
    return lake


def make_events(lake: Lake, interactions: int, target: Path) -> dict:
    from movie_assets.recsys.synthetic import generate

    mean = 50.0
    started = time.perf_counter()
    source = generate(lake, users=max(1, int(interactions / mean)), seed=7, mean_interactions=mean)
    seconds = time.perf_counter() - started
    pq.write_table(source.events, target)
    return {"events": source.events.num_rows, "generate_seconds": round(seconds, 1),
            "generate_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


BUILD = """
import json, resource, sys, time
import pyarrow.parquet as pq
from movie_assets.lake import Lake
from movie_assets.recsys import build, sources
from movie_assets.recsys.events import SYNTHETIC, SourceEvents
lake = Lake.at(sys.argv[1])
started = time.perf_counter()
result = build.build_from_events(lake, sources.SourceSpec(name="bench", kind=SYNTHETIC),
                                 SourceEvents(kind=SYNTHETIC, events=pq.read_table(sys.argv[2])))
counts = result.manifest["counts"]
print(json.dumps({"build_seconds": round(time.perf_counter() - started, 1),
                  "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  **{k: counts[k] for k in ("interactions", "items", "users", "per_split")}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--movies-per-year", type=int, default=6000)
    parser.add_argument("--interactions", type=int, default=25_000_000)
    parser.add_argument("--quick", action="store_true", help="1 year of 6,000 movies, 1M interactions")
    parser.add_argument("--lake", type=Path, default=None, help="a folder to keep (or reuse) the lake and events in")
    args = parser.parse_args()
    if args.quick:
        args.years, args.interactions = 1, 1_000_000
    root = args.lake or Path(tempfile.mkdtemp(prefix="bench-recsys-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    lake = make_lake(root, args.years, args.movies_per_year)
    lake_seconds = time.perf_counter() - started
    events_file = root / f"events-{args.interactions}.parquet"
    generated = make_events(lake, args.interactions, events_file) if not events_file.exists() else {}
    built = subprocess.run([sys.executable, "-c", BUILD, str(lake.root), str(events_file)], check=True,
                           capture_output=True, text=True)
    figures = json.loads(built.stdout.strip().splitlines()[-1])
    movies = sum(pq.read_metadata(p).num_rows for _, p in lake.movies_year_files())
    report("recsys_build", {
        "movies": movies, **generated, **figures, "lake_seconds": round(lake_seconds, 1),
        "build_within_120s": figures["build_seconds"] <= 120, "build_within_4gib": figures["build_peak_rss_mb"] <= 4096,
        "interactions_per_second": round(figures["interactions"] / max(figures["build_seconds"], 1e-9)),
    })


if __name__ == "__main__":
    main()
