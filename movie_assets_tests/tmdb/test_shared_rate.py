"""The request rate shared across processes through one file (`movie_assets.tmdb.shared_rate`).

Every test that says "processes" runs real ones (``python -c``), all reserving from one file. An unusable
file is in the bad-input catalogue (`test_hostile_servers.py`, odd settings)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.settings import tmdb_settings_from_env
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.tmdb.ratelimit import AdaptiveRateLimiter
from movie_assets.tmdb.shared_rate import MAGIC, RECORD, SharedRateSchedule, rate_share_key

ROOT = Path(__file__).resolve().parents[2]

RESERVER = """
import json, sys, time
from movie_assets.tmdb.shared_rate import SharedRateSchedule
path, rate, count, start_at = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
schedule = SharedRateSchedule(path, rate).open()
time.sleep(max(0.0, start_at - time.time()))
slots = []
for _ in range(count):
    slot = schedule.reserve()
    slots.append(slot)
    time.sleep(max(0.0, slot - time.time()))  # "send" at the slot, then want the next one
print(json.dumps(slots))
"""

CLIENT = """
import asyncio, json, sys, time
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
base_url, share = sys.argv[1], sys.argv[2]
rate, count, start_at = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])

async def main():
    settings = TMDbSettings(base_url=base_url, requests_per_second=rate, rate_share_file=share, max_attempts=3,
                            backoff_base=0.05, backoff_max=0.1)
    async with TMDbClient(settings) as client:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        first = time.time()
        await asyncio.gather(*(client.popular_movies(page=1 + i % 5) for i in range(count)))
        last = time.time()
    print(json.dumps({"first": first, "last": last, "rate_limited": client.stats.rate_limited,
                      "requests": client.stats.requests}))

asyncio.run(main())
"""


def run_processes(code: str, argvs: list[list[str]], timeout: float = 30.0) -> list:
    """Run ``python -c code ARGV`` once per argv, all at once; their JSON answers."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for argv in argvs]
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err[-2000:]
        answers.append(json.loads(out.strip().splitlines()[-1]))
    return answers


def test_processes_sharing_a_file_get_slots_at_least_one_interval_apart(tmp_path):
    rate, per_process, processes = 200.0, 40, 3
    path = tmp_path / "state" / "rate"  # the parent is made on first use
    start_at = time.time() + 1.0  # after every interpreter has started
    answers = run_processes(RESERVER, [[str(path), str(rate), str(per_process), str(start_at)]] * processes)
    slots = sorted(slot for answer in answers for slot in answer)
    assert len(slots) == per_process * processes
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= 1 / rate - 1e-6  # the processes together never go faster than the rate
    span = slots[-1] - slots[0]
    assert span < (len(slots) - 1) / rate * 1.5  # ... and are not much slower either (shared, not each)
    owners = [i for slot in slots for i, answer in enumerate(answers) if slot in answer]
    assert sum(1 for a, b in zip(owners, owners[1:], strict=False) if a != b) >= processes  # interleaved
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_a_pause_in_one_process_holds_back_the_others(tmp_path):
    path = tmp_path / "rate"
    pause = time.time() + 1.0
    with SharedRateSchedule(path, 50.0) as schedule:
        schedule.pause_until(pause)
        (slots,) = run_processes(RESERVER, [[str(path), "50", "3", "0"]])
        assert slots[0] >= pause and slots[1] - slots[0] >= 1 / 50 - 1e-6
        schedule.pause_until(pause - 10)  # an earlier deadline never brings the schedule forward
        assert schedule.next_slot() >= slots[-1]


async def test_a_429_with_retry_after_pauses_every_limiter_sharing_the_file(tmp_path):
    path = tmp_path / "rate"
    with SharedRateSchedule(path, 100.0) as mine, SharedRateSchedule(path, 100.0) as theirs:
        hit = AdaptiveRateLimiter(100.0, shared=mine)
        other = AdaptiveRateLimiter(100.0, shared=theirs)  # its own bucket knows nothing of the 429
        hit.penalize(retry_after=0.4)
        started = time.monotonic()
        await other.acquire()
        assert time.monotonic() - started >= 0.38
        assert other.rate == 100.0  # only the process that got the 429 slows down


@pytest.mark.parametrize("content", [b"", b"xx", b"\x00" * 16, b"garbage-garbage!",
                                     RECORD.pack(MAGIC, float("nan"), 0.0),
                                     RECORD.pack(MAGIC, time.time() + 1e6, 0.0),
                                     RECORD.pack(b"othermag", time.time() + 5, 0.0)],
                         ids=["empty", "short", "zeros", "text", "nan", "far-future", "wrong-magic"])
def test_an_empty_or_garbled_file_starts_the_schedule_afresh(tmp_path, content):
    path = tmp_path / "rate"
    path.write_bytes(content)
    with SharedRateSchedule(path, 10.0) as schedule:
        before = time.time()
        slot = schedule.reserve()
        assert before <= slot <= time.time()
        assert schedule.reserve() == pytest.approx(slot + 0.1)  # and the file is good again
    magic, next_slot, _ = RECORD.unpack(path.read_bytes())
    assert magic == MAGIC and next_slot == pytest.approx(slot + 0.2)


def test_clients_in_several_processes_at_the_full_rate_share_the_servers_limit(tmp_path):
    """Three processes, each configured at the server's whole limit R, sharing one file: the server sees at
    most R requests/s in all and answers no 429 (its bucket lets 3 through at once, the slack a loaded machine
    needs for timer jitter; without the shared file the three would send 3R)."""
    rate, per_process, processes = 20.0, 20, 3
    options = EmulatorOptions(rate_limit=rate, rate_limit_burst=3, retry_after=False)
    with running_emulator(catalog=Catalog(seed=7, movies_per_year=400), options=options) as emu:
        start_at = time.time() + 1.5
        argv = [emu.base_url, str(tmp_path / "rate"), str(rate), str(per_process), str(start_at)]
        answers = run_processes(CLIENT, [argv] * processes)
        stats = emu.stats(per_second=True)
    assert stats["faults"]["rate_limited"] == 0 and "429" not in stats["by_status"]
    assert sum(a["rate_limited"] for a in answers) == 0
    requests = stats["requests_total"]
    assert requests == per_process * processes
    elapsed = max(a["last"] for a in answers) - min(a["first"] for a in answers)
    assert requests / elapsed <= rate * 1.05
    assert requests / elapsed >= rate * 0.8  # shared, not divided: the processes together use the limit
    assert max(stats["per_second"].values()) <= rate + 3


def test_the_default_share_file_is_per_api_host_under_the_data_dir(tmp_path):
    base = {"MOVIE_ASSETS_DATA_DIR": str(tmp_path), "TMDB_API_KEY": "k"}
    real = tmdb_settings_from_env(base)
    assert real.shared_rate_file == str(tmp_path / "state" / f"tmdb-rate-{rate_share_key('https://api.themoviedb.org')}")
    local = tmdb_settings_from_env({**base, "TMDB_BASE_URL": "http://127.0.0.1:8765/3"})
    assert local.shared_rate_file != real.shared_rate_file  # the emulator and TMDb never share a budget
    assert rate_share_key("http://user:pw@127.0.0.1:8765/3/") == rate_share_key("http://127.0.0.1:8765/other")
    assert tmdb_settings_from_env({**base, "TMDB_RATE_SHARE_FILE": "off"}).shared_rate_file is None
    assert tmdb_settings_from_env({**base, "TMDB_RATE_SHARE_FILE": "OFF"}).shared_rate_file is None
    assert tmdb_settings_from_env({"MOVIE_ASSETS_DATA_DIR": str(tmp_path)}).shared_rate_file is None  # built-in
    assert TMDbSettings(api_key="k").shared_rate_file is None  # a library caller shares only when asked
    assert tmdb_settings_from_env(base, data_dir=str(tmp_path / "other")).shared_rate_file.startswith(
        str(tmp_path / "other" / "state"))


def test_the_lock_is_held_for_microseconds(tmp_path):
    with SharedRateSchedule(tmp_path / "rate", 1e9) as schedule:
        started = time.perf_counter()
        for _ in range(2000):
            schedule.reserve()
        per_reserve = (time.perf_counter() - started) / 2000
    assert per_reserve < 0.001  # ~5 µs on a local disk; inline in the event loop is fine


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_reserve_waits_inline_without_blocking_other_tasks(tmp_path):
    async def main() -> float:
        with SharedRateSchedule(tmp_path / "rate", 20.0) as schedule:
            limiter = AdaptiveRateLimiter(1000.0, shared=schedule)  # the shared rate is the slower one here
            started = time.monotonic()
            await asyncio.gather(*(limiter.acquire() for _ in range(11)))
            return time.monotonic() - started

    assert 0.48 <= asyncio.run(main()) < 0.9  # ten intervals of the shared rate, 1/20 s each


async def test_a_caller_that_wakes_too_late_gives_its_shared_slot_up(tmp_path):
    """Sent after its slot by more than half an interval, a request would land next to the following slot's:
    it takes a new slot instead."""
    with SharedRateSchedule(tmp_path / "rate", 10.0) as schedule, SharedRateSchedule(tmp_path / "rate", 10.0) as other:
        other.reserve()  # another process sends now: our slot is 0.1 s away
        limiter = AdaptiveRateLimiter(1000.0, shared=schedule)
        task = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)  # the caller has reserved its slot and sleeps
        time.sleep(0.2)  # this event loop is busy (a Parquet write, say) past the slot
        await task
        assert limiter.missed_shared_slots == 1
        assert other.reserve() >= time.time() + 0.05  # the new slot was taken after the missed one


def test_a_wall_clock_stepped_back_starts_the_schedule_afresh(tmp_path):
    """A slot reserved before the clock went back 600 s is not waited out: the record says when it was written."""
    now = [1_000_000.0]
    schedule = SharedRateSchedule(tmp_path / "rate", 10.0, clock=lambda: now[0])
    for _ in range(5):
        schedule.reserve()
    now[0] -= 600.0
    assert schedule.reserve() == now[0]
