"""The partitions lock: writers exclude each other and consolidating readers, across processes."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from movie_assets.lake import Lake, LakeError
from movie_assets.lake.locks import partitions_lock

HOLD = """
import sys, time
from movie_assets.lake import Lake
from movie_assets.lake.locks import partitions_lock
with partitions_lock(Lake.at(sys.argv[1]), shared=sys.argv[2] == "shared"):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def hold(lake: Lake, mode: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lake.root), mode, str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_writer_waits_for_another_process_and_names_the_lock_when_it_gives_up(tmp_path):
    lake = Lake.at(tmp_path / "data")
    holder = hold(lake, "exclusive", 1.0)
    with pytest.raises(LakeError) as info, partitions_lock(lake, wait_s=0.2):
        pass
    assert str(lake.partitions_lock_file) in str(info.value) and "retry" in str(info.value)
    started = time.monotonic()
    with partitions_lock(lake, wait_s=30):  # granted once the holder is done
        assert time.monotonic() - started > 0.3
    holder.wait()


def test_readers_share_the_lock_and_exclude_writers(tmp_path):
    lake = Lake.at(tmp_path / "data")
    reader = hold(lake, "shared", 1.0)
    with partitions_lock(lake, shared=True, wait_s=0.1):
        pass  # a second reader gets in at once
    with pytest.raises(LakeError), partitions_lock(lake, wait_s=0.1):
        pass
    reader.wait()


def test_the_lock_is_reentrant_within_a_thread_and_released_by_a_killed_holder(tmp_path):
    lake = Lake.at(tmp_path / "data")
    with partitions_lock(lake), partitions_lock(lake), partitions_lock(lake, shared=True):
        pass
    with partitions_lock(lake, shared=True), pytest.raises(RuntimeError):
        with partitions_lock(lake):
            pass
    holder = hold(lake, "exclusive", 60)
    holder.kill()
    holder.wait()
    with partitions_lock(lake, wait_s=5):
        pass
