"""The MMRec export read by MMRec's rules, re-stated here from its documented contract (MMRec is GPL-3.0 and not
installable, so none of its code runs): the .inter columns it reads, ``item_num = max(itemID) + 1`` rows of every
feature array, x_label 0/1/2, and a user graph of every user from train co-occurrence."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from movie_assets.recsys.exports import mmrec
from movie_assets.recsys.exports.inputs import ExportError, load_dataset
from movie_assets_tests.recsys.export_data import export_dataset
from movie_assets_tests.recsys.export_dataset import tiny_inputs


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    lake, result = export_dataset(tmp_path_factory.mktemp("mmrec"))
    inputs = load_dataset(lake, result.name)
    target = tmp_path_factory.mktemp("mmrec-out")
    return inputs, mmrec.export(inputs, target), target / mmrec.dataset_token(inputs.name), lake, result


def _config(folder):
    [path] = folder.glob("*.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8")), path.read_text(encoding="utf-8")


def _inter(folder, config):
    return pd.read_csv(folder / config["inter_file_name"], sep=config["field_separator"],
                       usecols=[config["USER_ID_FIELD"], config["ITEM_ID_FIELD"], "x_label"])


def test_the_inter_file_and_feature_rows_follow_mmrecs_rules(exported):
    inputs, result, folder, _, built = exported
    config, text = _config(folder)
    assert config["field_separator"] == "\t" and config["filter_out_cod_start_users"] is True
    assert (config["USER_ID_FIELD"], config["ITEM_ID_FIELD"], config["TIME_FIELD"]) == ("userID", "itemID",
                                                                                       "timestamp")
    assert mmrec.MMREC_COMMIT in text
    inter = _inter(folder, config)
    assert set(inter["x_label"].unique()) <= {0, 1, 2}
    frame = pq.read_table(built.directory / "interactions.parquet").to_pandas()
    train = frame[frame.split == "train"]
    unique_train = len(train.drop_duplicates(["user_index", "item_index"]))
    counts = inter["x_label"].value_counts().to_dict()
    assert counts == {0: unique_train, 1: int((frame.split == "val").sum()), 2: int((frame.split == "test").sum())}
    assert result.notes["train_duplicates_merged"] == len(train) - unique_train
    assert int((frame.split == "held_out").sum()) > 0  # the held-out rows exist and are not in the file

    item_num = int(inter["itemID"].max()) + 1
    dataset_text = np.load(built.directory / next(f["file"] for f in built.manifest["features"]
                                                   if f["modality"] == "text"))
    feat = np.load(folder / config["text_feature_file"], allow_pickle=True)
    assert feat.dtype == np.float32 and feat.shape == (item_num, dataset_text.shape[1])
    for row in range(item_num):
        assert feat[row].tobytes() == dataset_text[row].tobytes()
    assert not (folder / config["vision_feature_file"]).exists()  # the test lake has no poster vectors
    assert result.notes["items_beyond_last_interaction"] == inputs.items.num_rows - item_num > 0  # catalog items

    items = pd.read_csv(folder / "i_id_mapping.csv", sep="\t")
    assert list(items.columns) == ["movie_id", "itemID"] and items.itemID.tolist() == list(range(item_num))
    assert items.movie_id.tolist() == inputs.items.column("movie_id").to_pylist()[:item_num]
    users = pd.read_csv(folder / "u_id_mapping.csv", sep="\t", dtype={"user_id": str})
    assert users.userID.tolist() == list(range(int(inter["userID"].max()) + 1))
    missed = pd.read_csv(folder / "missed_txt_itemIDs.csv", sep="\t")
    has_text = inputs.items.column("has_text").to_pylist()[:item_num]
    assert missed.itemID.tolist() == [i for i, h in enumerate(has_text) if not h]


def _brute_force(train: pd.DataFrame) -> dict[int, dict[int, int]]:
    items = train.groupby("userID")["itemID"].apply(set).to_dict()
    return {u: {v: len(a & b) for v, b in items.items() if v != u and a & b} for u, a in items.items()}


def test_the_user_graph_is_every_user_and_train_co_occurrence(exported):
    _, _, folder, _, _ = exported
    config, _ = _config(folder)
    inter = pd.read_csv(folder / config["inter_file_name"], sep="\t")
    graph = np.load(folder / config["user_graph_dict_file"], allow_pickle=True).item()
    assert list(graph) == list(range(int(inter["userID"].max()) + 1))
    expected = _brute_force(inter[inter.x_label == 0])
    assert any(expected.values())
    for user, (neighbours, weights) in graph.items():
        want = sorted(expected.get(user, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:mmrec.NEIGHBOURS]
        assert list(zip(neighbours, weights, strict=True)) == want
        assert user not in neighbours


def test_the_user_graph_keeps_the_heaviest_neighbours_and_breaks_ties_by_id():
    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 30, 400), rng.integers(0, 25, 400)
    graph = mmrec.user_graph(users, items, n_users=32, n_items=25, neighbours=4)
    expected = _brute_force(pd.DataFrame({"userID": users, "itemID": items}))
    assert graph[30] == graph[31] == [[], []]  # users without train items are keys all the same
    for user in range(30):
        want = sorted(expected[user].items(), key=lambda kv: (-kv[1], kv[0]))[:4]
        assert [list(p) for p in zip(*want, strict=True)] == graph[user]


def test_two_exports_are_byte_identical(exported, tmp_path):
    inputs, _, folder, _, _ = exported
    again = mmrec.export(inputs, tmp_path)
    for name in again.files:
        assert (tmp_path / name).read_bytes() == (folder.parent / name).read_bytes(), name


def test_the_readme_says_how_to_run_and_what_was_left_out(exported):
    _, result, _, _, _ = exported
    assert f"python main.py -m VBPR -d {result.notes['dataset_name']}" in result.readme
    assert "mm_adj_" in result.readme and "np.float" in result.readme and "end in `/`" in result.readme
    assert f"{result.notes['items_beyond_last_interaction']:,} items" in result.readme
    json.dumps(result.notes)  # the notes go into export.json


def test_a_dataset_with_an_empty_split_names_the_cutoffs(tmp_path):
    lake, result = export_dataset(tmp_path, name="no-test", test_start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(ExportError, match=r"no test interactions.*val_start, test_start"):
        mmrec.export(load_dataset(lake, result.name), tmp_path / "out")


def test_items_without_a_vector_are_listed_per_modality(tmp_path):
    inputs = tiny_inputs(tmp_path)
    inputs = replace(inputs, users=inputs.users.append_column("user_id", pa.array(["a", "b"])))
    result = mmrec.export(inputs, tmp_path / "out")
    folder = tmp_path / "out" / mmrec.dataset_token(inputs.name)
    assert mmrec.dataset_token(inputs.name) == "tiny_set.v1"
    image = np.load(folder / "image_feat.npy")
    assert image.shape == (3, 5) and image.tobytes() == inputs.image.vectors.tobytes()
    assert pd.read_csv(folder / "missed_img_itemIDs.csv", sep="\t").itemID.tolist() == [1]
    assert pd.read_csv(folder / "missed_txt_itemIDs.csv", sep="\t").itemID.tolist() == []
    assert result.notes["missed_image"] == 1 and result.notes["rows"] == {"train": 1, "val": 1, "test": 1}
