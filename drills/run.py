"""Fault drills against the TMDb emulator. Prints PASS/FAIL with figures; exits non-zero on any FAIL.

    python drills/run.py            # full sizes (a ~2,900-movie year, 10 kills)
    python drills/run.py --quick    # CI sizes (a ~580-movie year, 3 kills)
    python drills/run.py --only faults kills secrets

* faults — one year harvested through 10% 5xx, 2% hangs (short client read timeout), dropped connections,
  429 bursts (a low server rate limit) and all of them at once; each year's final ``movies`` Parquet must
  be byte-identical to a clean run's (separate temporary lakes; the emulator's frozen ``Date`` header
  makes ``harvested_at`` deterministic), and each fault must really have been injected.
* kills — a subprocess fetching one year's details is killed with SIGKILL at seeded random points, then
  re-run to completion: output identical to a clean run, at most one batch fetched twice (details
  requests counted by the standalone emulator's ``/__emulator/stats``), no shard discarded as corrupt.
* secrets — ``dagster asset materialize`` of one year against a standalone emulator that requires a
  recognizable fake API key (then once more with a wrong key, to cover error paths): the key must appear
  in none of the captured stdout/stderr, compute logs, SQLite event log rows (incl. metadata) or any file
  under DAGSTER_HOME and the data directory.
* readers — a reader process reads the DuckDB ``movies`` view, ``movies_consolidated``, ``movies.parquet`` and
  the ``movies_parquet/`` folder (pyarrow, pandas) in a loop while sync-like rebuilds move movies between
  years and ``movies_db`` is rebuilt: zero torn reads (a movie in two years or none) and zero errors.
* churn — 60 simulated days (5 at CI size) of a living catalog with every kind of event, synced through kills,
  per-year runs and answers without ``Date``, a reader throughout: at the end the lake equals the emulator's
  truth exactly and no read was torn (`drills/churn.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import emulator_process, emulator_stats, reset_emulator  # noqa: E402
from drills.churn import churn_drill  # noqa: E402
from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator  # noqa: E402
from movie_assets.harvest import stages, year_build  # noqa: E402
from movie_assets.harvest.store import DetailsStore  # noqa: E402
from movie_assets.lake import (  # noqa: E402
    Lake,
    file_sha256,
    readers,  # noqa: E402
)
from movie_assets.lake.locks import partitions_lock  # noqa: E402
from movie_assets.tmdb.client import TMDbClient  # noqa: E402
from movie_assets.tmdb.config import TMDbSettings  # noqa: E402

YEAR = 2023
SEED = 42


@dataclass
class Outcome:
    drill: str
    ok: bool
    figures: dict = field(default_factory=dict)
    detail: str = ""

    def line(self) -> str:
        figures = " ".join(f"{k}={v}" for k, v in self.figures.items())
        return f"{'PASS' if self.ok else 'FAIL'} {self.drill}: {figures}" + (f" — {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class Sizes:
    movies_per_year: int
    kills: int
    batch_size: int
    secrets_movies_per_year: int

    @classmethod
    def for_mode(cls, quick: bool) -> Sizes:
        if quick:
            return cls(movies_per_year=600, kills=3, batch_size=50, secrets_movies_per_year=300)
        return cls(movies_per_year=3000, kills=10, batch_size=100, secrets_movies_per_year=1000)




# -- faults -------------------------------------------------------------------------------------------
FAULTS: dict[str, tuple[dict, dict]] = {
    # name → (emulator options, client settings overrides)
    "5xx_10pct": ({"error_rate": 0.10}, {}),
    "hang_2pct": ({"hang_rate": 0.02, "hang_seconds": 3.0}, {"read_timeout": 0.5}),
    "drop_5pct": ({"drop_rate": 0.05}, {}),
    "429_bursts": ({"rate_limit": 100.0}, {"requests_per_second": 1000.0}),
    "all_at_once": (
        {"error_rate": 0.05, "hang_rate": 0.01, "hang_seconds": 3.0, "drop_rate": 0.03, "truncate_rate": 0.03,
         "rate_limit": 300.0},
        {"read_timeout": 0.5, "requests_per_second": 1000.0},
    ),
}
FAULT_COUNTER = {"5xx_10pct": "error", "hang_2pct": "hang", "drop_5pct": "drop", "429_bursts": "rate_limited",
                 "all_at_once": "error"}


async def harvest_year(base_url: str, lake: Lake, year: int, batch_size: int, **overrides) -> dict:
    values = dict(base_url=base_url, requests_per_second=2000.0, backoff_base=0.02, backoff_max=0.5,
                  max_attempts=12, read_timeout=5.0)
    values.update(overrides)
    async with TMDbClient(TMDbSettings(**values)) as client:
        await stages.harvest_year(client, lake, year, batch_size=batch_size, concurrency=20)
        return client.stats.as_dict()


def fault_drills(sizes: Sizes, tmp: Path, only: list[str] | None = None) -> list[Outcome]:
    catalog = Catalog(seed=SEED, movies_per_year=sizes.movies_per_year)
    clean = Lake.at(tmp / "clean")
    with running_emulator(catalog=catalog) as emu:
        asyncio.run(harvest_year(emu.base_url, clean, YEAR, sizes.batch_size))
    reference = file_sha256(clean.movies_year_file(YEAR))
    movies = len(readers.discover_ids(clean, YEAR))
    outcomes = []
    for name, (options, overrides) in FAULTS.items():
        if only and name not in only:
            continue
        lake = Lake.at(tmp / name)
        started = time.monotonic()
        error = ""
        stats: dict = {}
        with running_emulator(catalog=catalog, options=EmulatorOptions(seed=7, **options)) as emu:
            try:
                stats = asyncio.run(harvest_year(emu.base_url, lake, YEAR, sizes.batch_size, **overrides))
            except Exception as exc:  # reported as a FAIL with its message
                error = f"{type(exc).__name__}: {exc}"
            server = emu.stats()
        seconds = time.monotonic() - started
        injected = server["faults"][FAULT_COUNTER[name]]
        identical = not error and file_sha256(lake.movies_year_file(YEAR)) == reference
        ok = identical and injected > 0
        detail = error or ("" if identical else "output differs from the clean run")
        if not injected:
            detail = (detail + "; " if detail else "") + "no fault was injected"
        outcomes.append(Outcome(
            f"faults/{name}", ok,
            {"movies": movies, "requests": server["requests_total"], "faults": sum(server["faults"].values()),
             "client_retries": stats.get("retries_total"), "identical": identical, "seconds": round(seconds, 1)},
            detail,
        ))
    return outcomes


# -- kills --------------------------------------------------------------------------------------------
def movie_requests(base_url: str) -> int:
    return emulator_stats(base_url)["by_path"].get("movie", 0)


def worker_cmd(base_url: str, lake: Lake, batch_size: int) -> list[str]:
    return [sys.executable, str(ROOT / "drills" / "details_worker.py"), "--base-url", base_url,
            "--data-dir", str(lake.root), "--year", str(YEAR), "--batch-size", str(batch_size)]


def run_worker(base_url: str, lake: Lake, batch_size: int) -> dict:
    proc = subprocess.run(worker_cmd(base_url, lake, batch_size), cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"details worker failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def kill_drills(sizes: Sizes, tmp: Path) -> list[Outcome]:
    rng = random.Random(SEED)
    outcomes = []
    with emulator_process("--movies-per-year", str(sizes.movies_per_year), "--seed", str(SEED),
                          "--latency", "0.002") as base_url:
        template = Lake.at(tmp / "template")
        asyncio.run(_discover(base_url, template))
        movies = len(readers.discover_ids(template, YEAR))
        clean = copy_lake(template, tmp / "clean")
        reset_emulator(base_url)
        run_worker(base_url, clean, sizes.batch_size)
        clean_requests = movie_requests(base_url)
        year_build.build_movies_year(clean, YEAR)
        reference = file_sha256(clean.movies_year_file(YEAR))
        outcomes.append(Outcome("kills/clean", clean_requests == movies,
                                {"movies": movies, "details_requests": clean_requests}))
        for trial in range(1, sizes.kills + 1):
            lake = copy_lake(template, tmp / f"kill-{trial}")
            target = rng.randint(1, max(1, int(movies * 0.95)))
            reset_emulator(base_url)
            proc = subprocess.Popen(worker_cmd(base_url, lake, sizes.batch_size), cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while proc.poll() is None and movie_requests(base_url) < target:
                time.sleep(0.005)
            finished_before_kill = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            at_kill = movie_requests(base_url)
            shards_at_kill = len(DetailsStore(lake.details_store_dir).shard_paths())
            leftovers = len(list(lake.details_store_dir.glob(".*.tmp")))
            error = ""
            try:
                rerun = run_worker(base_url, lake, sizes.batch_size)
                year_build.build_movies_year(lake, YEAR)
                identical = file_sha256(lake.movies_year_file(YEAR)) == reference
            except Exception as exc:  # reported as a FAIL
                rerun, identical, error = {}, False, f"{type(exc).__name__}: {exc}"
            total = movie_requests(base_url)
            refetched = total - movies
            discarded = len(rerun.get("discarded_shards", []))
            ok = identical and 0 <= refetched <= sizes.batch_size and discarded == 0 and not finished_before_kill
            detail = error or ("" if ok else
                               f"identical={identical} refetched={refetched} discarded={discarded} "
                               f"finished_before_kill={finished_before_kill}")
            outcomes.append(Outcome(
                f"kills/{trial}", ok,
                {"kill_at_request": at_kill, "shards_at_kill": shards_at_kill, "tmp_files_left": leftovers,
                 "rerun_requests": total - at_kill, "refetched": refetched, "batch": sizes.batch_size,
                 "identical": identical},
                detail,
            ))
    return outcomes


async def _discover(base_url: str, lake: Lake) -> None:
    async with TMDbClient(TMDbSettings(base_url=base_url, requests_per_second=2000.0)) as client:
        await stages.run_discover(client, lake, YEAR)


def copy_lake(template: Lake, root: Path) -> Lake:
    shutil.copytree(template.root, root, symlinks=True)  # movies_parquet stays a link to its generation
    return Lake.at(root)


# -- secrets ------------------------------------------------------------------------------------------
SECRET_YEAR = "2020"
FAKE_KEY = "drillFAKEkey0000SECRET1234567890"
WRONG_KEY = "drillWRONGkey000SECRET0987654321"


def scan_for(secret: str, paths: list[Path], texts: dict[str, str]) -> dict:
    """Count files and texts containing ``secret`` (raw bytes, and SQLite rows decoded)."""
    needle = secret.encode()
    hits: list[str] = []
    files = 0
    scanned_bytes = 0
    for base in paths:
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            files += 1
            data = path.read_bytes()
            scanned_bytes += len(data)
            if needle in data:
                hits.append(str(path))
            if path.suffix == ".db":
                for table, text in sqlite_text(path):
                    scanned_bytes += len(text)
                    if secret in text:
                        hits.append(f"{path}:{table}")
    for name, text in texts.items():
        scanned_bytes += len(text)
        if secret in text:
            hits.append(name)
    return {"files": files, "bytes": scanned_bytes, "hits": hits}


def sqlite_text(path: Path) -> list[tuple[str, str]]:
    """Every row of every table of a SQLite file as text (event log bodies, run config, metadata)."""
    out = []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608 - names from sqlite_master
            out.append((table, "\n".join(repr(r) for r in rows)))
    return out


def materialize(base_url: str, key: str, tmp: Path) -> tuple[subprocess.CompletedProcess, Path, Path]:
    home, data, work = tmp / "dagster_home", tmp / "data", tmp / "work"
    for d in (home, data, work):
        d.mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "DAGSTER_", "MOVIE_ASSETS_"))}
    env.update(DAGSTER_HOME=str(home), MOVIE_ASSETS_DATA_DIR=str(data), TMDB_BASE_URL=base_url,
               TMDB_API_KEY=key, TMDB_REQUESTS_PER_SECOND="1000")
    dagster = Path(sys.executable).parent / "dagster"
    cmd = [str(dagster), "asset", "materialize", "-m", "movie_assets.definitions",
           "--select", "discover_movies,movie_details,movies", "--partition", SECRET_YEAR]
    # cwd is an empty directory so no stray .env is loaded; the package is installed in the venv.
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    return proc, home, data


def secrets_drills(sizes: Sizes, tmp: Path) -> list[Outcome]:
    outcomes = []
    with emulator_process("--movies-per-year", str(sizes.secrets_movies_per_year), "--api-key", FAKE_KEY) as base_url:
        for case, key in (("right_key", FAKE_KEY), ("wrong_key", WRONG_KEY)):
            reset_emulator(base_url)
            started = time.monotonic()
            proc, home, data = materialize(base_url, key, tmp / case)
            server = emulator_stats(base_url)
            compute_logs = [p for p in home.rglob("*") if p.suffix in (".out", ".err", ".complete")]
            scan = scan_for(key, [home, data, tmp / case / "work"], {"stdout": proc.stdout, "stderr": proc.stderr})
            # Positive control: the scanner does find the key where it is.
            canary = tmp / case / "canary"
            canary.mkdir()
            (canary / "planted.txt").write_text(f"x{key}x")
            control = scan_for(key, [canary], {})["hits"]
            output = proc.stdout + proc.stderr
            if case == "right_key":
                succeeded = proc.returncode == 0 and Lake.at(data).movies_year_file(SECRET_YEAR).exists()
                expected = succeeded and server["faults"]["unauthorized"] == 0
                why = "" if expected else f"run failed (exit {proc.returncode}): {output.strip()[-800:]}"
            else:
                expected = proc.returncode != 0 and "TMDB_API_KEY" in output and server["faults"]["unauthorized"] > 0
                why = "" if expected else f"expected a failure naming TMDB_API_KEY (exit {proc.returncode})"
            ok = expected and not scan["hits"] and bool(control) and bool(compute_logs)
            detail = why or (f"key found in: {scan['hits'][:5]}" if scan["hits"] else "")
            if not compute_logs:
                detail += " no compute logs were found to search"
            outcomes.append(Outcome(
                f"secrets/{case}", ok,
                {"exit": proc.returncode, "api_requests": server["requests_total"], "files_searched": scan["files"],
                 "compute_logs": len(compute_logs), "bytes_searched": scan["bytes"], "hits": len(scan["hits"]),
                 "seconds": round(time.monotonic() - started, 1)},
                detail.strip(),
            ))
    return outcomes


# -- readers ----------------------------------------------------------------------------------------------
READER_YEARS = (2021, 2022, 2023)


def move_movies(lake: Lake, rng: random.Random, ids: list[int], moves: int, round_: int) -> int:
    """Store a new version of ``moves`` movies dated in another of the `READER_YEARS` (as TMDb's changes
    would), then rebuild every reader year under one partitions lock, as the catalog sync does."""
    from movie_assets.harvest.store import DetailsRecord

    store = DetailsStore(lake.details_store_dir)
    latest = store.latest(ids=rng.sample(ids, moves))
    observed = pc.max(store.latest().column("observed_at")).as_py() + dt.timedelta(seconds=1)
    records = []
    for record in store.records(latest).values():
        details = json.loads(record.payload)
        year = int(details["release_date"][:4])
        details["release_date"] = f"{rng.choice([y for y in READER_YEARS if y != year])}{details['release_date'][4:]}"
        details["vote_count"] = round_  # never the bytes of an earlier version
        records.append(DetailsRecord(record.movie_id, record.status, observed, json.dumps(details)))
    store.append(records)
    with partitions_lock(lake):
        view = year_build.StoreView.load(lake)
        for year in READER_YEARS:
            year_build.build_movies_year(lake, year, require_discover=False, view=view)
    return len(records)


def readers_drill(sizes: Sizes, tmp: Path) -> list[Outcome]:
    """A reader process reads the ``movies`` view, ``movies_consolidated``, ``movies.parquet`` and the
    ``movies_parquet/`` folder (pyarrow, pandas, resolved once) in a loop while this process moves movies
    between years, rebuilding the years under one lock as a sync does, and rebuilds ``movies_db``: zero torn
    reads (a movie in two years or none), zero errors. Folder reads that raced a switch are counted apart."""
    from movie_assets.warehouse import build as warehouse

    lake = Lake.at(tmp / "data")
    catalog = Catalog(seed=SEED, movies_per_year=sizes.movies_per_year)
    with running_emulator(catalog=catalog) as emu:
        for year in READER_YEARS:
            asyncio.run(harvest_year(emu.base_url, lake, year, sizes.batch_size))
    warehouse.build_movies_db(lake)
    ids = warehouse.read_movies(lake).column("movie_id").to_pylist()
    seconds = 8.0 if sizes.kills < 10 else 30.0
    reader = subprocess.Popen(
        [sys.executable, str(ROOT / "drills" / "reader_worker.py"), "--data-dir", str(lake.root),
         "--total", str(len(ids)), "--seconds", str(seconds)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    rng = random.Random(SEED)
    syncs = moved = rebuilt_dbs = 0
    while reader.poll() is None:
        moved += move_movies(lake, rng, ids, 20, syncs + 1)
        syncs += 1
        if syncs % 3 == 0:
            warehouse.build_movies_db(lake)
            rebuilt_dbs += 1
    seen = json.loads(reader.stdout.read().strip().splitlines()[-1])
    ok = seen["reads"] > 0 and seen["torn"] == 0 and seen["errors"] == 0 and moved > 0
    return [Outcome(
        "readers", ok,
        {"reads": seen["reads"], "torn": seen["torn"], "raced_and_retried": seen["raced"], "errors": seen["errors"],
         "syncs": syncs, "movies_moved": moved, "movies_db_rebuilt": rebuilt_dbs},
        "; ".join(seen["messages"]),
    )]


# -- main -------------------------------------------------------------------------------------------------
DRILLS: dict[str, Callable[[Sizes, Path], list[Outcome]]] = {
    "faults": fault_drills,
    "kills": kill_drills,
    "secrets": secrets_drills,
    "readers": readers_drill,
    "churn": churn_drill,
}


def run(quick: bool, only: list[str] | None = None, echo: Callable[[str], None] = print) -> list[Outcome]:
    sizes = Sizes.for_mode(quick)
    outcomes: list[Outcome] = []
    for name, drill in DRILLS.items():
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"drill-{name}-") as tmp:
            started = time.monotonic()
            try:
                results = drill(sizes, Path(tmp))
            except Exception as exc:  # a drill that cannot even run is a FAIL, not a crash
                results = [Outcome(name, False, {}, f"{type(exc).__name__}: {exc}")]
            for outcome in results:
                echo(outcome.line())
            echo(f"   ({name}: {time.monotonic() - started:.1f}s)")
            outcomes.extend(results)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI sizes")
    parser.add_argument("--only", nargs="*", choices=sorted(DRILLS))
    args = parser.parse_args()
    outcomes = run(args.quick, args.only, echo=lambda s: print(s, flush=True))
    failed = [o.drill for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(failed)}/{len(outcomes)} drills passed" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
