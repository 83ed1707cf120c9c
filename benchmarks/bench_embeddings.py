"""Benchmark the embedding stage: the backends (torch vs onnx-int8), encoder overhead vs raw
SentenceTransformer.encode, and FAISS indexes.

    .venv/bin/python benchmarks/bench_embeddings.py --quick       # small: ~2-3 minutes on 2 cores
    .venv/bin/python benchmarks/bench_embeddings.py               # 100k and 1M vectors (HNSW 1M build is slow)
    .venv/bin/python benchmarks/bench_embeddings.py --sizes 100000 --texts 1000
    .venv/bin/python benchmarks/bench_embeddings.py --only-backends --backend-texts 2000 --backend-rounds 7

Backends: the same emulator movie documents (`make demo`'s catalog, through `embeddings.text`) are
encoded by torch and by onnx-int8 in interleaved rounds in one process (the order alternates per round),
after a fresh int8 export (timed) into a temporary folder unless ``--onnx-cache`` names one. Reported:
documents per second of each, the median over rounds of onnx-int8 ÷ torch, the cosine between the two
vectors of each document (mean, 1st percentile, min) and neighbour recall@10: for a fixed set of query
movies, the share of each one's 10 nearest neighbours (exact inner product over all benchmark documents,
itself excluded) under torch's vectors that onnx-int8's vectors also rank in their top 10. Targets
(exit status 1 when missed with ``--check``): ratio ≥ 2.0, mean cosine ≥ 0.985, recall@10 ≥ 0.85.

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

from movie_assets.embeddings import backends as eb  # noqa: E402
from movie_assets.embeddings import index as ix  # noqa: E402
from movie_assets.embeddings.encode import embed_movies, encode_texts  # noqa: E402
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


TARGETS = {"ratio": 2.0, "mean_cosine": 0.985, "recall_at_10": 0.85}


def emulator_texts(
    n: int, years: tuple[int, ...] = (1925, 1975, 2024), per_year: int = 12000, seed: int = 0
) -> list[str]:
    """Document texts of ``n`` movies drawn (fixed seed) from the demo years of the emulator's catalog."""
    from common import document_texts  # benchmarks/, this script's folder

    from movie_assets.emulator import Catalog

    catalog = Catalog(seed=42, movies_per_year=per_year)
    ids = np.array([s.id for y in years for s in catalog.movies_in_year(y)], dtype=np.int64)
    picked = np.sort(np.random.default_rng(seed).choice(ids, size=min(n, len(ids)), replace=False))
    return document_texts(catalog, picked.tolist())


def neighbour_recall(
    reference: np.ndarray, other: np.ndarray, n_queries: int = 300, k: int = 10, seed: int = 0
) -> float:
    """Mean share of each query's ``k`` nearest neighbours under ``reference`` that ``other`` also ranks in
    its top ``k`` (exact inner product over all rows, the query itself excluded)."""
    n = reference.shape[0]
    k = min(k, n - 1)
    queries = np.sort(np.random.default_rng(seed).choice(n, size=min(n_queries, n), replace=False))

    def top_k(vectors: np.ndarray) -> np.ndarray:
        sims = vectors[queries] @ vectors.T
        sims[np.arange(len(queries)), queries] = -np.inf
        return np.argpartition(-sims, k, axis=1)[:, :k]

    hits = sum(len(set(a) & set(b)) for a, b in zip(top_k(reference).tolist(), top_k(other).tolist(), strict=True))
    return hits / (len(queries) * k)


def bench_backends(n_texts: int, batch_size: int, rounds: int, cache_dir: str | None = None) -> dict:
    """Interleaved torch / onnx-int8 rounds over the same emulator documents; speed and agreement."""
    import tempfile

    texts = emulator_texts(n_texts)
    torch_backend = eb.load_backend(eb.TORCH, device="cpu")
    with tempfile.TemporaryDirectory(prefix="onnx-bench-") as scratch:
        t = time.perf_counter()
        onnx_backend = eb.load_backend(eb.ONNX_INT8, cache_dir=cache_dir or scratch)
        load_s = time.perf_counter() - t
        export_s = onnx_backend.export_seconds
        file_mb = onnx_backend.onnx_path.stat().st_size / 1e6
        print(f"  onnx-int8: {'exported' if export_s is not None else 'cached'} model loaded in {load_s:.1f}s"
              + (f" (export + quantize {export_s:.1f}s)" if export_s is not None else ""), flush=True)
        pair = {eb.TORCH: torch_backend, eb.ONNX_INT8: onnx_backend}
        for backend in pair.values():  # warm-up
            backend.encode(texts[: batch_size * 2], batch_size=batch_size)
        rates: dict[str, list[float]] = {name: [] for name in pair}
        vectors: dict[str, np.ndarray] = {}
        for r in range(rounds):
            for name in (pair if r % 2 == 0 else reversed(pair)):
                t = time.perf_counter()
                vectors[name] = encode_texts(pair[name], texts, batch_size=batch_size)
                rates[name].append(len(texts) / (time.perf_counter() - t))
            print(f"  round {r + 1}: torch {rates[eb.TORCH][-1]:.1f}/s, onnx-int8 {rates[eb.ONNX_INT8][-1]:.1f}/s",
                  flush=True)
    ratios = [o / t for o, t in zip(rates[eb.ONNX_INT8], rates[eb.TORCH], strict=True)]
    cosine = (vectors[eb.ONNX_INT8] * vectors[eb.TORCH]).sum(axis=1)
    tokens = [len(e.ids) for e in onnx_backend.tokenizer.encode_batch(texts)]
    return {
        "texts": len(texts),
        "source": "emulator catalog (seed 42, 12000/peak year), years 1925/1975/2024",
        "mean_tokens": round(float(np.mean(tokens)), 1),
        "batch_size": batch_size,
        "rounds": rounds,
        "torch_threads": _torch_threads(),
        "onnx_threads": onnx_backend.threads,
        "onnx_export_seconds": round(export_s, 2) if export_s is not None else None,
        "onnx_file_mb": round(file_mb, 1),
        "torch_texts_per_s": [round(x, 2) for x in rates[eb.TORCH]],
        "onnx_int8_texts_per_s": [round(x, 2) for x in rates[eb.ONNX_INT8]],
        "torch_median_texts_per_s": round(float(np.median(rates[eb.TORCH])), 2),
        "onnx_int8_median_texts_per_s": round(float(np.median(rates[eb.ONNX_INT8])), 2),
        "ratio_per_round": [round(x, 3) for x in ratios],
        "ratio_median": round(float(np.median(ratios)), 3),
        "mean_cosine": round(float(cosine.mean()), 5),
        "p1_cosine": round(float(np.percentile(cosine, 1)), 5),
        "min_cosine": round(float(cosine.min()), 5),
        "recall_at_10": round(neighbour_recall(vectors[eb.TORCH], vectors[eb.ONNX_INT8]), 4),
        "recall_queries": min(300, len(texts)),
        "model_ids": {name: backend.model_id for name, backend in pair.items()},
    }


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def backends_pass(figures: dict) -> list[str]:
    """The targets ``figures`` misses (empty when all are met)."""
    missed = []
    for key, figure in (("ratio", "ratio_median"), ("mean_cosine", "mean_cosine"), ("recall_at_10", "recall_at_10")):
        if figures[figure] < TARGETS[key]:
            missed.append(f"{figure} {figures[figure]} < {TARGETS[key]}")
    return missed


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
    parser.add_argument("--skip-encode", action="store_true", help="skip the encoder-overhead comparison")
    parser.add_argument("--backend-texts", type=int, default=None, help="documents for the backend comparison")
    parser.add_argument("--backend-rounds", type=int, default=None, help="interleaved rounds per backend")
    parser.add_argument("--onnx-cache", default=None, help="reuse the int8 export here (default: fresh, timed)")
    parser.add_argument("--skip-backends", action="store_true")
    parser.add_argument("--only-backends", action="store_true", help="only the backend comparison")
    parser.add_argument("--check", action="store_true", help="exit 1 when a backend target is missed")
    args = parser.parse_args(argv)
    if args.only_backends:
        args.skip_encode, args.sizes = True, []
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
    figures: dict = {"benchmark": "embeddings", "env": env,
                     "params": {"hnsw_m": params.hnsw_m, "ef_construction": params.ef_construction,
                                "ef_search": params.ef_search}}
    missed: list[str] = []
    if not args.skip_backends:
        b_texts = args.backend_texts or (600 if args.quick else 2000)
        b_rounds = args.backend_rounds or (3 if args.quick else 5)
        print(f"backends: torch vs onnx-int8 on {b_texts} emulator movie documents, batch {args.batch_size}, "
              f"{b_rounds} interleaved rounds")
        back = bench_backends(b_texts, args.batch_size, b_rounds, args.onnx_cache)
        figures["backends"] = back
        missed = backends_pass(back)
        print(f"  median: torch {back['torch_median_texts_per_s']:.1f}/s, onnx-int8 "
              f"{back['onnx_int8_median_texts_per_s']:.1f}/s → ratio {back['ratio_median']:.2f} (per round "
              f"{back['ratio_per_round']}); cosine mean {back['mean_cosine']:.4f} (p1 {back['p1_cosine']:.4f}, "
              f"min {back['min_cosine']:.4f}); neighbour recall@10 {back['recall_at_10']:.3f} "
              f"(mean {back['mean_tokens']} tokens/text) — "
              + ("targets met" if not missed else "MISSED: " + "; ".join(missed)), flush=True)
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
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
