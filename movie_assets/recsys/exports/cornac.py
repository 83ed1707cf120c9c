"""Cornac 3.0.1 files: UIRT triples per split (``train.tsv``, ``val.tsv``, ``test.tsv``), the item documents
(``item_text.tsv``), the vectors (``text_features.npy``, ``image_features.npy``, row = ``item_index``) with their
ids (``item_ids.txt``), and ``cornac_snippet.py``, which loads them into a ``BaseMethod`` and trains VBPR.

The documents are built from the as-of-train item features by the text model's own `document_text`: what was known
when training ends. An item whose text changed after the cut-off has a text vector of its newer, current document;
those items are counted in the export's notes (``text_document_differs``) and listed by ``item_index``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.embeddings.text import content_hash, document_text
from movie_assets.lake import write_text_atomic
from movie_assets.recsys.exports.common import Exported, write_npy, write_tsv
from movie_assets.recsys.exports.inputs import ExportError, ExportInputs
from movie_assets.recsys.exports.recbole import uirt

UIRT_HEADER = "user\titem\trating\ttimestamp"
SPLIT_FILES = (("train", "train.tsv"), ("val", "val.tsv"), ("test", "test.tsv"))
DOCUMENT_COLUMNS = ["item_index", "title", "release_date", "genres", "directors", "cast", "keywords", "overview"]


def _uirt_lines(table: pa.Table) -> list[str]:
    users, items, ratings, times, _ = uirt(table)
    return [UIRT_HEADER, *(f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in zip(users.tolist(), items.tolist(), ratings,
                                                                     times.tolist(), strict=True))]


def item_documents(inputs: ExportInputs) -> list[str]:
    """The text-model document of every item (row = ``item_index``) from its as-of-train features; empty for an
    item the table lacks."""
    rows = {r["item_index"]: r for r in inputs.item_features.select(DOCUMENT_COLUMNS).to_pylist()}
    return [document_text(rows[i]) if i in rows else "" for i in inputs.items.column("item_index").to_pylist()]


def _one_line(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _cold(inputs: ExportInputs) -> int:
    train = inputs.split("train").column("item_index")
    later = pc.unique(pa.concat_arrays([inputs.split(s).column("item_index").combine_chunks()
                                        for s in ("val", "test")]))
    return int(pc.sum(pc.invert(pc.is_in(later, value_set=pc.unique(train)))).as_py() or 0)


SNIPPET = '''"""Load this Cornac export and train VBPR for a few epochs: python cornac_snippet.py [epochs]."""

import sys
from pathlib import Path

import numpy as np
from cornac.data import ImageModality, Reader, TextModality
from cornac.eval_methods import BaseMethod

HERE = Path(__file__).resolve().parent
EXCLUDE_UNKNOWNS = {exclude}  # {why}


def load(seed=1):
    """The BaseMethod of the three splits with the item vectors and documents."""
    reader = Reader()
    train, val, test = (reader.read(str(HERE / name), fmt="UIRT", sep="\\t", skip_lines=1)
                        for name in ("train.tsv", "val.tsv", "test.tsv"))
    ids = (HERE / "item_ids.txt").read_text(encoding="utf-8").split()  # strings, like the Reader's ids
    features = np.load(HERE / "{vectors}")  # row = item_index
    lines = (HERE / "item_text.tsv").read_text(encoding="utf-8").splitlines()[1:]
    documents = dict(line.split("\\t", 1) for line in lines)
    method = BaseMethod.from_splits(
        train_data=train, test_data=test, val_data=val, fmt="UIRT", exclude_unknowns=EXCLUDE_UNKNOWNS,
        rating_threshold=0.5, seed=seed, verbose=False,
        item_image=ImageModality(features=features, ids=ids),
        item_text=TextModality(corpus=[documents[i] for i in ids], ids=ids))
    # Cornac 3.0.1 builds test before val, so an item first seen in val gets an index past test_set.num_items and
    # ranking_eval fails (IndexError) on a test user who has it in val: size both sets to every item and user.
    for split in (method.test_set, method.val_set):
        split.num_items, split.num_users = method.total_items, method.total_users
    return method


if __name__ == "__main__":
    import cornac
    from cornac.metrics import NDCG, Recall
    from cornac.models import VBPR

    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    method = load()
    cornac.Experiment(method, [VBPR(k=8, k2=8, n_epochs=epochs, batch_size=256, seed=1)],
                      [Recall(k=10), NDCG(k=10)]).run()
'''


_DIFFERS = ("- {:,} item(s) changed their text after the end of training: `item_text.tsv` holds the document known "
            "then, while their text vector was computed from the current one (`export.json`: "
            "`text_document_differs`).\n")


def _readme(counts: dict[str, int], cold: int, exclude: bool, vectors: str | None, differs: int) -> str:
    return f"""
## Cornac 3.0.1

`train.tsv`, `val.tsv`, `test.tsv` (UIRT with a header line; train {counts['train']:,}, val {counts['val']:,},
test {counts['test']:,} interactions; implicit interactions are rated 1.0), `item_text.tsv` (`item`, `text`: the
document the text model reads, built from the features as of the end of training),
{f'`{vectors}`' if vectors else 'no vector file'} (float32, row = `item_index`) with `item_ids.txt` (the ids of
those rows, for `ImageModality(ids=…)` and `TextModality(ids=…)`), and `cornac_snippet.py`:

```bash
python cornac_snippet.py 10     # VBPR (k=8) for 10 epochs, Recall@10 and NDCG@10 on test
```

Traps:

- Ids are strings (`Reader` keeps them as text), so the modality ids are strings too: `item_ids.txt` as read.
  Cornac renumbers items by first appearance; a modality's rows are reordered through its `ids`.
- **`exclude_unknowns`**: the `BaseMethod` constructor defaults to `True`, which silently drops every val/test
  interaction of an item (or user) not in train — cold items vanish from evaluation. This export has {cold:,}
  item(s) in val/test with no train interaction, so the snippet sets `exclude_unknowns={exclude}`.
- With `exclude_unknowns=False`, Cornac 3.0.1's `ranking_eval` fails (`IndexError`) when a test user has a val item
  that neither train nor test holds (test is built before val); the snippet sizes the test and val sets to every
  item and user after `from_splits`.
- Cornac drops repeated (user, item) pairs within a split (with a warning), so its counts can be lower than ours.
- Cornac 3.0.1 needs NumPy > 2 (RecBole needs < 2: separate environments). VBPR needs torch; CDL, ConvMF and
  CVAE need TensorFlow.
{_DIFFERS.format(differs) if differs else ''}"""


def export(inputs: ExportInputs, target: Path) -> Exported:
    """Write the Cornac files of ``inputs`` into ``target``."""
    if inputs.options.fill == "none":
        raise ExportError("fill='none' writes NaN rows, which Cornac feeds to the model as they are (the loss is NaN "
                          "from the first batch); export cornac with fill 'zeros' or 'mean' (masks.json lists the "
                          "filled items)")
    files: list[str] = []
    counts = {}
    for split, name in SPLIT_FILES:
        table = inputs.split(split)
        counts[split] = table.num_rows
        write_tsv(_uirt_lines(table), target / name)
        files.append(name)
    documents = item_documents(inputs)
    write_tsv(["item\ttext", *(f"{i}\t{_one_line(d)}" for i, d in enumerate(documents))], target / "item_text.tsv")
    write_tsv([str(i) for i in range(len(documents))], target / "item_ids.txt")
    files += ["item_text.tsv", "item_ids.txt"]
    differs: list[int] = []
    if inputs.text is not None:
        hashes = inputs.items.column("text_content_hash").to_pylist()
        differs = [i for i, (d, h) in enumerate(zip(documents, hashes, strict=True))
                   if h is not None and content_hash(inputs.text.model_id, d) != h]
    vectors = None
    for array, name in ((inputs.text, "text_features.npy"), (inputs.image, "image_features.npy")):
        if array is not None:
            write_npy(array.vectors, target / name)
            files.append(name)
            vectors = name  # the image vectors when there are both: VBPR's visual features
    cold = _cold(inputs)
    exclude = cold == 0
    if vectors is not None:
        why = ("no val/test item is missing from train" if exclude else
               f"{cold} val/test item(s) have no train interaction; True would drop them silently")
        write_text_atomic(SNIPPET.format(exclude=exclude, why=why, vectors=vectors), target / "cornac_snippet.py")
        files.append("cornac_snippet.py")
    return Exported(files=files, readme=_readme(counts, cold, exclude, vectors, len(differs)),
                    config_file="cornac_snippet.py" if vectors else None,
                    notes={"interactions": counts, "cold_items_in_val_test": cold, "exclude_unknowns": exclude,
                           "text_document_differs": len(differs), "text_document_differs_items": differs})
