"""Shared bits of the benchmark scripts: a standalone emulator process and result printing."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movie_assets.emulator import RemoteEmulator  # noqa: E402
from movie_assets.emulator import emulator_process as standalone_emulator  # noqa: E402


@contextlib.contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """Run ``movie-assets emulator`` in its own process (so it does not share our GIL); yield its base URL."""
    with standalone_emulator(*args) as emulator:
        yield emulator.base_url


def emulator_stats(base_url: str, per_second: bool = False) -> dict:
    return RemoteEmulator.at(base_url).stats(per_second)


def reset_emulator(base_url: str) -> None:
    RemoteEmulator.at(base_url).reset()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def report(name: str, figures: dict) -> None:
    """Print figures as aligned lines plus one JSON line (collected by benchmarks/run_all.py)."""
    print(f"== {name}")
    for key, value in figures.items():
        print(f"   {key:<40} {value}")
    print("BENCH_JSON " + json.dumps({"benchmark": name, **figures}, sort_keys=True))


def document_texts(catalog, movie_ids) -> list[str]:
    """The embedding document text of each of ``movie_ids`` in the emulator ``catalog``, in that order, built
    the way the pipeline builds it (details → `movie_row` → `document_text`)."""
    from movie_assets.embeddings.text import document_text
    from movie_assets.harvest.records import movie_row

    return [document_text(movie_row({"movie_id": i}, catalog.details(i), status="ok", harvested_at=None,
                                     genre_names={}, image_base_url=None)) for i in movie_ids]
