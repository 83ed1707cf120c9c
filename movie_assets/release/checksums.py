"""``reports/checksums.txt`` in ``sha256sum -c`` format over every file the release produced.

Lines are ``<sha256 hex><two spaces><path>``, with paths relative to the repository root (the parent of the
data dir), sorted by path, so ``cd <repo root> && sha256sum -c reports/checksums.txt`` verifies the release.
Covered: each year's Parquet, ``movies.parquet``, the sample, the split files (and their manifest),
``reports/data_profile.json`` and the CSV exports in the data dir; never ``checksums.txt`` itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from movie_assets.lake import Lake, atomic_path

from .common import ReleaseError, relative_to_root
from .export import export_files
from .profile import PROFILE_FILE

CHECKSUMS_FILE = "checksums.txt"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def release_files(lake: Lake) -> list[Path]:
    """Every release file present on disk."""
    files = sorted(lake.movies_dataset_dir.glob("year=*/*.parquet"))
    files += [p for p in (lake.movies_file, lake.sample_file, lake.reports_dir / PROFILE_FILE) if p.exists()]
    if lake.splits_dir.exists():
        files += sorted(p for p in lake.splits_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    files += export_files(lake)
    return files


def checksum_lines(lake: Lake, files: list[Path] | None = None) -> list[str]:
    entries = []
    for path in files if files is not None else release_files(lake):
        relative = relative_to_root(lake, path)
        if "\n" in relative or "\\" in relative:
            raise ReleaseError(f"cannot list {relative!r} in sha256sum format (newline or backslash in the name)")
        entries.append((relative, sha256_file(path)))
    return [f"{digest}  {relative}" for relative, digest in sorted(entries)]


def write_checksums(lake: Lake) -> tuple[Path, list[str]]:
    lines = checksum_lines(lake)
    if not lines:
        raise ReleaseError(f"no release files under {lake.root}; materialize the release assets first")
    target = lake.reports_dir / CHECKSUMS_FILE
    with atomic_path(target) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target, lines
