"""The LightFM export: every user and item a row, cold and catalog-only items with feature rows (their identity at
least), the identity block first, rows L1-normalised; and, in a throw-away venv with the real LightFM, the files
load, match what ``lightfm.data.Dataset`` builds from the same names, train one epoch and evaluate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest
import scipy.sparse as sp

from movie_assets.recsys.exports import lightfm
from movie_assets.recsys.exports.inputs import load_dataset
from movie_assets_tests.recsys.export_data import export_dataset
from movie_assets_tests.recsys.frameworks import load_back

# lightfm-next 1.18.7's cp311 wheel links glibc's removed ``__log_finite`` (undefined symbol on glibc 2.36, and its
# missing no-OpenMP fallback hides that as ModuleNotFoundError); 1.19.0 builds from its sdist (gcc, ~40 s) and works.
PINS = ["lightfm-next==1.19.0", "numpy==2.4.6", "scipy==1.17.1", "scikit-learn==1.9.1"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    lake, result = export_dataset(tmp_path_factory.mktemp("lightfm"))
    inputs = load_dataset(lake, result.name)
    target = tmp_path_factory.mktemp("lightfm-out")
    return inputs, lightfm.export(inputs, target), target


def _json(target, name):
    return json.loads((target / name).read_text(encoding="utf-8"))


def test_every_user_and_item_has_its_row(exported):
    inputs, result, target = exported
    users, items = inputs.users.num_rows, inputs.items.num_rows
    assert _json(target, "user_ids.json") == inputs.users.column("user_id").to_pylist()
    assert _json(target, "item_ids.json") == inputs.items.column("movie_id").to_pylist()
    frame = inputs.interactions.to_pandas()
    for split in lightfm.SPLITS:
        matrix = sp.load_npz(target / f"interactions_{split}.npz")
        assert matrix.format == "coo" and matrix.shape == (users, items)
        part = frame[frame.split == split].drop_duplicates(["user_index", "item_index"])
        assert sorted(zip(matrix.row.tolist(), matrix.col.tolist(), strict=True)) == sorted(
            zip(part.user_index.tolist(), part.item_index.tolist(), strict=True))
        assert matrix.nnz == result.notes["entries"][split]
        assert (matrix.data == 1.0).all()  # as build_interactions makes them: a weight is not a positive's value
        weights = sp.load_npz(target / f"weights_{split}.npz")
        assert (weights.row == matrix.row).all() and (weights.col == matrix.col).all()
    held = inputs.items.filter(pc.greater(inputs.items.column("n_held_out"), 0)).column("item_index").to_pylist()
    train = sp.load_npz(target / "interactions_train.npz").tocsc()
    assert held and all(train[:, i].nnz == 0 for i in held)  # held-out rows are never trained on


def test_item_features_put_the_identity_first_and_cover_cold_items(exported):
    inputs, result, target = exported
    n = inputs.items.num_rows
    features = sp.load_npz(target / "item_features.npz")
    names = _json(target, "item_feature_names.json")
    assert features.format == "csr" and features.dtype == np.float32 and features.shape == (n, len(names))
    assert names[:n] == [f"item:{m}" for m in inputs.items.column("movie_id").to_pylist()]
    identity = features[:, :n].toarray()
    assert (np.diag(identity) > 0).all() and np.count_nonzero(identity) == n
    np.testing.assert_allclose(np.abs(features).sum(axis=1).A.ravel(), 1.0, rtol=1e-5)
    items = inputs.items.to_pandas()
    cold = items[items.cold_in_val | items.cold_in_test | (items.n_train + items.n_val + items.n_test == 0)]
    assert len(cold) and all(features[i].nnz > 1 for i in cold.item_index)  # identity and tags, not empty
    blocks = result.notes["item_feature_blocks"]
    assert blocks["text"] == inputs.text.vectors.shape[1] and names[-1] == f"text:{blocks['text'] - 1}"
    tags = pd.DataFrame(inputs.item_features.select(["item_index", "genres"]).to_pylist())
    for row in tags.itertuples():
        tag_cols = {names[c] for c in features[row.item_index].indices if names[c].startswith("genre:")}
        assert tag_cols == {f"genre:{g}" for g in row.genres or []}
    # a row's text block weighs as much as one tag: identity, tags and text share the row by count
    row = features[0].toarray().ravel()
    text = np.abs(row[n + blocks["tags"]:]).sum()
    assert text == pytest.approx(row[0], rel=1e-5)


def test_two_exports_are_byte_identical(exported, tmp_path):
    inputs, result, target = exported
    again = lightfm.export(inputs, tmp_path)
    for name in again.files:
        assert (tmp_path / name).read_bytes() == (target / name).read_bytes(), name


LOAD_BACK = r"""
import json, sys
from pathlib import Path
import numpy as np, scipy.sparse as sp
from lightfm import LightFM
from lightfm.data import Dataset
from lightfm.evaluation import precision_at_k

folder = Path(sys.argv[1])
train, val, test = (sp.load_npz(folder / f"interactions_{s}.npz") for s in ("train", "val", "test"))
features = sp.load_npz(folder / "item_features.npz")
names = json.loads((folder / "item_feature_names.json").read_text())
n_users, n_items = train.shape

# the same matrix from lightfm's own builder: item i with the identity, then its named features by weight
ds = Dataset(user_identity_features=True, item_identity_features=True)
ds.fit(users=range(n_users), items=range(n_items), item_features=names[n_items:])
rows = []
for i in range(n_items):
    row = features.getrow(i)
    base = row[0, i]
    rows.append((i, {names[c]: float(v / base) for c, v in zip(row.indices, row.data) if c != i}))
built = ds.build_item_features(rows, normalize=True)
assert built.shape == features.shape, (built.shape, features.shape)
diff = abs(built - features).max()
assert diff < 1e-6, diff

model = LightFM(no_components=8, loss="warp", random_state=0)
model.fit(train, item_features=features, epochs=1, num_threads=1)
p = precision_at_k(model, test, train_interactions=train, item_features=features, k=10,
                   check_intersections=False)
print(json.dumps({"precision_at_10": float(p.mean()), "users_evaluated": int(len(p)),
                  "shape": [n_users, n_items], "feature_columns": features.shape[1]}))
"""


@pytest.mark.frameworks
@pytest.mark.slow
def test_lightfm_loads_trains_and_evaluates(exported, tmp_path):
    inputs, result, target = exported
    out = load_back("lightfm", PINS, LOAD_BACK, target, tmp_path)
    assert out["shape"] == [inputs.users.num_rows, inputs.items.num_rows]
    assert out["feature_columns"] == result.notes["item_feature_columns"]
    assert out["users_evaluated"] > 0 and 0.0 <= out["precision_at_10"] <= 1.0
