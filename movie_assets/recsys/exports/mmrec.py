"""The MMRec layout (enoche/MMRec, checked against commit e775373b3ab1354a92165b0885ce4ab3dc4d7497): one folder
``<ds>/`` holding ``<ds>.inter``, ``text_feat.npy`` / ``image_feat.npy``, ``user_graph_dict.npy``, the id mappings,
the items without a vector and ``<ds>.yaml``.

MMRec is GPL-3.0 and is not installed: this module writes its documented file contract, it copies none of its code.
The rules it follows, as MMRec reads the files:

- ``<ds>.inter`` is read with ``usecols=[userID, itemID, x_label]`` and the yaml's ``field_separator``; ``x_label``
  0, 1, 2 are train, val and test. ``item_num = max(itemID) + 1`` over every row, and the feature arrays must have
  exactly that many rows (VBPR concatenates them with the item embeddings), so the arrays are cut there: items of the
  index after the last item with an interaction (catalog-only items) are not in MMRec's world, and are counted.
- Train becomes a 0/1 matrix, so a user's repeated train pair is written once (the first by time) and counted.
- ``user_graph_dict.npy`` (DualGNN, DRAGON): ``{user: [neighbours, weights]}`` for every user ``0..U-1``, the weight
  being the number of distinct train items two users share, the 200 heaviest, the user itself never among them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import atomic_path, write_text_atomic
from movie_assets.recsys.exports.common import Exported, scipy_sparse, seconds, write_npy, write_tsv
from movie_assets.recsys.exports.inputs import ExportError, ExportInputs, ModalityArray

MMREC_COMMIT = "e775373b3ab1354a92165b0885ce4ab3dc4d7497"
LABELS = {"train": 0, "val": 1, "test": 2}  # MMRec's x_label
NEIGHBOURS = 200  # what MMRec's user-graph script keeps per user
BLOCK = 4096  # users per block of the co-occurrence product (bounds its memory)
HEADER = "userID\titemID\trating\ttimestamp\tx_label"


def dataset_token(name: str) -> str:
    """``name`` as MMRec's dataset name: a folder, a file stem and a yaml name (letters, digits, ``_ - .``)."""
    token = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip("._")
    return token or "dataset"


def _first_train_pairs(users: np.ndarray, items: np.ndarray, train: np.ndarray) -> np.ndarray:
    """A keep-mask: every val/test row, and the first (by position, i.e. time) train row of each (user, item)."""
    keep = np.ones(len(users), dtype=bool)
    rows = np.flatnonzero(train)
    pairs = users[rows].astype(np.int64) * (int(items.max(initial=0)) + 1) + items[rows]
    _, first = np.unique(pairs, return_index=True)
    keep[rows] = False
    keep[rows[first]] = True
    return keep


def user_graph(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int,
               neighbours: int = NEIGHBOURS) -> dict[int, list[list[Any]]]:
    """``{u: [[v, ...], [weight, ...]]}`` for every user 0..n_users-1 from the (user, item) train pairs: the users
    sharing at least one distinct item with ``u``, heaviest first, ties by user id, at most ``neighbours``."""
    sp = scipy_sparse()
    x = sp.csr_matrix((np.ones(len(users), dtype=np.int64), (users, items)), shape=(n_users, n_items))
    x.data[:] = 1  # distinct items: a repeated pair counts once
    xt = x.T.tocsr()
    graph: dict[int, list[list[Any]]] = {}
    for start in range(0, n_users, BLOCK):
        stop = min(start + BLOCK, n_users)
        block = (x[start:stop] @ xt).tocoo()
        off_diagonal = block.row + start != block.col
        row, col, count = block.row[off_diagonal], block.col[off_diagonal], block.data[off_diagonal]
        order = np.lexsort((col, -count, row))
        row, col, count = row[order], col[order], count[order]
        bounds = np.searchsorted(row, np.arange(stop - start + 1))
        for local in range(stop - start):
            lo, hi = bounds[local], min(bounds[local + 1], bounds[local] + neighbours)
            graph[start + local] = [[int(v) for v in col[lo:hi]], [float(w) for w in count[lo:hi]]]
    return graph


def _save_dict(graph: dict[int, list[list[Any]]], target: Path) -> None:
    """The dict as ``np.save`` writes it (a 0-d object array, pickled), atomically; equal dicts give equal bytes."""
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        np.save(handle, graph, allow_pickle=True)


def _missing(array: ModalityArray, item_num: int, target: Path) -> int:
    missed = [int(i) for i in array.missing_items if i < item_num]
    write_tsv(["itemID", *(str(i) for i in missed)], target)
    return len(missed)


def _yaml(ds: str) -> str:
    return "\n".join([
        f"# MMRec dataset config for {ds}: copy it to MMRec/src/configs/dataset/{ds}.yaml",
        f"# (layout checked against enoche/MMRec {MMREC_COMMIT})",
        "# set data_path (in configs/overall.yaml or here) to the folder holding this one, ending in '/'",
        "USER_ID_FIELD: userID",
        "ITEM_ID_FIELD: itemID",
        "TIME_FIELD: timestamp",
        "filter_out_cod_start_users: True",
        f"inter_file_name: '{ds}.inter'",
        "text_feature_file: 'text_feat.npy'",
        "vision_feature_file: 'image_feat.npy'  # skipped by MMRec when the export has no poster vectors",
        "user_graph_dict_file: 'user_graph_dict.npy'",
        'field_separator: "\\t"',
        "",
    ])


def _readme(ds: str, notes: dict[str, Any]) -> str:
    lines = [
        "## MMRec", "",
        f"`{ds}/` is an MMRec dataset folder (layout checked against enoche/MMRec `{MMREC_COMMIT[:12]}`).", "",
        "```bash",
        f"cp {ds}/{ds}.yaml MMRec/src/configs/dataset/",
        "# in MMRec/src/configs/overall.yaml: data_path: '/path/to/this/export/'   <- must end in '/'",
        f"cd MMRec/src && python main.py -m VBPR -d {ds}",
        "```", "",
        "- MMRec joins `data_path + dataset` as strings, so `data_path` must end in `/`.",
        "- FREEDOM, DRAGON, LATTICE, MGCN and PGL cache adjacency files (`mm_adj_*.pt`, `image_adj_*.pt`, "
        "`text_adj_*.pt`) in the dataset folder and load them again on the next run: after a re-export, delete them "
        "(or export into a clean folder) or the models silently use the old graph.",
        "- MMRec's `utils/metrics.py` uses `np.float`, removed in NumPy 1.24: evaluation crashes on a current NumPy. "
        "Pin `numpy<1.24` (1.23.5), or set `numpy.float = float` before MMRec's modules run.",
        f"- `x_label` 0/1/2 = train/val/test: {notes['rows']['train']:,} / {notes['rows']['val']:,} / "
        f"{notes['rows']['test']:,} rows; held-out interactions are not in the file.",
        f"- Train is a 0/1 matrix in MMRec: {notes['train_duplicates_merged']:,} repeated train (user, item) pairs "
        "were written once (the first by time).",
        f"- `item_num = max(itemID) + 1` = {notes['item_num']:,}; the feature arrays have exactly that many rows "
        f"(row = itemID = item_index). {notes['items_beyond_last_interaction']:,} items of the index come after the "
        "last item with an interaction (catalog-only items) and are not in the export: MMRec cannot score them.",
        f"- Items without a vector (their rows hold the fill): `missed_txt_itemIDs.csv` "
        f"({notes['missed_text']}), `missed_img_itemIDs.csv` ({notes['missed_image']}).",
        "- `i_id_mapping.csv` (`movie_id`, `itemID`) and `u_id_mapping.csv` (`user_id`, `userID`) are tab-separated, "
        "as MMRec's own; MMRec does not read them.",
        "- `user_graph_dict.npy` (DualGNN, DRAGON) is computed from train only: per user, the users sharing the most "
        f"distinct train items (at most {NEIGHBOURS}, ties by user id).",
    ]
    return "\n".join(lines) + "\n"


def export(inputs: ExportInputs, target: Path) -> Exported:
    """Write the MMRec dataset folder ``target/<ds>/`` for ``inputs``."""
    if inputs.options.fill == "none":
        raise ExportError("fill='none' writes NaN rows, which MMRec feeds to the model as they are (the loss is NaN "
                          "from the first batch); export mmrec with fill 'zeros' or 'mean' (masks.json lists the "
                          "filled items)")
    if inputs.text is None and inputs.image is None:
        raise ExportError(f"the dataset {inputs.name} has no text or poster vectors, and MMRec loads none without "
                          "one ('Features all NONE'); embed the movies and build the dataset again")
    ds = dataset_token(inputs.name)
    folder = target / ds
    folder.mkdir(parents=True, exist_ok=True)
    table = inputs.interactions
    users = table.column("user_index").to_numpy().astype(np.int64)
    items = table.column("item_index").to_numpy().astype(np.int64)
    split = table.column("split").to_numpy(zero_copy_only=False)
    labels = np.select([split == s for s in LABELS], list(LABELS.values()), -1)
    keep = _first_train_pairs(users, items, labels == 0)
    merged = int((~keep).sum())
    users, items, labels = users[keep], items[keep], labels[keep]
    rating = pc.coalesce(table.column("rating"), table.column("weight"), pa.scalar(1.0, pa.float32())).to_numpy()[keep]
    stamps = seconds(table)[keep]
    write_tsv([HEADER, *(f"{u}\t{i}\t{float(r):g}\t{t}\t{x}"
                         for u, i, r, t, x in zip(users.tolist(), items.tolist(), rating.tolist(), stamps.tolist(),
                                                  labels.tolist(), strict=True))], folder / f"{ds}.inter")

    item_num, user_num = int(items.max()) + 1, int(users.max()) + 1
    files = [f"{ds}.inter"]
    missed: dict[str, int | str] = {"text": "none: no text vectors", "image": "none: no poster vectors"}
    for array, stem, short in ((inputs.text, "text_feat", "txt"), (inputs.image, "image_feat", "img")):
        if array is not None:
            write_npy(np.ascontiguousarray(array.vectors[:item_num], dtype=np.float32), folder / f"{stem}.npy")
            missed["text" if short == "txt" else "image"] = _missing(array, item_num,
                                                                    folder / f"missed_{short}_itemIDs.csv")
            files += [f"{stem}.npy", f"missed_{short}_itemIDs.csv"]

    movie_ids = inputs.items.column("movie_id").to_pylist()[:item_num]
    write_tsv(["movie_id\titemID", *(f"{m}\t{i}" for i, m in enumerate(movie_ids))], folder / "i_id_mapping.csv")
    user_ids = inputs.users.column("user_id").to_pylist()[:user_num]
    write_tsv(["user_id\tuserID", *(f"{u}\t{i}" for i, u in enumerate(user_ids))], folder / "u_id_mapping.csv")
    train = labels == 0
    _save_dict(user_graph(users[train], items[train], user_num, item_num), folder / "user_graph_dict.npy")
    write_text_atomic(_yaml(ds), folder / f"{ds}.yaml")
    files += ["i_id_mapping.csv", "u_id_mapping.csv", "user_graph_dict.npy", f"{ds}.yaml"]

    notes = {
        "mmrec_commit": MMREC_COMMIT, "dataset_name": ds, "item_num": item_num, "user_num": user_num,
        "rows": {s: int((labels == code).sum()) for s, code in LABELS.items()},
        "train_duplicates_merged": merged,
        "items_beyond_last_interaction": inputs.items.num_rows - item_num,
        "users_beyond_last_interaction": inputs.users.num_rows - user_num,
        "missed_text": missed["text"], "missed_image": missed["image"],
    }
    return Exported(files=[f"{ds}/{f}" for f in files], readme=_readme(ds, notes), config_file=f"{ds}/{ds}.yaml",
                    notes=notes)
