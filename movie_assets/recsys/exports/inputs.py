"""What every framework export reads: one built dataset (`movie_assets.recsys.build`), with the feature arrays an
export asked for, filled by the export's policy.

`load_dataset` opens ``data/recsys/<dataset>/`` (a dataset name, or a source name: its latest dataset) and checks
what an export needs is there; `ExportOptions` says which text and image models to take (default: the dataset's
only one of each modality) and how to fill items without a vector. A model the dataset has no vectors of, a split
without interactions, a dataset that does not exist: `ExportError` naming the setting or file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.lake import Lake
from movie_assets.recsys.features import FILLS, POSTER, TEXT, filled
from movie_assets.recsys.timeline import SPLITS

IMAGE = "image"  # the frameworks' word for the poster modality


class ExportError(ValueError):
    """An export cannot be made from its dataset and settings as they are; the message names what to fix."""


@dataclass(frozen=True)
class ExportOptions:
    """Which vectors an export takes and how items without one are filled (recorded in the export's README)."""

    text_model: str | None = None  # a model id, or a file name under features/ (None: the dataset's only one)
    image_model: str | None = None
    fill: str = "zeros"  # zeros, mean or none (NaN): the rows of items without a vector

    def __post_init__(self) -> None:
        if self.fill not in FILLS:
            raise ExportError(f"fill={self.fill!r} is not one of {', '.join(FILLS)}")


@dataclass(frozen=True)
class ModalityArray:
    """One modality's vectors for every item (row = item_index), filled by the export's policy."""

    modality: str  # "text" or "poster"
    model_id: str
    backend: str | None
    vectors: np.ndarray  # float32, N × d
    present: np.ndarray  # bool, N: the item has a vector of its own (the mask)
    fill: str
    file: str  # the dataset's array it came from, relative to the dataset folder

    @property
    def missing_items(self) -> np.ndarray:
        return np.flatnonzero(~self.present)


@dataclass
class ExportInputs:
    """A built dataset, as exports read it."""

    name: str
    directory: Path
    manifest: dict[str, Any]
    interactions: pa.Table  # user_index, item_index, rating, weight, timestamp, event, split (held_out left out)
    items: pa.Table  # item_index.parquet
    users: pa.Table  # user_index.parquet
    item_features: pa.Table  # features/item_features_asof_train.parquet (what is known when training ends)
    text: ModalityArray | None
    image: ModalityArray | None
    options: ExportOptions = field(default_factory=ExportOptions)

    @property
    def publishable(self) -> bool:
        return bool(self.manifest.get("publishable"))

    def split(self, name: str) -> pa.Table:
        """The interactions of one split (train, val, test), in time order."""
        return self.interactions.filter(pc.equal(self.interactions.column("split"), name))


def dataset_dir(lake: Lake, dataset: str) -> Path:
    """The folder of ``dataset``: a dataset name, or a source name (its latest dataset)."""
    folder = lake.recsys_dataset_dir(dataset)
    if (folder / "manifest.json").exists():
        return folder
    latest = lake.recsys_latest_file(dataset)
    if latest.exists():
        folder = lake.recsys_dataset_dir(latest.read_text(encoding="utf-8").strip())
        if (folder / "manifest.json").exists():
            return folder
    known = ", ".join(p.name for p in lake.recsys_datasets()) or "none"
    raise ExportError(f"no recommender dataset {dataset!r} under {lake.recsys_dir} (datasets: {known}); build one with "
                      "`movie-assets interactions import|synth` or recsys_job")


def _array(directory: Path, items: pa.Table, modality: str, wanted: str | None, fill: str) -> ModalityArray | None:
    sidecars = []
    for path in sorted((directory / "features").glob(f"{modality}_*.json")):
        sidecar = json.loads(path.read_text(encoding="utf-8"))
        if sidecar.get("row") == "item_index":
            sidecars.append((path, sidecar))
    setting = "text_model" if modality == TEXT else "image_model"
    if wanted is not None:
        chosen = [(p, s) for p, s in sidecars if wanted in (s["model_id"], p.stem, p.with_suffix(".npy").name)]
        if not chosen:
            have = ", ".join(s["model_id"] for _, s in sidecars) or "none"
            raise ExportError(f"{setting}={wanted!r}: the dataset {directory.name} has no {modality} vectors of "
                              f"that model (it has: {have}); embed with it and build the dataset again, or pick one")
    elif len(sidecars) > 1:
        have = ", ".join(s["model_id"] for _, s in sidecars)
        raise ExportError(f"the dataset {directory.name} has {modality} vectors of several models ({have}); set "
                          f"{setting} to one of them")
    else:
        chosen = sidecars
    if not chosen:
        return None
    path, sidecar = chosen[0]
    present = pc.fill_null(items.column(sidecar.get("mask_column", f"has_{modality}")), False).to_numpy(
        zero_copy_only=False)
    vectors, _ = filled(np.load(path.with_suffix(".npy"), allow_pickle=False), present, fill)
    return ModalityArray(modality, sidecar["model_id"], sidecar.get("backend"), vectors, present, fill,
                         f"features/{path.with_suffix('.npy').name}")


def load_dataset(lake: Lake, dataset: str, options: ExportOptions = ExportOptions(),
                 require_splits: tuple[str, ...] = SPLITS) -> ExportInputs:
    """``dataset`` as exports read it; every split of ``require_splits`` must hold interactions."""
    directory = dataset_dir(lake, dataset)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    interactions = pq.read_table(directory / "interactions.parquet")
    interactions = interactions.filter(pc.is_in(interactions.column("split"), value_set=pa.array(list(SPLITS))))
    for name in require_splits:
        if not pc.any(pc.equal(interactions.column("split"), name)).as_py():
            raise ExportError(f"the dataset {directory.name} has no {name} interactions, and frameworks need all of "
                              "train, val and test; choose other cut-offs (val_start, test_start) and build it again")
    items = pq.read_table(directory / "item_index.parquet")
    return ExportInputs(
        name=directory.name, directory=directory, manifest=manifest, interactions=interactions, items=items,
        users=pq.read_table(directory / "user_index.parquet"),
        item_features=pq.read_table(directory / "features" / "item_features_asof_train.parquet"),
        text=_array(directory, items, TEXT, options.text_model, options.fill),
        image=_array(directory, items, POSTER, options.image_model, options.fill),
        options=options,
    )
