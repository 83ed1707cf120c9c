"""The Parquet lake: where every file lives (`paths`), how files are written (`files`), what tables hold
(`schema`). Plain Python, no Dagster."""

from movie_assets.lake.files import (
    atomic_dir,
    atomic_path,
    file_sha256,
    json_text,
    remove_dir_atomic,
    replace_dir_atomic,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from movie_assets.lake.paths import UNDATED_PARTITION, Lake, LakeError

__all__ = [
    "UNDATED_PARTITION",
    "Lake",
    "LakeError",
    "atomic_dir",
    "atomic_path",
    "file_sha256",
    "json_text",
    "remove_dir_atomic",
    "replace_dir_atomic",
    "write_json_atomic",
    "write_parquet_atomic",
    "write_text_atomic",
]
