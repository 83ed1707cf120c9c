"""``reports/checksums.txt`` in ``sha256sum -c`` format over every file the release produced.

Lines are ``<sha256 hex><two spaces><path>``, with paths relative to the repository root (the parent of the
data dir), sorted by path, so ``cd <repo root> && sha256sum -c reports/checksums.txt`` verifies the release.
Covered: every file the pipeline publishes — each year's Parquet, ``movies.parquet``, the tombstones, the
sample, the split files (and their manifest), ``reports/data_profile.json``, the CSV exports in the data
dir, every year's movie embeddings, posters table and poster embeddings, the modality masks, every file of the
saved FAISS indexes and of each recommender dataset under ``data/recsys/``; never
``checksums.txt`` itself, the raw harvest, the details store or the poster image cache (inputs, not releases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from movie_assets.lake import Lake, file_sha256, write_text_atomic

from .common import ReleaseError, relative_to_root


@dataclass(frozen=True)
class ReleaseGroup:
    """Files of the release and the assets that write them."""

    what: str
    writers: tuple[str, ...]  # Dagster asset names (plain names: the Dagster side builds the keys)
    files: Callable[[Lake], list[Path]]  # those present on disk, sorted


def _present(*paths: Callable[[Lake], Path]) -> Callable[[Lake], list[Path]]:
    return lambda lake: [p for p in (path(lake) for path in paths) if p.exists()]


def _files_under(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p.relative_to(root)))


def _tree(folder: Callable[[Lake], Path]) -> Callable[[Lake], list[Path]]:
    return lambda lake: _files_under(folder(lake))


# The release's file list, declared once: `release_files` lists these groups, and `release_checksums` depends
# on every writer named here, so a run of any of them is followed by fresh checksums.
RELEASE_GROUPS: tuple[ReleaseGroup, ...] = (
    ReleaseGroup("the movies by year", ("movies", "undated_movies", "catalog_sync"),
                 lambda lake: sorted(path for _, path in lake.movies_year_files())),
    ReleaseGroup("the embeddings by year", ("movie_embeddings", "undated_movie_embeddings"),
                 lambda lake: sorted(path for _, path in lake.embeddings_year_files())),
    ReleaseGroup("movies.parquet and the tombstones", ("movies_db",),
                 _present(lambda lake: lake.movies_file, lambda lake: lake.tombstones_file)),
    ReleaseGroup("the sample", ("movies_sample",), _present(lambda lake: lake.sample_file)),
    ReleaseGroup("the profile", ("data_profile",), _present(lambda lake: lake.profile_file)),
    ReleaseGroup("the posters and poster embeddings by year",
                 ("movie_posters", "undated_movie_posters", "poster_embeddings", "undated_poster_embeddings"),
                 lambda lake: sorted(path for _, path in [*lake.posters_year_files(),
                                                          *lake.poster_vectors_year_files()])),
    ReleaseGroup("the modality masks", ("item_modalities",), _present(lambda lake: lake.item_modalities_file)),
    ReleaseGroup("the splits", ("movie_splits",), _tree(lambda lake: lake.splits_dir)),
    ReleaseGroup("the FAISS indexes (movies, posters)", ("movie_index", "poster_index"),
                 _tree(lambda lake: lake.index_dir)),
    ReleaseGroup("the CSV exports", ("movies_csv_export",), lambda lake: lake.export_files()),
    ReleaseGroup("the recommender datasets (not their source registrations)",
                 ("interactions", "item_index", "item_features_asof"),
                 lambda lake: [path for folder in lake.recsys_datasets() for path in _files_under(folder)]),
)


def release_writers() -> list[str]:
    """The names of every asset that writes a release file, each once."""
    return sorted({writer for group in RELEASE_GROUPS for writer in group.writers})


def release_files(lake: Lake) -> list[Path]:
    """Every release file present on disk, group by group (`RELEASE_GROUPS`)."""
    return [path for group in RELEASE_GROUPS for path in group.files(lake)]


def _hidden(relative: Path) -> bool:
    """Temporary files and build folders are dot-named; they are not part of a release."""
    return any(part.startswith(".") for part in relative.parts)


def checksum_lines(lake: Lake, files: list[Path] | None = None) -> list[str]:
    entries = []
    for path in files if files is not None else release_files(lake):
        relative = relative_to_root(lake, path)
        if "\n" in relative or "\\" in relative:
            raise ReleaseError(f"cannot list {relative!r} in sha256sum format (newline or backslash in the name)")
        entries.append((relative, file_sha256(path)))
    return [f"{digest}  {relative}" for relative, digest in sorted(entries)]


def write_checksums(lake: Lake) -> tuple[Path, list[str]]:
    lines = checksum_lines(lake)
    if not lines:
        raise ReleaseError(f"no release files under {lake.root}; materialize the release assets first")
    return write_text_atomic("\n".join(lines) + "\n", lake.checksums_file), lines
