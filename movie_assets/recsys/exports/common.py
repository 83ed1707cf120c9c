"""What every exporter returns, and the small writers they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from movie_assets.lake import atomic_path, write_text_atomic
from movie_assets.recsys.exports.inputs import ExportError, ExportInputs, ModalityArray
from movie_assets.recsys.features import npy_bytes
from movie_assets.recsys.timeline import epoch_seconds


@dataclass
class Exported:
    """What one exporter wrote into its folder."""

    files: list[str]  # relative to the export's folder
    readme: str  # markdown: how to load and train with it (the common header is added by `run.run_export`)
    config_file: str | None = None  # the snippet the framework reads, relative to the folder
    notes: dict[str, Any] = field(default_factory=dict)  # counts and choices, for the README and metadata


def write_npy(array: np.ndarray, target: Path) -> None:
    """``array`` as ``.npy`` (float32 stays float32), written atomically."""
    with atomic_path(target) as temporary:
        temporary.write_bytes(npy_bytes(array))


def write_tsv(lines: list[str], target: Path) -> None:
    """UTF-8, LF line endings, atomically (RecBole reads the header with ``readline()[:-1]``)."""
    write_text_atomic("".join(line + "\n" for line in lines), target)


def clean_token(text: str | None) -> str:
    """A name as one token of a space-separated sequence: tabs, newlines, quotes and spaces become ``_``."""
    if text is None:
        return ""
    return re.sub(r"[\s\"']+", "_", text.strip()).strip("_")


def masks(arrays: list[ModalityArray | None]) -> dict[str, Any]:
    """The fill policy and the items filled, per modality (what each export writes beside its arrays)."""
    return {a.modality: {"model_id": a.model_id, "fill": a.fill, "missing": int((~a.present).sum()),
                         "missing_item_index": [int(i) for i in a.missing_items]}
            for a in arrays if a is not None}


def scipy_sparse():
    """``scipy.sparse``, or one line naming the extra to install (the LightFM and MMRec exports write sparse
    matrices; the rest of the project does not need scipy)."""
    try:
        import scipy.sparse as sparse
    except ImportError:
        raise ExportError("this export writes scipy sparse matrices and scipy is not installed: "
                          "pip install 'movie_assets[recsys]'") from None
    return sparse


def seconds(table: pa.Table) -> np.ndarray:
    """Whole epoch seconds of a table's ``timestamp``."""
    return epoch_seconds(table.column("timestamp"))


__all__ = ["ExportInputs", "Exported", "clean_token", "masks", "scipy_sparse", "seconds", "write_npy", "write_tsv"]
