"""Subprocess of the readers drill: read the lake the way users do, in a loop, and count torn states.

    python drills/reader_worker.py --data-dir DIR --total N --seconds S
    python drills/reader_worker.py --data-dir DIR --total 0 --until FILE    # the churn drill

Each round reads every way the docs show: the DuckDB ``movies`` view and ``movies_consolidated`` through a
read-only connection to ``movies.duckdb`` (reconnecting every few rounds, as a notebook would),
``movies.parquet`` with pyarrow, the ``movies_parquet/`` folder with pyarrow and with pandas, and the folder
resolved once (``os.path.realpath``, the way that never needs a retry). While the writer moves movies
between years, a read is torn when a movie is in two years (ids not unique) or the total is not ``N``.
A read of the folder that raced a generation switch (a listed file gone: ``FileNotFoundError``) is counted
as raced, not as an error: the docs say to retry it. Prints one JSON line.

While the catalog itself changes (the churn drill: ``--total 0``), the total is not fixed: a read is torn
when a movie is in it twice, and every read's fingerprint (rows, sum of ids, sum of squared ids) is
reported (``fingerprints``), for the drill to check that each is one of a published generation.
``--until FILE`` reads until FILE exists.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from movie_assets.lake import Lake


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--total", type=int, required=True,
                        help="movies in the lake (moves keep it); 0: the total may change")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--until", default=None, help="read until this file exists (instead of --seconds)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to sleep between rounds")
    args = parser.parse_args()
    lake = Lake.at(args.data_dir)
    counts = {"reads": 0, "torn": 0, "raced": 0, "errors": 0}
    messages: list[str] = []
    state: dict = {"connection": None}

    def view(table: str) -> Callable[[], tuple[int, int, int, int]]:
        def read() -> tuple[int, int, int, int]:
            if state["connection"] is None or counts["reads"] % 30 == 0:
                if state["connection"] is not None:
                    state["connection"].close()
                state["connection"] = duckdb.connect(str(lake.duckdb_file), read_only=True)
            return state["connection"].execute(
                "SELECT count(*), count(DISTINCT movie_id), coalesce(sum(movie_id::HUGEINT), 0), "
                f"coalesce(sum(movie_id::HUGEINT * movie_id), 0) FROM {table}").fetchone()
        return read

    def ids(column: list) -> tuple[int, int, int, int]:
        return len(column), len(set(column)), sum(column), sum(i * i for i in column)

    readers: dict[str, Callable[[], tuple[int, int, int, int]]] = {
        "movies view": view("movies"),
        "movies_consolidated": view("movies_consolidated"),
        "movies.parquet": lambda: ids(pq.read_table(lake.movies_file, columns=["movie_id"])["movie_id"].to_pylist()),
        "pyarrow folder": lambda: ids(
            pq.read_table(lake.movies_dataset_dir, columns=["movie_id"])["movie_id"].to_pylist()),
        "pandas folder": lambda: ids(
            pd.read_parquet(lake.movies_dataset_dir, columns=["movie_id"])["movie_id"].tolist()),
        "resolved folder": lambda: ids(pq.read_table(os.path.realpath(lake.movies_dataset_dir),
                                                     columns=["movie_id"])["movie_id"].to_pylist()),
    }
    fingerprints: set[tuple[int, int, int]] = set()
    deadline = time.monotonic() + args.seconds

    def reading() -> bool:
        return not os.path.exists(args.until) if args.until else time.monotonic() < deadline

    while reading():
        time.sleep(args.pause)
        for name, read in readers.items():
            try:
                rows, distinct, total, squares = read()
                counts["reads"] += 1
                fingerprints.add((int(rows), int(total), int(squares)))
                if (args.total and rows != args.total) or distinct != rows:
                    counts["torn"] += 1
                    if len(messages) < 5:
                        messages.append(f"{name} saw {rows} rows, {distinct} distinct movies (of {args.total})")
            except FileNotFoundError as exc:
                if name.endswith("folder") and name != "resolved folder":
                    counts["raced"] += 1
                    continue
                counts["errors"] += 1
                if len(messages) < 5:
                    messages.append(f"{name}: {exc}"[:300])
            except Exception as exc:  # counted and reported: any failed read is a finding
                counts["errors"] += 1
                state["connection"] = None
                if len(messages) < 5:
                    messages.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
    print(json.dumps({**counts, "messages": messages, "fingerprints": sorted(fingerprints)}))


if __name__ == "__main__":
    main()
