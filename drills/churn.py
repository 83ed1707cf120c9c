"""The long churn drill: a living catalog with every kind of event, synced day after day through kills,
per-year runs and answers without ``Date``, readers reading throughout; at the end the lake is the truth.

A small catalog (~3,800 movies; ~1,500 at CI size) churns with every `ChurnRates` event on: moves, deletions,
additions, flag flips, overview edits, exports that omit movies by mistake and partial export days. The
clock moves one day at a time (60 days; 5 at CI size) and each day runs one of:

* ``sync``: the catalog sync (`movie_assets.harvest.sync.sync`) in this process;
* ``kill``: the sync in a subprocess (``drills/sync_worker.py``) SIGKILLed at a random point (after a random
  number of API requests, or a random delay, so the rebuild and the cursor write can be hit too), then run
  again to completion here;
* ``years``: the per-year path as the changes sensor runs it: the changes feed since yesterday,
  `affected_years` (plus the years the lake holds those movies in), `stages.harvest_year` with ``refetch=``;

and some days the API answers without a ``Date`` header. A reader process (``drills/reader_worker.py``)
reads the view, ``movies.parquet`` and the folder all along; ``movies_db`` is rebuilt every other day.

At the end, after one more sync: the lake's ``movies`` against ``catalog.live_movies()`` (missing, extra,
misplaced), every row's vote_count / release_date / overview against today's details (stale),
``movies_as_of(now)`` against ``movies``, and the reader: no movie twice in a read, and every read's
fingerprint is that of a generation the drill saw published (a read that is no completed build is torn).
Stale vectors are not checked here (the embeddings are too slow for this size; another check covers them).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.harvest import stages
from movie_assets.harvest import sync as catalog_sync
from movie_assets.harvest.changes import affected_years, changed_ids_since
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings

ROOT = Path(__file__).resolve().parent.parent
SEED = 42
CLOCK = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)  # after 08:00: the day's export is out
RATES = ChurnRates(move=0.003, delete=0.001, add=0.003, flip=0.002, edit=0.003, export_omit=0.002,
                   export_partial=0.15, export_partial_share=0.05)
KINDS = ("sync", "kill", "years")
_GENERATION = re.compile(r"^\d{8}$")


def plan(days: int, rng: random.Random) -> list[tuple[str, bool]]:
    """``(kind, without Date)`` for each day: every kind, with and without ``Date``, at least once (when
    there are days enough), the rest drawn at random."""
    must = [("kill", False), ("years", False), ("sync", True), ("kill", True), ("sync", False), ("years", True)]
    rest = [(rng.choices(KINDS, weights=(0.4, 0.4, 0.2))[0], rng.random() < 0.15) for _ in range(days)]
    chosen = (must + rest)[:days]
    rng.shuffle(chosen)
    return chosen


def client_for(emu) -> TMDbClient:
    return TMDbClient(TMDbSettings(base_url=emu.base_url, exports_base_url=emu.root_url + "/p/exports",
                                   requests_per_second=3000, max_connections=50, backoff_base=0.01,
                                   backoff_max=0.05, max_attempts=6))


async def run_sync(emu, lake: Lake, batch_size: int) -> catalog_sync.SyncReport:
    async with client_for(emu) as client:
        return await catalog_sync.sync(client, lake, batch_size=batch_size, concurrency=20)


async def run_years(emu, lake: Lake, day: dt.date, batch_size: int) -> int:
    """The changes sensor's per-year runs for the changes since yesterday; the number of years run."""
    from movie_assets.warehouse.build import read_movies

    async with client_for(emu) as client:
        changes = await changed_ids_since(client, day - dt.timedelta(days=1), day)
        years = {year: set(ids) for year, ids in affected_years(lake, changes.ids).items()}
        rows = read_movies(lake).select(["movie_id", "year"])
        held = rows.filter(pc.is_in(rows.column("movie_id"), value_set=_array(changes.ids)))
        for movie_id, year in zip(held.column("movie_id").to_pylist(), held.column("year").to_pylist(), strict=True):
            if year is not None:
                years.setdefault(year, set()).add(movie_id)
        for year, ids in sorted(years.items()):
            await stages.harvest_year(client, lake, year, batch_size=batch_size, concurrency=20, refetch=ids)
    return len(years)


def _array(ids: list[int]):
    import pyarrow as pa

    return pa.array(ids, pa.int64())


def killed_sync(emu, lake: Lake, rng: random.Random, batch_size: int) -> dict:
    """A sync in a subprocess, SIGKILLed after a random number of API requests or a random delay."""
    cmd = [sys.executable, str(ROOT / "drills" / "sync_worker.py"), "--base-url", emu.base_url,
           "--exports-url", emu.root_url + "/p/exports", "--data-dir", str(lake.root), "--batch-size", str(batch_size)]
    before = emu.stats()["requests_total"]
    by_requests = rng.random() < 0.5
    target, delay = rng.randint(1, 80), rng.uniform(0.5, 8.0)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        if by_requests and emu.stats()["requests_total"] - before >= target:
            break
        if not by_requests and time.monotonic() - started >= delay:
            break
        time.sleep(0.005)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    failed = finished and proc.returncode != 0
    why = err.decode().strip().splitlines()[-1][:500] if failed and err.strip() else ""
    return {"finished_before_kill": finished and not failed,
            "killed_after_requests": emu.stats()["requests_total"] - before, "worker_error": why}


def generation_fingerprints(lake: Lake, known: dict[str, tuple[int, int, int]]) -> None:
    """Add the fingerprint of every published generation not seen yet (they stay ≥ 10 minutes)."""
    folder = lake.movies_generations_dir
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if _GENERATION.match(path.name) and path.name not in known:
            ids = pq.read_table(path, columns=["movie_id"]).column("movie_id").to_pylist() if any(
                path.iterdir()) else []
            known[path.name] = (len(ids), sum(ids), sum(i * i for i in ids))


def compare(lake: Lake, catalog: Catalog, now: dt.datetime) -> dict:
    """The lake against the catalog's truth today, and ``movies_as_of(now)`` against ``movies``. "Now" is the
    later of the emulator's clock and this machine's: a details answer without ``Date`` is stamped with this
    machine's clock, which runs ahead of the emulator's simulated days."""
    from movie_assets.warehouse.build import read_movies
    from movie_assets.warehouse.history import movies_as_of

    truth = catalog.live_movies()
    table = read_movies(lake)
    ids = table.column("movie_id").to_pylist()
    movies = dict(zip(ids, table.column("year").to_pylist(), strict=True))
    missing = sorted(set(truth) - set(movies))
    extra = sorted(set(movies) - set(truth))
    misplaced = sorted(i for i in movies if i in truth and movies[i] != truth[i])
    stale = []
    for row in table.select(["movie_id", "vote_count", "release_date", "overview"]).to_pylist():
        details = catalog.details(row["movie_id"], catalog.day)
        if details is None:
            continue
        release = row["release_date"].isoformat() if row["release_date"] else ""
        if (row["vote_count"], release, row["overview"] or "") != (
                details["vote_count"], details["release_date"], details["overview"] or ""):
            stale.append(row["movie_id"])
    columns = ["movie_id", "year", "release_date", "vote_count", "overview", "adult", "video"]
    history = movies_as_of(lake, max(now, dt.datetime.now(dt.UTC))).select(columns).sort_by("movie_id")
    current = table.select(columns).sort_by("movie_id")
    as_of_differs = sorted(set(history.column("movie_id").to_pylist()) ^ set(ids))
    if not as_of_differs and not history.equals(current):
        as_of_differs = [a["movie_id"] for a, b in zip(history.to_pylist(), current.to_pylist(), strict=True)
                         if a != b]
    seen: set[int] = set()
    twice = sorted({i for i in ids if i in seen or seen.add(i)})
    return {"movies": len(movies), "truth": len(truth), "twice": twice, "missing": missing,
            "extra": extra, "misplaced": misplaced, "stale": stale, "as_of_differs": as_of_differs}


def churn_drill(sizes, tmp: Path) -> list:
    from drills.run import Outcome
    from movie_assets.warehouse import build as warehouse

    quick = sizes.kills < 10
    days = 5 if quick else 60
    batch = 50
    catalog = Catalog(seed=SEED, movies_per_year=60 if quick else 150, first_year=1997, last_year=2026, churn=RATES)
    lake = Lake.at(tmp / "data")
    rng = random.Random(SEED)
    schedule = plan(days, rng)
    published: dict[str, tuple[int, int, int]] = {}
    log: list[str] = []
    errors: list[str] = []
    counts = {"sync": 0, "kill": 0, "years": 0, "no_date_days": 0, "kills_finished_first": 0}
    stop = tmp / "stop-readers"
    started = time.monotonic()
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=CLOCK)) as emu:
        asyncio.run(run_sync(emu, lake, 200))
        warehouse.build_movies_db(lake)
        generation_fingerprints(lake, published)
        reader = subprocess.Popen(
            [sys.executable, str(ROOT / "drills" / "reader_worker.py"), "--data-dir", str(lake.root), "--total", "0",
             "--until", str(stop), "--pause", "0.05"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            for number, (kind, no_date) in enumerate(schedule, 1):
                emu.advance(1)
                day = catalog.day
                counts[kind] += 1
                counts["no_date_days"] += no_date
                emu.configure(date_header=not no_date)
                try:
                    if kind == "sync":
                        asyncio.run(run_sync(emu, lake, batch))
                    elif kind == "kill":
                        killed = killed_sync(emu, lake, rng, batch)
                        counts["kills_finished_first"] += killed["finished_before_kill"]
                        if killed["worker_error"]:
                            errors.append(f"day {number} ({day}) kill worker: {killed['worker_error']}")
                        generation_fingerprints(lake, published)
                        asyncio.run(run_sync(emu, lake, batch))
                    else:
                        asyncio.run(run_years(emu, lake, day, batch))
                except Exception as exc:  # a failed day is a finding; the next days go on
                    errors.append(f"day {number} ({day}, {kind}, date_header={not no_date}): "
                                  f"{type(exc).__name__}: {str(exc)[:400]}")
                finally:
                    emu.configure(date_header=True)
                if number % 2 == 0:
                    warehouse.build_movies_db(lake)
                generation_fingerprints(lake, published)
                log.append(f"{day}:{kind}{'/no-Date' if no_date else ''}")
            final_error = ""
            try:
                asyncio.run(run_sync(emu, lake, batch))
            except Exception as exc:
                final_error = f"final sync: {type(exc).__name__}: {str(exc)[:400]}"
            warehouse.build_movies_db(lake)
            generation_fingerprints(lake, published)
        finally:
            stop.touch()
            out, err = reader.communicate(timeout=300)
        result = compare(lake, catalog, emu.options.as_of)
    seen = json.loads(out.strip().splitlines()[-1]) if out.strip() else {
        "reads": 0, "torn": 0, "errors": 1, "raced": 0, "messages": [err[-500:]], "fingerprints": []}
    states = set(published.values())
    unknown = [tuple(f) for f in seen["fingerprints"] if tuple(f) not in states]
    torn = seen["torn"] + len(unknown)
    if final_error:
        errors.append(final_error)
    differences = {k: result[k] for k in ("missing", "extra", "misplaced", "stale", "as_of_differs", "twice")}
    # A failed read is reported (reader_errors, with its message) but does not fail the drill: a few reads of
    # movies_consolidated under DuckDB 1.5 fail with "Invalid data" while movies.parquet is replaced (not
    # reproduced outside the drill yet; a known issue). A torn read — a mix of two builds — fails it.
    ok = not errors and not any(differences.values()) and torn == 0 and seen["reads"] > 0
    detail = "; ".join(
        [*errors[:6], *(f"{k}: {v[:12]}" for k, v in differences.items() if v),
         *(seen["messages"][:3]), *([f"reads matching no published generation: {unknown[:3]}"] if unknown else []),
         "stale vectors not checked (embeddings too slow at drill sizes; covered by their own check)"])
    figures = {"days": days, "movies": result["movies"], "truth": result["truth"], **counts,
               **{k: len(v) for k, v in differences.items()}, "errors": len(errors),
               "reads": seen["reads"], "torn": torn, "raced": seen["raced"], "reader_errors": seen["errors"],
               "generations": len(published), "seconds": round(time.monotonic() - started, 1)}
    if os.environ.get("CHURN_DRILL_LOG"):
        print("churn schedule:", " ".join(log), file=sys.stderr)
    return [Outcome("churn", ok, figures, detail)]
