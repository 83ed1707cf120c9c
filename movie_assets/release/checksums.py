"""``reports/checksums.txt`` in ``sha256sum -c`` format over every file the release produced.

Lines are ``<sha256 hex><two spaces><path>``, with paths relative to the repository root (the parent of the
data dir), sorted by path, so ``cd <repo root> && sha256sum -c reports/checksums.txt`` verifies the release.
Covered: every file the pipeline publishes — each year's Parquet, ``movies.parquet``, the tombstones, the
sample, the split files (and their manifest), ``reports/data_profile.json``, the CSV exports in the data
dir, every year's movie embeddings, the poster embeddings and every file of the saved FAISS indexes; never
``checksums.txt`` itself, the raw harvest, the details store or the poster image cache (inputs, not releases).
"""

from __future__ import annotations

from pathlib import Path

from movie_assets.lake import Lake, file_sha256, write_text_atomic

from .common import ReleaseError, relative_to_root


def release_files(lake: Lake) -> list[Path]:
    """Every release file present on disk."""
    files = sorted(path for _, path in lake.movies_year_files())
    files += sorted(path for _, path in lake.embeddings_year_files())
    single = (lake.movies_file, lake.tombstones_file, lake.sample_file, lake.profile_file,
              lake.poster_embeddings_file)
    files += [p for p in single if p.exists()]
    for folder in (lake.splits_dir, lake.index_dir):
        if folder.exists():
            files += sorted(p for p in folder.rglob("*") if p.is_file() and not _hidden(p.relative_to(folder)))
    files += lake.export_files()
    return files


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
