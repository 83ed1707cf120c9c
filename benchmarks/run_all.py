"""Run every benchmark script, collect their figures, write BENCHMARKS.md and benchmarks/results.json.

    python benchmarks/run_all.py            # full sizes (the scale run harvests ~1.19M movies: ~30 min)
    python benchmarks/run_all.py --quick    # reduced sizes, for CI: the whole suite in a few minutes
    python benchmarks/run_all.py --quick --only lake scale
    python benchmarks/run_all.py --markdown-only   # rewrite BENCHMARKS.md from results.json, run nothing

BENCHMARKS.md is short on purpose: the headline table (each figure with its target and whether it holds),
one line per benchmark run and how to reproduce them. Every figure of every run stays in results.json.

Each script runs as its own subprocess and prints one ``BENCH_JSON {...}`` line (a script that prints a
bare JSON object as its last line is accepted too). A script that fails is recorded as failed with the
tail of its output, the others still run, and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# name → (script, full arguments, quick arguments); scripts that do not exist (yet) are skipped.
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "client": ("bench_client.py", [], ["--seconds", "5"]),
    # four years at once, each worker at the full rate, shared schedule vs off, interleaved (~11 min; quick ~1.5)
    "concurrent_years": ("bench_concurrent_years.py", [], ["--quick"]),
    "harvest": ("bench_harvest.py", [], ["--movies-per-year", "12000"]),
    "harvest_drift": ("bench_drift.py", [], ["--quick"]),
    "lake": ("bench_lake.py", [], ["--quick"]),
    "incremental": ("bench_incremental.py", [], ["--quick"]),
    "scale": ("bench_scale.py", ["--with-db"], ["--quick", "--with-db"]),
    "embeddings": ("bench_embeddings.py", [], ["--quick"]),
    "embed_fanout": ("bench_embed_fanout.py", [], ["--quick"]),
    "sync": ("bench_sync.py", [], ["--quick"]),
    # 1M vectors derived from 20k encoded movies, HNSW/IVF grid (~20-25 min on 2 cores); quick: 100k from 5k
    "index_1m": ("bench_index_1m.py", ["--vectors", "1000000", "--base", "20000"], ["--quick"]),
    # the poster image encoder: torch vs float32 ONNX, interleaved, plus ONNX input sizes (~3 min; quick ~1)
    "posters": ("bench_posters.py", [], ["--quick"]),
    # 25M synthetic interactions over a 60k-movie lake (ml-25m's size): the dataset build (~15 min); quick: 1M / 6k
    "recsys": ("bench_recsys.py", [], ["--quick"]),
    # four years of ingest_job + embeddings_job on a local Celery cluster, 1 worker vs 2, interleaved (~15 min)
    "cluster": ("bench_cluster.py", [], ["--quick"]),
}


@dataclass(frozen=True)
class Headline:
    """One figure a reader should see first: where it comes from, its target, and whether it holds."""

    key: str
    what: str
    target: str
    holds: Callable[[float], bool]
    benchmark: str  # the ``benchmark`` name of the figures it is read from
    figure: str  # dotted path in those figures
    full_only: bool = False  # measured by the full run only (quick mode keeps the committed value)


HEADLINES = [
    Headline("lake_build_over_bare_write", "a year's `movies` build ÷ a bare `pq.write_table` of it", "≤ 8 (stretch 5)",
             lambda v: v <= 8, "lake_movies_year", "build_over_bare_write"),
    Headline("embed_speedup_over_torch", "embedding docs/s, default backend ÷ torch (median of interleaved rounds)",
             "≥ 2", lambda v: v >= 2, "embeddings", "backends.ratio_median"),
    Headline("embed_mean_cosine_vs_torch", "mean cosine of the default backend's vectors to torch's", "≥ 0.985",
             lambda v: v >= 0.985, "embeddings", "backends.mean_cosine"),
    Headline("embed_neighbour_recall_at_10_vs_torch", "neighbour recall@10 of the default backend against torch",
             "≥ 0.85", lambda v: v >= 0.85, "embeddings", "backends.recall_at_10"),
    Headline("embed_fanout_speedup_2_workers", "embedding wall time, 1 worker process ÷ 2 (years split between them)",
             "> 1 (2 cores)", lambda v: v > 1, "embeddings_fanout", "speedup_two_workers"),
    Headline("requests_per_movie", "requests per movie, harvesting a year", "≤ 1.06", lambda v: v <= 1.06,
             "harvest_year", "requests_per_movie"),
    Headline("payload_after_over_before", "stored details payload per movie, the richer call (every append the "
             "movies table reads) ÷ credits,keywords only (bytes: `payload_bytes_per_movie_*` of `harvest_year`)",
             "report (1 request either way)", lambda v: True, "harvest_year", "payload_after_over_before"),
    Headline("store_mib_per_100k", "details store size per 100k movies, MiB", "report", lambda v: True,
             "harvest_year", "store_mib_per_100k_movies"),
    Headline("requests_per_movie_drift", "requests per movie against a server whose popularity drifts", "≤ 1.06",
             lambda v: v <= 1.06, "harvest_drift", "requests_per_movie"),
    Headline("sync_requests_per_changed_movie", "catalog sync: requests per changed or new movie", "≤ 1.1",
             lambda v: v <= 1.1, "catalog_sync", "incremental_requests_per_changed_movie"),
    Headline("sync_missing_after_30_days", "catalog sync: movies missing after 30 days of churn", "0",
             lambda v: v == 0, "catalog_sync", "after_days_missing"),
    Headline("client_recovery_seconds", "seconds from the last 429 back to ≥ 95 % of the configured rate", "≤ 60",
             lambda v: v <= 60, "client_recovery", "recovered_95pct_seconds_after_last_429"),
    Headline("client_429s_after_recovery", "429s at the limit once recovered", "0", lambda v: v == 0,
             "client_recovery", "429s_after_recovery"),
    Headline("concurrent_years_rate_over_limit",
             "four years harvested at once, every worker at the full rate, sharing the rate file: requests the "
             "server saw per second ÷ its limit", "≤ 1.0", lambda v: v <= 1.0, "concurrent_years",
             "shared.rate_over_limit"),
    Headline("concurrent_years_429s", "429s of those four years (the same workers without sharing: "
             "`off.http_429` of `concurrent_years` in results.json)", "0", lambda v: v == 0, "concurrent_years",
             "shared.http_429"),
    Headline("poster_onnx_over_torch", "poster images/s embedded, float32 ONNX ÷ torch on 2 cores (median of "
             "interleaved rounds)", "≥ 1.5", lambda v: v >= 1.5, "posters", "encoders.ratio_median"),
    Headline("poster_neighbour_recall_onnx_vs_torch", "poster neighbour recall@10, ONNX against torch", "≥ 0.95",
             lambda v: v >= 0.95, "posters", "encoders.recall_at_10"),
    Headline("poster_downloads_per_s", "posters/s downloaded against the emulator limited to 200 images/s", "report",
             lambda v: True, "posters", "downloads.posters_per_s"),
    Headline("poster_vectors_mb_per_100k", "poster vectors per 100k posters, MB (Parquet)", "report", lambda v: True,
             "posters", "downloads.disk_per_100k_posters_mb.vectors"),
    Headline("recsys_build_seconds_25m", "recommender dataset build, 25M interactions over 60k movies (indexes, "
             "split, aligned arrays, as-of features, atomic write), seconds on 2 cores", "≤ 120", lambda v: v <= 120,
             "recsys_build", "build_seconds", full_only=True),
    Headline("recsys_build_peak_rss_mb_25m", "peak RSS of that build, MiB", "≤ 4096", lambda v: v <= 4096,
             "recsys_build", "build_peak_rss_mb", full_only=True),
    Headline("cluster_one_over_two_workers", "four-year backfill of ingest_job + embeddings_job on Celery: wall time "
             "with 1 worker ÷ with 2 (one machine, 2 cores, interleaved rounds)", "report (≥ 1)", lambda v: v >= 1,
             "cluster_backfill", "one_over_two_workers_median"),
    Headline("cluster_broker_hop_s", "seconds from a run's message sent to the broker to a free worker taking it "
             "(the fastest run's; the median includes waiting for a free worker)", "report", lambda v: True,
             "cluster_backfill", "broker_hop_s_min"),
    Headline("cluster_instance_writes_s_per_run", "seconds a run spends writing its events to PostgreSQL (event "
             "records × one write, median)", "report", lambda v: True, "cluster_backfill",
             "instance_writes_s_per_run"),
    Headline("full_catalog_movies", "movies harvested by the full-catalog run", "≈ 1.19M",
             lambda v: v >= 1_000_000, "scale_catalog", "movies", full_only=True),
    Headline("full_catalog_peak_rss_mb", "peak RSS of the full-catalog run, MiB", "< 1024", lambda v: v < 1024,
             "scale_catalog", "peak_rss_after_movies_db_mb", full_only=True),
    Headline("hnsw_recall_at_10_1m", "HNSW recall@10 at 1M vectors (default parameters)", "≥ 0.95",
             lambda v: v >= 0.95, "index_1m", "recall_at_10", full_only=True),
]


def headline(results: list[dict], previous: dict, quick: bool) -> dict:
    """``{key: {value, target, holds, what, source}}``; a figure this run did not measure keeps the value of
    ``previous`` (the committed results), marked with the run it came from."""
    out = {}
    for spec in HEADLINES:
        value = None
        value = _find(results, spec.benchmark, spec.figure, full_only=spec.full_only)
        entry = {"what": spec.what, "target": spec.target, "value": value, "measured": "this run"}
        if value is None and spec.key in previous:
            entry.update(value=previous[spec.key].get("value"), measured=previous[spec.key].get("measured")
                         if previous[spec.key].get("measured") != "this run" else previous.get("_run", "earlier"))
        entry["holds"] = None if entry["value"] is None else bool(spec.holds(entry["value"]))
        out[spec.key] = entry
    return out


def _find(results: list[dict], benchmark: str, figure: str, *, full_only: bool = False):
    for result in results:
        if full_only and result.get("mode") != "full":
            continue
        for figures in result.get("figures") or []:
            if figures.get("benchmark") != benchmark:
                continue
            value: object = figures
            for part in figure.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def parse_figures(stdout: str) -> list[dict]:
    """Every ``BENCH_JSON`` object in ``stdout``; else the last line if it is a bare JSON object."""
    found = [json.loads(line[len("BENCH_JSON "):]) for line in stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if found:
        return found
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return [json.loads(line)]
            except json.JSONDecodeError:
                return []
        if line:
            break
    return []


def run_one(name: str, script: str, args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(HERE / script), *args]
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr, code = f"timed out after {timeout:.0f}s", -1
    seconds = time.monotonic() - started
    sys.stdout.write(stdout)
    figures = parse_figures(stdout)
    ok = code == 0 and bool(figures)
    if not ok:
        print(f"   FAILED (exit {code}): {stderr.strip()[-1500:]}", flush=True)
    return {"name": name, "script": script, "args": args, "ok": ok, "exit_code": code, "date": machine()["date"],
            "seconds": round(seconds, 1), "figures": figures, "error": None if ok else stderr.strip()[-3000:]}


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return "`" + json.dumps(value, sort_keys=True) + "`"
    return str(value).replace("|", "\\|")


def flatten(figures: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Nested dicts as dotted keys (lists of dicts are indexed), so every figure gets its own row."""
    out: list[tuple[str, object]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += flatten(value, name + ".")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                out += flatten(item, f"{name}[{i}].")
        else:
            out.append((name, value))
    return out


def markdown(results: list[dict], info: dict, quick: bool, headlines: dict) -> str:
    """BENCHMARKS.md: the headline table, one row per benchmark run, how to reproduce. The raw figures are
    not repeated here; they are in results.json."""
    mode = "quick (reduced sizes, CI)" if quick else "full"
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python benchmarks/run_all.py{' --quick' if quick else ''}` — last run's mode: {mode} (each "
        "benchmark's own mode and date are in the runs table below; `--only` runs keep the others' figures).",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), Python {info['python']}, {info['platform']}; "
        f"run {info['date']}.",
        "",
        "Every ratio compares two measurements taken in the same run on this machine. Every figure of every "
        "run: `benchmarks/results.json` (its `headline` object holds the table below, `results[].figures` the "
        "rest). What each benchmark measures: [docs/benchmarks.md](docs/benchmarks.md).",
        "",
        "## Headline",
        "",
        "| figure | target | value | holds? |",
        "|---|---|---|---|",
    ]
    what = {spec.key: spec.what for spec in HEADLINES}
    for key, entry in headlines.items():
        value = "not measured yet" if entry["value"] is None else fmt(entry["value"])
        if entry["value"] is not None and entry["measured"] != "this run":
            value += f" ({entry['measured']})"
        holds = {True: "yes", False: "**no**", None: "—"}[entry["holds"]]
        lines.append(f"| {what.get(key, entry['what'])} | {entry['target']} | {value} | {holds} |")
    lines += [
        "",
        "## Runs",
        "",
        "| benchmark | script | run | seconds | figures |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        script = " ".join([f"benchmarks/{result['script']}", *result["args"]])
        when = f"{result.get('mode', 'quick')}, {result.get('date', 'an earlier day')}"
        if result["ok"]:
            count = sum(len(flatten(f)) for f in result["figures"])
            figures = f"{count} in results.json"
        else:
            figures = f"**FAILED** (exit {result['exit_code']}): see results.json"
        lines.append(f"| {result['name']} | `{script}` | {when} | {result['seconds']} | {figures} |")
    lines += [
        "",
        "## Reproduce",
        "",
        "```bash",
        "make bench                                   # every benchmark, full sizes (the scale run: ~1.19M movies)",
        "make bench BENCH_ARGS=--quick                # reduced sizes, as CI",
        ".venv/bin/python benchmarks/run_all.py --quick --only lake scale   # some; the others keep their figures",
        ".venv/bin/python benchmarks/run_all.py --markdown-only             # this file again from results.json",
        "```",
        "",
    ]
    return "\n".join(lines)


def ordered_headlines(headlines: dict) -> dict:
    """``headlines`` (as results.json stores them, keys sorted) in the order of `HEADLINES`."""
    order = [spec.key for spec in HEADLINES]
    return dict(sorted(headlines.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def markdown_from_results(payload: dict) -> str:
    """BENCHMARKS.md as `main` writes it, from a results.json payload (nothing is run)."""
    return markdown(payload.get("results", []), payload["machine"], payload.get("mode") == "quick",
                    ordered_headlines(payload.get("headline", {})))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="reduced sizes (CI)")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per script (default 900 quick, 7200)")
    parser.add_argument("--markdown-only", action="store_true",
                        help="run nothing: rewrite --output from the figures already in --results")
    args = parser.parse_args()
    if args.markdown_only:
        payload = json.loads(args.results.read_text(encoding="utf-8"))
        args.output.write_text(markdown_from_results(payload), encoding="utf-8")
        print(f"wrote {args.output} from {args.results}")
        return 0
    timeout = args.timeout or (900.0 if args.quick else 7200.0)
    info = machine()
    results = []
    for name, (script, full, quick) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        if not (HERE / script).exists():
            print(f"== {name}: {script} not present, skipped", flush=True)
            continue
        result = run_one(name, script, quick if args.quick else full, timeout)
        result["mode"] = "quick" if args.quick else "full"
        results.append(result)
    previous = json.loads(args.results.read_text(encoding="utf-8")) if args.results.exists() else {}
    if args.only:  # a partial run updates its benchmarks and keeps the others' figures
        ran = {r["name"] for r in results}
        results = [r for r in previous.get("results", []) if r["name"] not in ran] + results
        results.sort(key=lambda r: list(BENCHMARKS).index(r["name"]) if r["name"] in BENCHMARKS else 99)
    earlier = dict(previous.get("headline", {}))
    earlier["_run"] = f"{previous.get('mode', '?')} run of {previous.get('machine', {}).get('date', '?')}"
    headlines = headline(results, earlier, args.quick)
    payload = {"mode": "quick" if args.quick else "full", "machine": info, "headline": headlines,
               "results": results}
    args.results.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    args.output.write_text(markdown(results, info, args.quick, headlines), encoding="utf-8")
    failed = [r["name"] for r in results if not r["ok"]]
    print(f"wrote {args.output} and {args.results}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
