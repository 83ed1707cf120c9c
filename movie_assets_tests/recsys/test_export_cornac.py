"""The Cornac export: UIRT splits that are the dataset's, the text model's own documents, vectors by item_index,
the same bytes every time, and — in Cornac 3.0.1 itself — a BaseMethod that keeps the cold items and trains VBPR."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from movie_assets.embeddings.text import content_hash
from movie_assets.recsys.exports import cornac
from movie_assets_tests.recsys.export_dataset import small_dataset, tiny_inputs
from movie_assets_tests.recsys.frameworks import load_back

PINS = ["cornac==3.0.1", "torch==2.13.0"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    _, inputs = small_dataset(tmp_path_factory.mktemp("cornac"))
    target = tmp_path_factory.mktemp("cornac-export")
    return inputs, target, cornac.export(inputs, target)


def _rows(path) -> tuple[str, list[list[str]]]:
    header, *lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    return header, [line.split("\t") for line in lines]


def test_the_splits_documents_and_vectors_are_the_datasets(exported):
    inputs, target, result = exported
    assert sorted(result.files) == sorted(p.name for p in target.iterdir())
    for split in ("train", "val", "test"):
        header, rows = _rows(target / f"{split}.tsv")
        table = inputs.split(split)
        assert header == "user\titem\trating\ttimestamp"
        assert len(rows) == table.num_rows == inputs.manifest["counts"]["per_split"][split] > 0
        assert [r[1] for r in rows] == [str(i) for i in table.column("item_index").to_pylist()]
        assert all(r[3].isdigit() for r in rows)  # Cornac's UIRT parser reads int(timestamp)
    ids = (target / "item_ids.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert ids == [str(i) for i in range(inputs.items.num_rows)]
    vectors = np.load(target / "text_features.npy")
    assert vectors.dtype == np.float32 and vectors.tobytes() == inputs.text.vectors.tobytes()
    header, documents = _rows(target / "item_text.tsv")
    assert header == "item\ttext" and [d[0] for d in documents] == ids and all(len(d) == 2 for d in documents)
    assert result.notes["cold_items_in_val_test"] > 0 and result.notes["exclude_unknowns"] is False
    assert "EXCLUDE_UNKNOWNS = False" in (target / "cornac_snippet.py").read_text(encoding="utf-8")
    assert "exclude_unknowns" in result.readme


def test_each_document_is_the_one_the_text_model_embedded(exported):
    inputs, _, result = exported
    documents = cornac.item_documents(inputs)
    hashes = inputs.items.column("text_content_hash").to_pylist()
    current = pc.equal(inputs.items.column("version_observed_at"),
                       inputs.item_features.column("editorial_observed_at")).to_pylist()
    assert sum(current) > 0.9 * len(current)
    for document, digest, same in zip(documents, hashes, current, strict=True):
        if same:  # the as-of version is the current one: the very document behind the vector
            assert content_hash(inputs.text.model_id, document) == digest
    differs = [i for i, (d, h) in enumerate(zip(documents, hashes, strict=True))
               if content_hash(inputs.text.model_id, d) != h]
    assert result.notes["text_document_differs_items"] == differs


def test_two_exports_are_the_same_bytes(exported, tmp_path):
    inputs, target, result = exported
    cornac.export(inputs, tmp_path)
    for name in result.files:
        assert (tmp_path / name).read_bytes() == (target / name).read_bytes(), name


def test_image_vectors_are_exported_and_preferred_and_implicit_is_rated_one(tmp_path):
    inputs = tiny_inputs(tmp_path / "in")
    result = cornac.export(inputs, tmp_path / "out")
    out = tmp_path / "out"
    assert np.load(out / "image_features.npy").tobytes() == inputs.image.vectors.tobytes()
    assert np.load(out / "text_features.npy").tobytes() == inputs.text.vectors.tobytes()
    assert 'np.load(HERE / "image_features.npy")' in (out / "cornac_snippet.py").read_text(encoding="utf-8")
    assert _rows(out / "train.tsv")[1] == [["0", "0", "1", "1704067200"]]
    documents = _rows(out / "item_text.tsv")[1]
    assert documents[0][1].startswith('"Quoted" Title · 1999 · Genres: Science Fiction, Drama') and documents[2] == [
        "2", ""]
    assert result.notes["cold_items_in_val_test"] == 2 and "EXCLUDE_UNKNOWNS = False" in (
        out / "cornac_snippet.py").read_text(encoding="utf-8")


LOAD_BACK = r'''
import json, runpy, sys
from cornac.metrics import Recall
from cornac.models import VBPR

snippet = runpy.run_path(sys.argv[1] + "/cornac_snippet.py")
method = snippet["load"]()
model = VBPR(k=8, k2=8, n_epochs=1, batch_size=256, seed=1)
test_result, val_result = method.evaluate(model, [Recall(k=10)], user_based=True, show_validation=True)
print(json.dumps({"counts": {"train": method.train_set.num_ratings, "val": method.val_set.num_ratings,
                             "test": method.test_set.num_ratings},
                  "items": method.total_items, "features": list(method.train_set.item_image.features.shape),
                  "test_recall": test_result.metric_avg_results["Recall@10"],
                  "trained": bool(model.gamma_item is not None and model.beta_item is not None)}))
'''


@pytest.mark.slow
@pytest.mark.frameworks
def test_cornac_loads_the_export_with_its_cold_items_and_trains_vbpr(exported, tmp_path):
    inputs, target, _ = exported
    report = load_back("cornac", PINS, LOAD_BACK, target, tmp_path)
    distinct = {}
    for split in ("train", "val", "test"):  # Cornac drops a repeated (user, item) pair within a split
        table = inputs.split(split)
        distinct[split] = len(set(zip(table.column("user_index").to_pylist(), table.column("item_index").to_pylist(),
                                      strict=True)))
    assert report["counts"] == distinct
    used = set(inputs.interactions.column("item_index").to_pylist())
    assert report["items"] == len(used) and report["features"][1] == inputs.text.vectors.shape[1]
    assert report["trained"] and 0.0 <= report["test_recall"] <= 1.0
