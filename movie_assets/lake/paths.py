"""Where every file of the lake lives.

One `Lake` object, built from a data root (default ``data/``), names every path the pipeline reads or
writes, and lists what is on disk (the years of a dataset), so no other module spells a path or a glob.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from movie_assets.lake.files import sweep_stale_temporaries

# Hive's name for a null partition value: DuckDB and pyarrow read ``year=__HIVE_DEFAULT_PARTITION__`` as a
# NULL year, so movies without a release date have an explicit place in the typed dataset.
UNDATED_PARTITION = "__HIVE_DEFAULT_PARTITION__"


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

    def discover_windows_file(self, year: int | str) -> Path:
        """The discover windows and their totals (what a re-run may reuse)."""
        return self.discover_dir(year) / "windows.json"

    def discover_reference_file(self, year: int | str) -> Path:
        """The image base URL and genre names the year was harvested with."""
        return self.discover_dir(year) / "reference.json"

    @property
    def sync_cursor_file(self) -> Path:
        """How far the catalog sync has read TMDb's changes, and the export it last used."""
        return self.root / "raw" / "sync.json"

    @property
    def reference_file(self) -> Path:
        """The image base URL and genre names of the newest harvest or sync (the fallback of a year's own)."""
        return self.root / "raw" / "reference.json"

    def discover_years(self) -> list[int]:
        """Years that have a discover file, ascending."""
        found = _year_files(self.root / "raw" / "discover", "year=*/movies.parquet")
        return [year for year, _ in found if year is not None]

    @property
    def exports_dir(self) -> Path:
        """TMDb's daily ID exports, one typed snapshot per day."""
        return self.root / "raw" / "exports"

    def export_snapshot_file(self, day: dt.date) -> Path:
        return self.exports_dir / f"day={day.isoformat()}" / "movie_ids.parquet"

    def export_days(self) -> list[dt.date]:
        """Days with an export snapshot, oldest first."""
        days = []
        for path in self.exports_dir.glob("day=*/movie_ids.parquet") if self.exports_dir.exists() else []:
            with contextlib.suppress(ValueError):
                days.append(dt.date.fromisoformat(path.parent.name.split("=", 1)[1]))
        return sorted(days)

    @property
    def details_store_dir(self) -> Path:
        """The details store: every fetched version of every movie, by id (`movie_assets.harvest.store`)."""
        return self.root / "staging" / "details_store"

    # -- state shared between processes -------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def tmdb_rate_file(self, host_key: str) -> Path:
        """The request schedule shared by every process calling one API host (`movie_assets.tmdb.shared_rate`;
        ``host_key``: its `rate_share_key`)."""
        return self.state_dir / f"tmdb-rate-{host_key}"

    # -- processed ---------------------------------------------------------------------------------
    @property
    def processed_dir(self) -> Path:
        return self.root / "processed"

    @property
    def movies_dataset_dir(self) -> Path:
        """The typed dataset: a symlink to its current generation (`movie_assets.lake.generations`)."""
        return self.processed_dir / "movies_parquet"

    @property
    def movies_generations_dir(self) -> Path:
        """Every generation of the typed dataset still kept, and their bookkeeping."""
        return self.processed_dir / ".movies_generations"

    def movies_year_dir(self, year: int | str | None) -> Path:
        """The partition of ``year`` (None: the movies without a release date)."""
        return self.movies_dataset_dir / f"year={UNDATED_PARTITION if year is None else year}"

    def movies_year_file(self, year: int | str | None) -> Path:
        """The file of partition ``year`` (named by a hash of its bytes); ``part-0.parquet`` in the partition,
        which does not exist, when the year has none."""
        folder = self.movies_year_dir(year)
        found = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        return found[0] if found else folder / "part-0.parquet"

    def movies_year_files(self, snapshot: Path | None = None) -> list[tuple[int | None, Path]]:
        """``(year, file)`` of every materialized partition of the typed dataset, listed through
        ``movies_parquet`` (or in ``snapshot``, a generation folder): years oldest first, then the undated
        movies (year None)."""
        return _year_files(snapshot or self.movies_dataset_dir, "year=*/*.parquet")

    @property
    def movies_dataset_glob(self) -> Path:
        """The Hive glob over the typed dataset, for readers such as DuckDB's ``read_parquet``."""
        return self.movies_dataset_dir / "year=*" / "*.parquet"

    @property
    def partitions_lock_file(self) -> Path:
        """Held while year partitions are replaced or read together (`movie_assets.lake.locks`)."""
        return self.processed_dir / ".movies_parquet.lock"

    @property
    def movies_file(self) -> Path:
        return self.processed_dir / "movies.parquet"

    @property
    def tombstones_file(self) -> Path:
        """The movies that left TMDb (`movie_assets.harvest.tombstones`)."""
        return self.processed_dir / "tombstones.parquet"

    @property
    def duckdb_file(self) -> Path:
        return self.root / "movies.duckdb"

    @property
    def sample_file(self) -> Path:
        return self.processed_dir / "movies_sample.parquet"

    @property
    def splits_dir(self) -> Path:
        return self.processed_dir / "splits"

    def split_file(self, name: str) -> Path:
        return self.splits_dir / f"{name}.parquet"

    @property
    def splits_manifest_file(self) -> Path:
        return self.splits_dir / "manifest.json"

    def export_file(self, name: str) -> Path:
        """A CSV export in the data root (``movies_START_END.csv``)."""
        return self.root / name

    def export_files(self) -> list[Path]:
        """CSV exports present in the data root."""
        return sorted(p for p in self.root.glob("movies_*_*.csv") if p.is_file())

    @property
    def embeddings_dataset_dir(self) -> Path:
        """The movie embeddings, Hive-partitioned by release year like the movies."""
        return self.processed_dir / "embeddings_parquet"

    def embeddings_year_file(self, year: int | str | None) -> Path:
        """The embeddings of ``year``'s movies (None: the movies without a release date)."""
        return _year_file(self.embeddings_dataset_dir, year)

    def embeddings_year_files(self) -> list[tuple[int | None, Path]]:
        """``(year, file)`` of every embeddings partition: years oldest first, then the undated movies."""
        return _year_files(self.embeddings_dataset_dir, "year=*/*.parquet")

    @property
    def posters_dataset_dir(self) -> Path:
        """One row per movie with its poster's outcome (cached, missing and why), partitioned by year."""
        return self.processed_dir / "posters_parquet"

    def posters_year_file(self, year: int | str | None) -> Path:
        return _year_file(self.posters_dataset_dir, year)

    def posters_year_files(self) -> list[tuple[int | None, Path]]:
        return _year_files(self.posters_dataset_dir, "year=*/*.parquet")

    @property
    def poster_vectors_dataset_dir(self) -> Path:
        """The poster (image) embeddings, partitioned by year like the text embeddings."""
        return self.processed_dir / "poster_embeddings_parquet"

    def poster_vectors_year_file(self, year: int | str | None) -> Path:
        return _year_file(self.poster_vectors_dataset_dir, year)

    def poster_vectors_year_files(self) -> list[tuple[int | None, Path]]:
        return _year_files(self.poster_vectors_dataset_dir, "year=*/*.parquet")

    @property
    def item_modalities_file(self) -> Path:
        """Which modalities each movie has (`movie_assets.posters.modalities`)."""
        return self.processed_dir / "item_modalities.parquet"

    # -- recommender datasets (movie_assets.recsys) -------------------------------------------------
    @property
    def recsys_dir(self) -> Path:
        """Every recommender dataset, one folder each (``data/recsys/<dataset>/``)."""
        return self.root / "recsys"

    @property
    def recsys_sources_dir(self) -> Path:
        """The registered interaction sources, one ``<name>.json`` each (what a dataset is built from)."""
        return self.recsys_dir / "sources"

    def recsys_source_file(self, name: str) -> Path:
        return self.recsys_sources_dir / f"{name}.json"

    def recsys_latest_file(self, name: str) -> Path:
        """The name of the dataset last built from source ``name`` (``sources/<name>.latest``)."""
        return self.recsys_sources_dir / f"{name}.latest"

    def recsys_dataset_dir(self, dataset: str) -> Path:
        """The folder of one dataset: ``<source>__<lake snapshot>``."""
        return self.recsys_dir / dataset

    def recsys_datasets(self) -> list[Path]:
        """The dataset folders on disk (each with its ``manifest.json``), sorted by name."""
        if not self.recsys_dir.exists():
            return []
        return sorted(p.parent for p in self.recsys_dir.glob("*/manifest.json") if not p.parent.name.startswith("."))

    @property
    def legacy_embeddings_file(self) -> Path:
        """The one embeddings file of lakes made before the year partitions: read as a cache of vectors
        until every year has its partition, then removed."""
        return self.processed_dir / "movie_embeddings.parquet"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def index_dir_for(self, name: str) -> Path:
        """The folder of one saved FAISS index (``movies``, ``posters``)."""
        return self.index_dir / name

    @property
    def posters_dir(self) -> Path:
        return self.root / "posters"

    def poster_file(self, size: str, name: str) -> Path:
        """The cached copy of image file ``name`` at TMDb size ``size`` (``w185``, …)."""
        return self.posters_dir / size / name

    @property
    def reports_dir(self) -> Path:
        assert self.reports_root is not None
        return self.reports_root

    @property
    def profile_file(self) -> Path:
        return self.reports_dir / "data_profile.json"

    @property
    def checksums_file(self) -> Path:
        return self.reports_dir / "checksums.txt"

    def remove_stale_temporaries(self) -> list[Path]:
        """Remove what killed writers left in the lake: temporary files, build folders, half-swapped folders
        (`movie_assets.lake.files.sweep_stale_temporaries`). The poster image cache is left to its own
        sweep (`movie_assets.posters.cache`): it can hold a million files."""
        if not self.root.exists():
            return []
        return sweep_stale_temporaries(self.root, skip=[self.posters_dir])

    def holds_a_lake(self) -> bool:
        """Whether the data root holds a lake already (any of its top folders), as opposed to a missing folder or
        an empty one (an unmounted volume's mount point)."""
        return any((self.root / name).is_dir() for name in ("state", "raw", "staging", "processed"))

    def require_existing(self) -> None:
        """Fail with one line naming ``MOVIE_ASSETS_DATA_DIR`` unless the data root holds a writable lake already:
        what a run on a cluster worker checks first, so that a worker whose shared volume is not mounted fails its
        run instead of filling a lake of its own. `ensure_writable` then checks that it can be written."""
        try:
            reachable = self.root.is_dir() and self.holds_a_lake()
        except OSError as exc:  # a stale network mount: EIO, ESTALE, ENOTCONN
            raise LakeError(f"the lake at MOVIE_ASSETS_DATA_DIR={str(self.root)!r} cannot be read on "
                            f"{socket.gethostname()} ({exc.strerror or exc}): check the shared volume's mount"
                            ) from None
        if not reachable:
            raise LakeError(f"MOVIE_ASSETS_DATA_DIR={str(self.root)!r} holds no lake on {socket.gethostname()}: mount "
                            "the shared lake there (or fix MOVIE_ASSETS_DATA_DIR); runs on workers never start an "
                            "empty lake of their own")
        self.ensure_writable()

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


def _year_file(root: Path, year: int | str | None) -> Path:
    """The one file of partition ``year`` (None: the undated movies) of a dataset written by this project."""
    return root / f"year={UNDATED_PARTITION if year is None else year}" / "part-0.parquet"


def _year_files(root: Path, pattern: str) -> list[tuple[int | None, Path]]:
    """``(year, path)`` for paths under ``root`` matching ``pattern`` whose first part is ``year=YYYY`` (or the
    undated partition, year None, listed last)."""
    found: list[tuple[int | None, Path]] = []
    for path in root.glob(pattern) if root.exists() else []:
        year = path.relative_to(root).parts[0].split("=", 1)[1]
        if year.isdigit():
            found.append((int(year), path))
        elif year == UNDATED_PARTITION:
            found.append((None, path))
    return sorted(found, key=lambda item: (item[0] is None, item[0] or 0, item[1]))
