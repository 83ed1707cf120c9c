"""Benchmark the embedding stage: encoder throughput vs raw SentenceTransformer.encode, and FAISS indexes.

    .venv/bin/python benchmarks/bench_embeddings.py --quick       # small: ~1 minute on 2 cores
    .venv/bin/python benchmarks/bench_embeddings.py               # 100k and 1M vectors (HNSW 1M build is slow)
    .venv/bin/python benchmarks/bench_embeddings.py --sizes 100000 --texts 1000

Prints a human-readable report and, last, one JSON line with every figure. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time

import numpy as np
import pyarrow as pa

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from movie_assets.embeddings import index as ix  # noqa: E402
from movie_assets.embeddings.encode import embed_movies  # noqa: E402
from movie_assets.embeddings.model import load_model  # noqa: E402
from movie_assets.embeddings.text import documents  # noqa: E402
from movie_assets.lake.schema import MOVIES_SCHEMA  # noqa: E402

WORDS = [
    "love", "war", "city", "night", "family", "secret", "young", "old", "man", "woman", "detective", "killer",
    "ship", "space", "planet", "robot", "school", "friend", "dream", "journey", "king", "queen", "island",
    "ocean", "storm", "fire", "ghost", "house", "road", "heist", "bank", "money", "revenge", "truth", "lie",
    "memory", "future", "past", "time", "machine", "monster", "village", "forest", "mountain", "river",
    "desert", "team", "game", "music", "dance", "prison", "escape", "hero", "villain", "power", "magic",
    "dragon", "soldier", "doctor", "lawyer", "spy",
]
GENRES = ["Action", "Drama", "Comedy", "Thriller", "Horror", "Science Fiction", "Animation", "Romance"]


def synthetic_movies(n: int, seed: int = 7) -> pa.Table:
    """Movies with realistic document lengths (overview 15–160 words, 5 cast, a few keywords)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        words = rng.choice(WORDS, size=int(rng.integers(15, 160)))
        year = int(rng.integers(1950, 2026))
        rows.append(
            {
                "movie_id": i + 1,
                "title": " ".join(rng.choice(WORDS, size=int(rng.integers(1, 5)))).title(),
                "overview": " ".join(words).capitalize() + ".",
                "release_date": dt.date(year, 1, 1),
                "year": year,
                "genres": list(rng.choice(GENRES, size=int(rng.integers(1, 4)), replace=False)),
                "cast": [{"person_id": j, "name": f"Actor {rng.integers(1e5)}", "character": None, "order": j}
                         for j in range(8)],
                "directors": [{"person_id": 1, "name": f"Director {rng.integers(1e4)}"}],
                "keywords": list(rng.choice(WORDS, size=int(rng.integers(0, 8)))),
            }
        )
    return pa.Table.from_pylist(rows, schema=MOVIES_SCHEMA)


def bench_encode(n_texts: int, batch_size: int, rounds: int) -> dict:
    loaded = load_model()
    table = synthetic_movies(n_texts)
    _, texts = documents(table)
    model = loaded.model
    model.encode(texts[: batch_size * 2], batch_size=batch_size)  # warm-up
    raw_times, ours_times = [], []
    for _ in range(rounds):  # interleave so machine noise hits both alike
        t = time.perf_counter()
        model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                     show_progress_bar=False)
        raw_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = embed_movies(table, None, model, loaded.model_id, dimension=loaded.dimension, batch_size=batch_size)
        ours_times.append(time.perf_counter() - t)
        assert result.encoded == n_texts
    raw, ours = min(raw_times), min(ours_times)
    tokens = [len(x) for x in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]]
    return {
        "texts": n_texts,
        "batch_size": batch_size,
        "rounds": rounds,
        "mean_tokens": round(float(np.mean(tokens)), 1),
        "raw_texts_per_s": round(n_texts / raw, 2),
        "ours_texts_per_s": round(n_texts / ours, 2),
        "ratio_ours_over_raw": round(raw / ours, 4),
        "raw_seconds": [round(x, 3) for x in raw_times],
        "ours_seconds": [round(x, 3) for x in ours_times],
    }


def synthetic_vectors(n: int, d: int = 384, clusters: int = 1000, seed: int = 0) -> np.ndarray:
    """Unit vectors drawn around ``clusters`` random centres (real embeddings cluster; pure noise is harder)."""
    rng = np.random.default_rng(seed)
    if clusters <= 0:
        v = rng.standard_normal((n, d), dtype=np.float32)
    else:
        centres = rng.standard_normal((clusters, d), dtype=np.float32)
        v = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, d), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def latency(index, queries: np.ndarray, k: int = 10, singles: int = 200) -> dict:
    """Batch search (all threads) per query, and one-query-at-a-time with all threads and with one thread."""
    import faiss

    threads = faiss.omp_get_max_threads()
    t = time.perf_counter()
    index.search(queries, k)
    batch = time.perf_counter() - t
    n_single = min(singles, len(queries))
    out = {"batch_ms_per_query": round(batch * 1000 / len(queries), 4)}
    for name, n_threads in (("single_ms", threads), ("single_ms_1thread", 1)):
        faiss.omp_set_num_threads(n_threads)
        t = time.perf_counter()
        for q in queries[:n_single]:
            index.search(q.reshape(1, -1), k)
        out[name] = round((time.perf_counter() - t) * 1000 / n_single, 4)
    faiss.omp_set_num_threads(threads)
    return out


def bench_index(n: int, params: ix.IndexParams, n_queries: int, clusters: int) -> dict:
    vectors = synthetic_vectors(n, clusters=clusters)
    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(n, size=n_queries, replace=False)]
    out: dict = {"vectors": n, "clusters": clusters}
    for kind in (ix.FLAT, ix.HNSW):
        t = time.perf_counter()
        index = ix.build_index(vectors, params, kind)
        build = time.perf_counter() - t
        entry = {"build_s": round(build, 3), "bytes": int(ix.faiss.serialize_index(index).nbytes)}
        entry.update(latency(index, queries))
        if kind == ix.HNSW:
            entry["recall_at_10"] = round(
                ix.recall_at_k(index, vectors, n_queries=params.recall_queries, k=10, seed=params.seed), 4
            )
        out[kind] = entry
        print(f"  {n:>9,} {kind:<13} build {build:8.2f}s  {entry['bytes'] / 1e6:8.1f} MB  "
              f"batch {entry['batch_ms_per_query']:.3f} ms/q  single {entry['single_ms']:.3f} ms "
              f"(1 thread {entry['single_ms_1thread']:.3f} ms)"
              + (f"  recall@10 {entry['recall_at_10']:.4f}" if "recall_at_10" in entry else ""), flush=True)
        del index
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (~a minute)")
    parser.add_argument("--texts", type=int, default=None, help="texts for the throughput test")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="index sizes (vectors)")
    parser.add_argument("--queries", type=int, default=1000, help="queries for latency")
    parser.add_argument("--clusters", type=int, default=1000, help="0 = isotropic Gaussian vectors")
    parser.add_argument("--skip-encode", action="store_true")
    args = parser.parse_args(argv)
    n_texts = args.texts or (256 if args.quick else 1000)
    rounds = args.rounds or (3 if args.quick else 5)
    sizes = args.sizes if args.sizes is not None else ([20_000] if args.quick else [100_000, 1_000_000])
    params = ix.IndexParams()

    import faiss
    import torch

    env = {
        "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "faiss_threads": faiss.omp_get_max_threads(),
        "torch": torch.__version__, "faiss": faiss.__version__, "python": platform.python_version(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(f"environment: {env}")
    figures: dict = {"env": env, "params": {"hnsw_m": params.hnsw_m, "ef_construction": params.ef_construction,
                                            "ef_search": params.ef_search}}
    if not args.skip_encode:
        print(f"encode: {n_texts} synthetic movie documents, batch {args.batch_size}, best of {rounds}")
        enc = bench_encode(n_texts, args.batch_size, rounds)
        figures["encode"] = enc
        print(f"  raw SentenceTransformer.encode {enc['raw_texts_per_s']:.1f} texts/s, "
              f"ours {enc['ours_texts_per_s']:.1f} texts/s → ratio {enc['ratio_ours_over_raw']:.3f} "
              f"(mean {enc['mean_tokens']} tokens/text)")
    figures["index"] = []
    print(f"index: {params}")
    for n in sizes:
        figures["index"].append(bench_index(n, params, min(args.queries, n), args.clusters))
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
