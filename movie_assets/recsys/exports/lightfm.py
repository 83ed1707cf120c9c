"""The LightFM layout: scipy sparse matrices (``.npz``, ``scipy.sparse.load_npz``) in the shapes
``lightfm.data.Dataset`` builds, and JSON maps from their rows and columns to the dataset's ids.

- ``interactions_{train,val,test}.npz``: COO, users × items over every user and every item of the index (cold and
  catalog-only items included), every value 1.0 as ``Dataset.build_interactions`` makes them (LightFM's losses skip
  a stored value <= 0, and its evaluation counts every stored entry as a positive: a weight there would be misread);
  ``weights_{train,val,test}.npz`` hold the interactions' weights in the same row/column order, for
  ``fit(sample_weight=...)``. A pair repeated inside a split is written once (the first by time).
- ``item_features.npz``: CSR, items × (N identity columns, then ``genre:``, ``director:``, ``keyword:`` tag columns
  from the item features as of train, then ``text:<k>`` columns when the dataset has text vectors, scaled so a row's
  text block weighs as much as one tag); rows L1-normalised, as ``Dataset.build_item_features(normalize=True)``
  makes them. Every item has its row, the identity at least.
- ``item_feature_names.json`` (the columns in order), ``user_ids.json`` (row → user_id), ``item_ids.json``
  (row → movie_id).

LightFM (lyst/lightfm 1.17, or lightfm-next 1.18.7 on Python 3.11) has no file format of its own: these are read
with ``scipy.sparse.load_npz`` and passed to ``LightFM.fit`` as they are.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib import format as npy_format

from movie_assets.lake import atomic_path, json_text, write_text_atomic
from movie_assets.recsys.exports.common import Exported, scipy_sparse
from movie_assets.recsys.exports.inputs import ExportInputs

if TYPE_CHECKING:
    import scipy.sparse as sp

SPLITS = ("train", "val", "test")
TAGS = (("genre", "genres", None), ("director", "directors", "name"), ("keyword", "keywords", None))
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip members' time: equal matrices give equal bytes


def write_npz(matrix: sp.spmatrix, target: Path) -> None:
    """``matrix`` as ``scipy.sparse.save_npz`` writes it (compressed; ``load_npz`` reads it back), but with a fixed
    member time so that the file's bytes depend on the matrix alone; written atomically."""
    members: dict[str, Any] = {}
    if matrix.format == "coo":
        members.update(row=matrix.row, col=matrix.col)
    else:
        members.update(indices=matrix.indices, indptr=matrix.indptr)
    members.update(format=matrix.format.encode("ascii"), shape=matrix.shape, data=matrix.data)
    with atomic_path(target) as temporary, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in members.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as handle:
                npy_format.write_array(handle, np.asanyarray(value), allow_pickle=False)


def _split_matrix(inputs: ExportInputs, split: str, shape: tuple[int, int]
                  ) -> tuple[sp.coo_matrix, sp.coo_matrix, np.ndarray]:
    """The split's interactions as a COO matrix of ones (first of each repeated pair, in time order), their weights
    in the same order, and their pair keys."""
    table = inputs.split(split)
    users = table.column("user_index").to_numpy().astype(np.int64)
    items = table.column("item_index").to_numpy().astype(np.int64)
    weight = pc.fill_null(table.column("weight"), pa.scalar(1.0, pa.float32())).to_numpy().astype(np.float32)
    keys = users * shape[1] + items
    _, first = np.unique(keys, return_index=True)
    first.sort()
    coordinates = (users[first].astype(np.int32), items[first].astype(np.int32))
    matrix = scipy_sparse().coo_matrix((np.ones(len(first), np.float32), coordinates), shape=shape)
    weights = scipy_sparse().coo_matrix((weight[first], coordinates), shape=shape)
    return matrix, weights, keys[first]


def _names(value: Any, field: str | None) -> list[str]:
    names = [(v.get(field) if field else v) for v in (value or [])]
    return [str(n).strip() for n in names if n is not None and str(n).strip()]


def tag_columns(inputs: ExportInputs, n_items: int) -> tuple[list[str], list[int], list[int]]:
    """(tag column names in order, then the (row, column) of every 1.0 entry, columns counted from 0 over the tags)."""
    features = inputs.item_features
    rows = features.column("item_index").to_pylist()
    per_kind: list[tuple[str, list[list[str]]]] = []
    for prefix, column, field in TAGS:
        values = features.column(column).to_pylist() if column in features.column_names else [None] * len(rows)
        per_kind.append((prefix, [sorted(set(_names(v, field))) for v in values]))
    columns: list[str] = []
    index: dict[str, int] = {}
    for prefix, lists in per_kind:
        for name in sorted({n for names in lists for n in names}):
            index[f"{prefix}:{name}"] = len(columns)
            columns.append(f"{prefix}:{name}")
    entry_rows, entry_cols = [], []
    for prefix, lists in per_kind:
        for row, names in zip(rows, lists, strict=True):
            if row is not None and 0 <= row < n_items:
                entry_rows += [row] * len(names)
                entry_cols += [index[f"{prefix}:{n}"] for n in names]
    return columns, entry_rows, entry_cols


def item_features(inputs: ExportInputs) -> tuple[sp.csr_matrix, list[str], dict[str, int]]:
    """The items × features CSR matrix, its column names, and the width of each block."""
    sparse = scipy_sparse()
    n = inputs.items.num_rows
    movie_ids = inputs.items.column("movie_id").to_pylist()
    tags, tag_rows, tag_cols = tag_columns(inputs, n)
    rows = [np.arange(n), np.asarray(tag_rows, dtype=np.int64)]
    cols = [np.arange(n), n + np.asarray(tag_cols, dtype=np.int64)]
    data = [np.ones(n), np.ones(len(tag_rows))]
    names = [f"item:{m}" for m in movie_ids] + tags
    widths = {"identity": n, "tags": len(tags), "text": 0}
    if inputs.text is not None:
        block = np.nan_to_num(inputs.text.vectors.astype(np.float64), nan=0.0)
        mass = np.abs(block).sum(axis=1, keepdims=True)
        block = np.divide(block, mass, out=np.zeros_like(block), where=mass > 0)  # a row's text weighs one tag
        r, c = np.nonzero(block)
        rows.append(r)
        cols.append(n + len(tags) + c)
        data.append(block[r, c])
        widths["text"] = block.shape[1]
        names += [f"text:{k}" for k in range(block.shape[1])]
    matrix = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(n, len(names)))
    totals = np.asarray(abs(matrix).sum(axis=1)).ravel()  # ≥ 1: the identity
    matrix = sparse.csr_matrix(sparse.diags(1.0 / totals) @ matrix, dtype=np.float32)
    matrix.sort_indices()
    return matrix, names, widths


def _readme(notes: dict[str, Any]) -> str:
    w = notes["item_feature_blocks"]
    lines = [
        "## LightFM", "",
        "```python",
        "import json, scipy.sparse as sp",
        "from lightfm import LightFM",
        "from lightfm.evaluation import precision_at_k",
        "train, test = (sp.load_npz(f'interactions_{s}.npz') for s in ('train', 'test'))",
        "features = sp.load_npz('item_features.npz')",
        "model = LightFM(no_components=32, loss='warp').fit(train, item_features=features, epochs=10)",
        "# weighted: .fit(train, sample_weight=sp.load_npz('weights_train.npz'), ...) (same order as train)",
        "print(precision_at_k(model, test, train_interactions=train, item_features=features,",
        "                     check_intersections=False, k=10).mean())",
        "```", "",
        f"- {notes['users']:,} users × {notes['items']:,} items: every user and every item of the index, cold and "
        "catalog-only items included (`user_ids.json`, `item_ids.json` map rows to `user_id` and `movie_id`).",
        f"- Entries per split: {notes['entries']['train']:,} / {notes['entries']['val']:,} / "
        f"{notes['entries']['test']:,} (value = the interaction's weight); "
        f"{notes['repeats_in_split_merged']:,} pairs repeated inside a split were written once (the first by time).",
        f"- {notes['val_test_pairs_seen_in_train']:,} val/test pairs repeat a train pair (a user coming back to a "
        "movie). `lightfm.evaluation` raises on such overlaps unless `check_intersections=False`; with "
        "`train_interactions` given they are excluded from the ranking and cannot be hit.",
        f"- `item_features.npz`: {w['identity']:,} identity columns (item i → column i), then {w['tags']:,} tag "
        "columns (`genre:`, `director:`, `keyword:`, from the item features as of train, so no val/test knowledge)"
        + (f", then {w['text']} `text:<k>` columns (the text vector, scaled so its block weighs as much as one tag)"
           if w["text"] else "") + "; rows are L1-normalised like `Dataset.build_item_features(normalize=True)`. "
        "`item_feature_names.json` names the columns in order.",
        "- To drop the text block, take `features[:, :identity + tags]` and L1-normalise the rows again.",
    ]
    return "\n".join(lines) + "\n"


def export(inputs: ExportInputs, target: Path) -> Exported:
    """Write the LightFM matrices and their id maps into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    shape = (inputs.users.num_rows, inputs.items.num_rows)
    entries, merged, keys = {}, 0, {}
    for split in SPLITS:
        matrix, weights, keys[split] = _split_matrix(inputs, split, shape)
        merged += inputs.split(split).num_rows - matrix.nnz
        entries[split] = int(matrix.nnz)
        write_npz(matrix, target / f"interactions_{split}.npz")
        write_npz(weights, target / f"weights_{split}.npz")
    features, names, widths = item_features(inputs)
    write_npz(features, target / "item_features.npz")
    write_text_atomic(json_text(names), target / "item_feature_names.json")
    write_text_atomic(json_text(inputs.users.column("user_id").to_pylist()), target / "user_ids.json")
    write_text_atomic(json_text(inputs.items.column("movie_id").to_pylist()), target / "item_ids.json")
    seen = np.isin(np.concatenate([keys["val"], keys["test"]]), keys["train"])
    notes = {"users": shape[0], "items": shape[1], "entries": entries, "repeats_in_split_merged": int(merged),
             "val_test_pairs_seen_in_train": int(seen.sum()), "item_feature_blocks": widths,
             "item_feature_columns": len(names)}
    files = [f"{kind}_{s}.npz" for kind in ("interactions", "weights") for s in SPLITS]
    files += ["item_features.npz", "item_feature_names.json", "user_ids.json", "item_ids.json"]
    return Exported(files=files, readme=_readme(notes), notes=notes)
