"""Where every file of the lake lives, and how files are written safely.

One `Lake` object, built from a data root (default ``data/``), names every path the pipeline reads or
writes, so no module spells a path of its own. Writes go through `atomic_path`, which yields a temporary
path beside the target and renames it into place only when the block finishes without error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class LakeError(RuntimeError):
    """The data root cannot be used (missing permissions, not a directory, …)."""


@dataclass(frozen=True)
class Lake:
    """Paths of the Parquet lake under one data root. Reports live beside the data root in ``reports/``."""

    root: Path
    reports_root: Path | None = None

    @classmethod
    def at(cls, root: str | os.PathLike, reports_root: str | os.PathLike | None = None) -> Lake:
        root = Path(root)
        reports = Path(reports_root) if reports_root is not None else root.resolve().parent / "reports"
        return cls(root=root, reports_root=reports)

    # -- raw harvest -------------------------------------------------------------------------------
    def discover_dir(self, year: int | str) -> Path:
        return self.root / "raw" / "discover" / f"year={year}"

    def discover_file(self, year: int | str) -> Path:
        return self.discover_dir(year) / "movies.parquet"

    def details_checkpoint_dir(self, year: int | str) -> Path:
        return self.root / "staging" / "details" / f"year={year}"

    # -- processed ---------------------------------------------------------------------------------
    @property
    def processed_dir(self) -> Path:
        return self.root / "processed"

    @property
    def movies_dataset_dir(self) -> Path:
        return self.processed_dir / "movies_parquet"

    def movies_year_dir(self, year: int | str) -> Path:
        return self.movies_dataset_dir / f"year={year}"

    def movies_year_file(self, year: int | str) -> Path:
        return self.movies_year_dir(year) / "part-0.parquet"

    @property
    def movies_file(self) -> Path:
        return self.processed_dir / "movies.parquet"

    @property
    def duckdb_file(self) -> Path:
        return self.root / "movies.duckdb"

    @property
    def sample_file(self) -> Path:
        return self.processed_dir / "movies_sample.parquet"

    @property
    def splits_dir(self) -> Path:
        return self.processed_dir / "splits"

    @property
    def embeddings_file(self) -> Path:
        return self.processed_dir / "movie_embeddings.parquet"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def posters_dir(self) -> Path:
        return self.root / "posters"

    @property
    def reports_dir(self) -> Path:
        assert self.reports_root is not None
        return self.reports_root

    def ensure_writable(self) -> None:
        """Create the data root if needed and fail with a clear message when it cannot be written."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".write-test-"):
                pass
        except OSError as exc:
            raise LakeError(
                f"data directory {str(self.root)!r} is not writable ({exc.strerror or exc}); "
                "set MOVIE_ASSETS_DATA_DIR (or the lake resource's data_dir) to a writable directory"
            ) from exc


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_parquet_atomic(
    data: pa.Table | Iterable[pa.Table],
    target: str | os.PathLike,
    *,
    schema: pa.Schema | None = None,
    row_group_size: int = 64_000,
) -> Path:
    """Write deterministically (fixed codec, no wall-clock metadata) and atomically.

    ``data`` is one table, or tables written one after another so that only one is in memory at a time
    (then ``schema`` is required).
    """
    tables = [data] if isinstance(data, pa.Table) else data
    schema = schema if schema is not None else data.schema  # type: ignore[union-attr]
    with atomic_path(target) as tmp, pq.ParquetWriter(
        tmp, schema, compression="zstd", write_statistics=True, store_schema=True
    ) as writer:
        for table in tables:
            writer.write_table(table, row_group_size=row_group_size)
    return Path(target)


def replace_dir_atomic(build: Path, target: Path) -> None:
    """Swap a fully built directory into place, removing whatever the target held before."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(build, target)
    if old.exists():
        shutil.rmtree(old)
