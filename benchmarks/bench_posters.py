"""Benchmark the poster stage: downloads against the emulator at its image limit, and the image encoder's backends.

Downloads: ``--downloads`` posters of the emulator's catalog fetched by `year_posters.fetch_year_posters` through
a client at the image host's rate, against an emulator whose image host is limited to that same rate
(``--image-rate``): posters per second, 429s, bytes per poster; then the year embedded (onnx) and the disk per
100,000 posters reported (cached images + the posters table + the vectors partition).

Encoder part: the default image encoder's backends (torch vs float32 ONNX).

    .venv/bin/python benchmarks/bench_posters.py --quick      # ~1 minute on 2 cores
    .venv/bin/python benchmarks/bench_posters.py              # more images and rounds, plus input sizes
    .venv/bin/python benchmarks/bench_posters.py --input-sizes 224x224 160x240 128x192

Encoders: synthetic poster-like images (185×278, TMDb's w185: vertical gradients, shapes, a title bar; drawn
with Pillow, seeded) are encoded end to end — PIL image → preprocessing → network → unit-norm vectors — by the
torch backend (CPU) and the onnx backend in interleaved rounds (the order alternates per round), after a fresh
ONNX export (timed) into a temporary folder unless ``--onnx-cache`` names one. Reported: images per second of
each backend per round and their median, onnx ÷ torch, preprocessing alone, model load / export seconds and
file sizes, and the agreement of the two backends' vectors on ``--recall-images`` posters: cosine (mean, min)
and neighbour recall@10 (the share of each query poster's 10 nearest neighbours under torch's vectors that
onnx's also rank in their top 10). ``--input-sizes`` times the raw ONNX network (no preprocessing) at other
input sizes (a dynamic-size export), to revisit the input-size choice of `movie_assets.posters.preprocess`.

Prints a human-readable report and, last, one ``BENCH_JSON`` line with every figure. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_embeddings import neighbour_recall  # noqa: E402

from movie_assets.embeddings.onnx_int8 import cpu_session, quiet_export, usable_cores  # noqa: E402
from movie_assets.posters import preprocess  # noqa: E402
from movie_assets.posters.image_backends import load_image_encoder  # noqa: E402
from movie_assets.posters.image_model import build_network, default_weights_path  # noqa: E402


def synthetic_posters(n: int, seed: int = 0, size: tuple[int, int] = (185, 278)) -> list:
    """``n`` poster-like RGB images: a vertical two-colour gradient, 2-5 shapes, a title bar with text."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, size[1])[:, None, None]
    out = []
    for i in range(n):
        top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        pixels = (top * (1 - ramp) + bottom * ramp).repeat(size[0], axis=1).astype(np.uint8)
        image = Image.fromarray(pixels, "RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(2, 6))):
            x, y, r = int(rng.integers(0, size[0] - 30)), int(rng.integers(0, size[1] - 30)), int(rng.integers(15, 90))
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + r, y + r), fill=fill)
        bar = int(rng.integers(20, 60))
        draw.rectangle((0, size[1] - bar, size[0], size[1]), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw.text((8, size[1] - bar + 4), f"MOVIE {i}", fill=(255, 255, 255))
        out.append(image)
    return out


def bench_encoders(n_images: int, n_recall: int, batch_size: int, rounds: int, cache_dir: str | None) -> dict:
    """Interleaved torch / onnx rounds over the same posters; speed, load times and agreement."""
    images = synthetic_posters(max(n_images, n_recall))
    t = time.perf_counter()
    torch_encoder = load_image_encoder("torch", device="cpu")
    torch_load_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory(prefix="image-onnx-bench-") as scratch:
        t = time.perf_counter()
        onnx_encoder = load_image_encoder("onnx", cache_dir=cache_dir or scratch)
        onnx_load_s = time.perf_counter() - t
        export_s = onnx_encoder.export_seconds
        onnx_mb = onnx_encoder.onnx_path.stat().st_size / 1e6
    print(f"  torch loaded in {torch_load_s:.1f}s; onnx {'exported' if export_s is not None else 'cached'} and "
          f"loaded in {onnx_load_s:.1f}s" + (f" (export {export_s:.1f}s)" if export_s is not None else ""), flush=True)
    pair = {"torch": torch_encoder, "onnx": onnx_encoder}
    for encoder in pair.values():  # warm-up
        encoder.encode(images[:batch_size], batch_size=batch_size)
    timed = images[:n_images]
    rates: dict[str, list[float]] = {name: [] for name in pair}
    for r in range(rounds):
        for name in (pair if r % 2 == 0 else reversed(pair)):
            t = time.perf_counter()
            pair[name].encode(timed, batch_size=batch_size)
            rates[name].append(len(timed) / (time.perf_counter() - t))
        print(f"  round {r + 1}: torch {rates['torch'][-1]:.1f}/s, onnx {rates['onnx'][-1]:.1f}/s", flush=True)
    t = time.perf_counter()
    for start in range(0, len(timed), batch_size):
        preprocess.prepare(timed[start : start + batch_size])
    prep_rate = len(timed) / (time.perf_counter() - t)
    recall_set = images[:n_recall]
    vectors = {name: encoder.encode(recall_set, batch_size=batch_size) for name, encoder in pair.items()}
    cosine = (vectors["onnx"] * vectors["torch"]).sum(axis=1)
    ratios = [o / t for o, t in zip(rates["onnx"], rates["torch"], strict=True)]
    weights = default_weights_path()
    return {
        "images": len(timed),
        "image_size": "185x278 synthetic posters (seed 0)",
        "input_size": f"{preprocess.INPUT_WIDTH}x{preprocess.INPUT_HEIGHT}",
        "batch_size": batch_size,
        "rounds": rounds,
        "torch_threads": _torch_threads(),
        "onnx_threads": onnx_encoder.threads,
        "torch_load_seconds": round(torch_load_s, 2),
        "onnx_load_seconds": round(onnx_load_s, 2),
        "onnx_export_seconds": round(export_s, 2) if export_s is not None else None,
        "onnx_file_mb": round(onnx_mb, 1),
        "weights_file_mb": round(weights.stat().st_size / 1e6, 1),
        "torch_images_per_s": [round(x, 1) for x in rates["torch"]],
        "onnx_images_per_s": [round(x, 1) for x in rates["onnx"]],
        "torch_median_images_per_s": round(float(np.median(rates["torch"])), 1),
        "onnx_median_images_per_s": round(float(np.median(rates["onnx"])), 1),
        "ratio_per_round": [round(x, 3) for x in ratios],
        "ratio_median": round(float(np.median(ratios)), 3),
        "preprocess_images_per_s": round(prep_rate, 1),
        "recall_images": len(recall_set),
        "mean_cosine": round(float(cosine.mean()), 6),
        "min_cosine": round(float(cosine.min()), 6),
        "recall_at_10": round(neighbour_recall(vectors["torch"], vectors["onnx"], n_queries=min(300, n_recall)), 4),
        "model_ids": {name: encoder.model_id for name, encoder in pair.items()},
    }


def bench_input_sizes(sizes: list[str], batch_size: int, rounds: int) -> dict:
    """Raw ONNX network images/s (random inputs, no preprocessing) per ``WxH`` input size, interleaved."""
    import torch

    network = build_network(default_weights_path())
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in sizes]
    with tempfile.TemporaryDirectory(prefix="image-onnx-sizes-") as scratch:
        path = os.path.join(scratch, "dynamic.onnx")
        with quiet_export(), torch.no_grad():
            torch.onnx.export(network, (torch.zeros(2, 3, 224, 224),), path, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "b", 2: "h", 3: "w"}, "y": {0: "b"}}, opset_version=17,
                              dynamo=False)
        session = cpu_session(path, usable_cores())
        rng = np.random.default_rng(0)
        feeds = {s: rng.standard_normal((batch_size, 3, s[1], s[0])).astype(np.float32) for s in shapes}
        rates: dict[str, list[float]] = {f"{w}x{h}": [] for w, h in shapes}
        for r in range(rounds):
            for w, h in (shapes if r % 2 == 0 else shapes[::-1]):
                session.run(None, {"x": feeds[(w, h)][:2]})
                t = time.perf_counter()
                session.run(None, {"x": feeds[(w, h)]})
                rates[f"{w}x{h}"].append(batch_size / (time.perf_counter() - t))
    return {size: round(float(np.median(v)), 1) for size, v in rates.items()}


def bench_downloads(n: int, image_rate: float) -> dict:
    """Fetch ``n`` emulator posters at ``image_rate`` against an emulator limited to it; embed them; disk use."""
    import asyncio
    from pathlib import Path

    import pyarrow as pa

    from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
    from movie_assets.lake import Lake, write_parquet_atomic
    from movie_assets.posters import year_posters, year_vectors
    from movie_assets.tmdb.client import TMDbClient
    from movie_assets.tmdb.config import TMDbSettings

    catalog = Catalog(seed=11, movies_per_year=max(2000, n))
    ids, paths = [], []
    for year in catalog.years:
        for summary in catalog.movies_in_year(year):
            path = catalog.details(summary.id)["poster_path"]
            if path:
                ids.append(summary.id)
                paths.append(path)
            if len(ids) == n:
                break
        if len(ids) == n:
            break
    with tempfile.TemporaryDirectory() as root, running_emulator(
            catalog=catalog, options=EmulatorOptions(image_rate_limit=image_rate)) as emulator:
        lake = Lake.at(Path(root) / "data")
        write_parquet_atomic(pa.table({"movie_id": pa.array(ids, pa.int64()), "poster_path": paths}),
                             lake.movies_year_file(2000))
        settings = TMDbSettings(base_url=emulator.base_url, image_requests_per_second=image_rate).for_images()

        async def fetch():
            async with TMDbClient(settings) as client:
                started = time.perf_counter()
                result = await year_posters.fetch_year_posters(lake, 2000, client)
                return result, time.perf_counter() - started, client.stats.as_dict()

        result, seconds, stats = asyncio.run(fetch())
        encoder = load_image_encoder("onnx", cache_dir=Path(root) / "models")
        vectors = year_vectors.embed_year_posters(lake, 2000, encoder)
        images = sum(p.stat().st_size for p in (lake.posters_dir / "w185").iterdir())
        table = lake.posters_year_file(2000).stat().st_size
        vector_file = lake.poster_vectors_year_file(2000).stat().st_size
    per = 100_000 / max(1, len(ids))
    return {"posters": len(ids), "image_rate_limit": image_rate, "seconds": round(seconds, 2),
            "posters_per_s": round(len(ids) / seconds, 1), "ok": result.counts().get("ok", 0),
            "rate_limited_429": stats.get("rate_limited", 0), "bytes_per_poster": round(images / len(ids)),
            "embed_images_per_s": round(vectors.rate, 1),
            "disk_per_100k_posters_mb": {"images": round(images * per / 1e6, 1),
                                         "posters_table": round(table * per / 1e6, 1),
                                         "vectors": round(vector_file * per / 1e6, 1)}}


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and rounds (~a minute)")
    parser.add_argument("--images", type=int, default=None, help="posters per timed round")
    parser.add_argument("--recall-images", type=int, default=500, help="posters for cosine and recall@10")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per backend")
    parser.add_argument("--onnx-cache", default=None, help="reuse the ONNX export here (default: fresh, timed)")
    parser.add_argument("--downloads", type=int, default=None, help="posters to fetch (default 3000; 1000 quick)")
    parser.add_argument("--image-rate", type=float, default=200.0, help="the emulator's image limit and the client's "
                        "rate (requests/s)")
    parser.add_argument("--input-sizes", nargs="*", default=None,
                        help="WxH input sizes for the raw ONNX network (default: none with --quick)")
    args = parser.parse_args(argv)
    n_images = args.images or (128 if args.quick else 512)
    rounds = args.rounds or (3 if args.quick else 5)
    sizes = args.input_sizes if args.input_sizes is not None else (
        [] if args.quick else ["224x224", "160x240", "192x288", "144x216", "128x192"])

    import onnxruntime
    import torch

    env = {"cpus": os.cpu_count(), "usable_cores": usable_cores(), "torch_threads": torch.get_num_threads(),
           "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "python": platform.python_version(),
           "load_avg_1m": round(os.getloadavg()[0], 2)}
    print(f"environment: {env}")
    figures: dict = {"benchmark": "posters", "env": env}
    n_downloads = args.downloads or (1000 if args.quick else 3000)
    print(f"downloads: {n_downloads} posters against the emulator at its image limit ({args.image_rate:g}/s)")
    down = bench_downloads(n_downloads, args.image_rate)
    figures["downloads"] = down
    print(f"  {down['posters_per_s']}/s ({down['seconds']}s), {down['rate_limited_429']} × 429, "
          f"{down['bytes_per_poster']} bytes per poster; embedded at {down['embed_images_per_s']}/s; disk per 100k "
          f"posters (MB): {down['disk_per_100k_posters_mb']}", flush=True)
    print(f"encoders: torch vs onnx on {n_images} posters, batch {args.batch_size}, {rounds} interleaved rounds")
    enc = bench_encoders(n_images, args.recall_images, args.batch_size, rounds, args.onnx_cache)
    figures["encoders"] = enc
    print(f"  median: torch {enc['torch_median_images_per_s']:.1f}/s, onnx {enc['onnx_median_images_per_s']:.1f}/s → "
          f"ratio {enc['ratio_median']:.2f}; preprocessing alone {enc['preprocess_images_per_s']:.0f}/s; cosine mean "
          f"{enc['mean_cosine']:.6f} (min {enc['min_cosine']:.6f}); neighbour recall@10 {enc['recall_at_10']:.3f} "
          f"over {enc['recall_images']} posters", flush=True)
    if sizes:
        print(f"input sizes: raw ONNX network, batch {args.batch_size}, median of {rounds} rounds")
        figures["input_sizes_images_per_s"] = bench_input_sizes(sizes, args.batch_size, rounds)
        print(f"  {figures['input_sizes_images_per_s']}", flush=True)
    print("BENCH_JSON " + json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
