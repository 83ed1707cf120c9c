"""Subprocess of the readers drill: read the lake the way users do, in a loop, and count short reads.

    python drills/reader_worker.py --data-dir DIR --expected '{"2021": 600, ...}' --seconds S

Each round queries the DuckDB ``movies`` view (per-year counts) and ``movies_consolidated`` through a
read-only connection to ``movies.duckdb`` (reconnecting every few rounds, as a notebook would), and reads
``movies.parquet`` with pyarrow. A read is short when any year is missing or has fewer rows than expected.
Prints one JSON line: reads, short reads, errors (with the first few messages).
"""

from __future__ import annotations

import argparse
import json
import time

import duckdb
import pyarrow.parquet as pq

from movie_assets.lake import Lake


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--expected", required=True, help="JSON {year: movies}")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    lake = Lake.at(args.data_dir)
    expected = {int(k): v for k, v in json.loads(args.expected).items()}
    total = sum(expected.values())
    reads = short = errors = 0
    messages: list[str] = []
    connection = None
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        try:
            if connection is None or reads % 5 == 0:
                if connection is not None:
                    connection.close()
                connection = duckdb.connect(str(lake.duckdb_file), read_only=True)
            per_year = dict(connection.execute("SELECT year, count(*) FROM movies GROUP BY year").fetchall())
            consolidated = connection.execute("SELECT count(*) FROM movies_consolidated").fetchone()[0]
            parquet_rows = pq.read_table(lake.movies_file, columns=["movie_id"]).num_rows
            reads += 3
            short += (per_year != expected) + (consolidated != total) + (parquet_rows != total)
            if per_year != expected and len(messages) < 5:
                messages.append(f"movies view saw {per_year}")
        except Exception as exc:  # counted and reported: any failed read is a finding
            errors += 1
            connection = None
            if len(messages) < 5:
                messages.append(f"{type(exc).__name__}: {exc}"[:300])
    print(json.dumps({"reads": reads, "short_reads": short, "errors": errors, "messages": messages}))


if __name__ == "__main__":
    main()
