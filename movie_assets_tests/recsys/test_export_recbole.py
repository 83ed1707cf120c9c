"""The RecBole export: atomic files whose headers, rows and vectors are the dataset's, the same bytes every time,
and — in RecBole 1.2.1 itself — a dataset that loads with our splits and vectors and trains BPR for an epoch."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from movie_assets.recsys.exports import recbole
from movie_assets.recsys.exports.inputs import ExportError, ExportOptions, load_dataset
from movie_assets_tests.recsys.export_dataset import small_dataset, tiny_inputs
from movie_assets_tests.recsys.frameworks import load_back

PINS = ["recbole==1.2.1", "torch==2.13.0", "numpy==1.26.4", "pandas==2.2.3", "scipy==1.13.1",
        "scikit-learn==1.5.2", "colorlog==4.7.2", "colorama==0.4.4", "tensorboard", "thop", "texttable",
        "tabulate", "plotly", "psutil", "pyyaml", "tqdm", "ray==2.6.3"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("recbole"))


@pytest.fixture(scope="module")
def exported(dataset, tmp_path_factory):
    _, inputs = dataset
    target = tmp_path_factory.mktemp("recbole-export")
    return inputs, target, recbole.export(inputs, target)


def _rows(path) -> tuple[str, list[list[str]]]:
    header, *lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    return header, [line.split("\t") for line in lines]


def test_the_atomic_files_hold_every_split_item_and_vector(exported):
    inputs, target, result = exported
    ds = recbole.dataset_name(inputs.name)
    folder = target / ds
    assert sorted(result.files) == sorted(f"{ds}/{p.name}" for p in folder.iterdir())
    for suffix, split in (("train", "train"), ("valid", "val"), ("test", "test")):
        header, rows = _rows(folder / f"{ds}.{suffix}.inter")
        assert header == recbole.INTER_HEADER
        table = inputs.split(split)
        assert len(rows) == table.num_rows == inputs.manifest["counts"]["per_split"][split] > 0
        assert [r[:2] for r in rows] == [[str(u), str(i)] for u, i in zip(
            table.column("user_index").to_pylist(), table.column("item_index").to_pylist(), strict=True)]
        assert [float(r[2]) for r in rows] == table.column("rating").to_pylist()
    assert len(_rows(folder / f"{ds}.inter")[1]) == inputs.interactions.num_rows
    header, items = _rows(folder / f"{ds}.item")
    assert header.split("\t")[0] == "item_id:token" and all(len(r) == 7 for r in items)
    assert [r[0] for r in items] == [str(i) for i in range(inputs.items.num_rows)]
    assert all(" " not in token for r in items for token in r[3].split(" ")) and any("_" in r[3] for r in items)
    header, vectors = _rows(folder / f"{ds}.itememb")
    assert header == "iid:token\ttext_emb:float_seq" and [r[0] for r in vectors] == [r[0] for r in items]
    parsed = np.array([[float(v) for v in r[1].split(" ")] for r in vectors], np.float32)
    assert parsed.tobytes() == inputs.text.vectors.tobytes()
    config = (folder / f"{ds}.yaml").read_text(encoding="utf-8")
    for line in (f"dataset: {ds}", "benchmark_filename: [train, valid, test]", "  itememb: [iid, text_emb]",
                 "alias_of_item_id: [iid]", "  iid: text_emb", 'field_separator: "\\t"'):
        assert line in config.splitlines()
    assert "imgemb" not in config and result.config_file == f"{ds}/{ds}.yaml"
    assert "field2token_id" in result.readme and "get_preload_weight" in result.readme


def test_two_exports_are_the_same_bytes(exported, tmp_path):
    inputs, target, result = exported
    again = recbole.export(inputs, tmp_path)
    assert again.files == result.files
    for name in result.files:
        assert (tmp_path / name).read_bytes() == (target / name).read_bytes(), name


def test_image_vectors_implicit_feedback_and_odd_names(tmp_path):
    inputs = tiny_inputs(tmp_path / "in")
    result = recbole.export(inputs, tmp_path / "out")
    ds = recbole.dataset_name(inputs.name)
    assert ds == "tiny_set_v1" and recbole.dataset_name("ml-100k") != "ml-100k"
    folder = tmp_path / "out" / ds
    _, train = _rows(folder / f"{ds}.train.inter")
    assert train == [["0", "0", "1", "1704067200"]] and result.notes["implicit_rated_1"] == 1
    _, test = _rows(folder / f"{ds}.test.inter")
    assert np.float32(float(test[0][2])) == np.float32(0.1)
    _, items = _rows(folder / f"{ds}.item")
    assert items == [["0", "Quoted Title", "1999", "Science_Fiction Drama", "en", "Jean_Luc_Doe", "time_travel"],
                     ["1", "Plain", "", "", "", "", ""], ["2", "", "", "", "", "", ""]]
    header, images = _rows(folder / f"{ds}.imgemb")
    assert header == "img_iid:token\timg_emb:float_seq"
    parsed = np.array([[float(v) for v in r[1].split(" ")] for r in images], np.float32)
    assert parsed.tobytes() == inputs.image.vectors.tobytes()
    config = (folder / f"{ds}.yaml").read_text(encoding="utf-8").splitlines()
    assert "additional_feat_suffix: [itememb, imgemb]" in config and "  img_iid: img_emb" in config


def test_fill_none_rows_are_left_out_of_the_vector_file(tmp_path):
    inputs = tiny_inputs(tmp_path / "in")
    inputs.image.vectors[1] = np.nan
    lines = recbole.vector_lines(inputs.image, "img_iid", "img_emb")
    assert [line.split("\t")[0] for line in lines[1:]] == ["0", "2"]


def test_a_model_without_vectors_is_refused_by_name(dataset):
    lake, inputs = dataset
    with pytest.raises(ExportError, match="text_model='nope'.*fake-text-model"):
        load_dataset(lake, inputs.name, ExportOptions(text_model="nope"))


LOAD_BACK = r'''
import json, sys
import numpy as np
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_model, get_trainer, init_seed

root, ds = sys.argv[1], sys.argv[2]
config = Config(model="BPR", dataset=ds, config_file_list=[f"{root}/{ds}/{ds}.yaml"],
                config_dict={"data_path": root, "epochs": 1, "train_batch_size": 256, "eval_batch_size": 256,
                             "use_gpu": False, "show_progress": False, "checkpoint_dir": "saved",
                             "metrics": ["Recall", "NDCG"], "topk": [10], "valid_metric": "NDCG@10"})
init_seed(config["seed"], config["reproducibility"])
dataset = create_dataset(config)
train, valid, test = data_preparation(config, dataset)
tokens = dataset.field2id_token["item_id"]
ids = dataset.field2token_id["item_id"]
n = len(tokens) - 1
np.save("weights.npy", dataset.get_preload_weight("iid")[[ids[str(i)] for i in range(n)]])
model = get_model("BPR")(config, train._dataset).to(config["device"])
trainer = get_trainer(config["MODEL_TYPE"], "BPR")(config, model)
trainer.fit(train, valid, saved=False, show_progress=False)
result = trainer.evaluate(test, load_best_model=False, show_progress=False)
loaders = (("train", train), ("val", valid), ("test", test))
print(json.dumps({"counts": {s: d._dataset.inter_num for s, d in loaders}, "pad": tokens[0],
                  "items": sorted(tokens[1:].tolist(), key=int), "epochs": sorted(trainer.train_loss_dict),
                  "loss": float(trainer.train_loss_dict[0]), "test": {k: float(v) for k, v in result.items()}}))
'''


@pytest.mark.slow
@pytest.mark.frameworks
def test_recbole_loads_the_export_and_trains_an_epoch(exported, tmp_path):
    inputs, target, _ = exported
    report = load_back("recbole", PINS, LOAD_BACK, target, tmp_path, recbole.dataset_name(inputs.name))
    assert report["counts"] == {s: inputs.split(s).num_rows for s in ("train", "val", "test")}
    assert report["pad"] == "[PAD]" and report["items"] == [str(i) for i in range(inputs.items.num_rows)]
    weights = np.load(tmp_path / "weights.npy")
    has_text = pc.fill_null(inputs.items.column("has_text"), False).to_numpy(zero_copy_only=False)
    assert has_text.any() and (np.abs(weights[has_text]).sum(axis=1) > 0).all()
    assert weights.astype(np.float32).tobytes() == inputs.text.vectors.tobytes()
    assert report["epochs"] == [0] and np.isfinite(report["loss"]) and "recall@10" in report["test"]
