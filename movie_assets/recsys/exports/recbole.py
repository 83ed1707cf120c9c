"""RecBole 1.2.1 atomic files: ``<ds>/<ds>.{inter,train.inter,valid.inter,test.inter,item,itememb,imgemb,yaml}``.

Ids are our ``user_index``/``item_index`` as text tokens; the splits go in as RecBole's benchmark files (its own
split, filtering and k-core are then skipped, so every interaction arrives). Item side information is the as-of-train
table (``item_features_asof_train``: what was known when training ends), one row per item of the index. The text and
image vectors go in as additional feature files whose id fields are aliases of ``item_id``, so
``dataset.get_preload_weight('iid')`` returns them in RecBole's own id order.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa

from movie_assets.lake import write_text_atomic
from movie_assets.recsys.exports.common import Exported, clean_token, seconds, write_tsv
from movie_assets.recsys.exports.inputs import ExportInputs, ModalityArray

INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
ITEM_COLUMNS = ("item_id", "title", "release_year", "genres", "language", "directors", "keywords")
ITEM_HEADER = "\t".join(f"{c}:{t}" for c, t in zip(ITEM_COLUMNS, ("token", "token_seq", "token", "token_seq",
                                                                    "token", "token_seq", "token_seq"), strict=True))
# suffix, id field, value field (the text vectors, then the image vectors)
EMBEDDINGS = (("itememb", "iid", "text_emb"), ("imgemb", "img_iid", "img_emb"))
BENCHMARK = (("train", "train"), ("valid", "val"), ("test", "test"))  # RecBole's file suffix, our split
RESERVED = {"ml-100k"}  # RecBole points this name at its bundled example instead of data_path


def dataset_name(name: str) -> str:
    """A RecBole-safe dataset name: characters outside ``[A-Za-z0-9_-]`` become ``_``, never ``ml-100k``."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "dataset"
    return f"{safe}_export" if safe in RESERVED else safe


def number(value: float) -> str:
    """A float as the shortest text that reads back to the same float32 (``'.9g'`` of its exact value)."""
    return format(value, ".9g")


def uirt(table: pa.Table) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, int]:
    """(user_index, item_index, rating texts, whole epoch seconds, implicit rows) of interactions; an implicit
    interaction (null rating) is rated 1.0."""
    ratings = table.column("rating").to_pylist()
    implicit = sum(r is None for r in ratings)
    texts = ["1" if r is None else number(r) for r in ratings]
    return (table.column("user_index").to_numpy(), table.column("item_index").to_numpy(), texts, seconds(table),
            implicit)


def _inter_lines(table: pa.Table) -> list[str]:
    users, items, ratings, times, _ = uirt(table)
    return [INTER_HEADER, *(f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in zip(users.tolist(), items.tolist(), ratings,
                                                                      times.tolist(), strict=True))]


def _tokens(values) -> str:
    return " ".join(t for t in (clean_token(v) for v in values or []) if t)


def _item_lines(inputs: ExportInputs) -> list[str]:
    features = inputs.item_features
    rows = {r["item_index"]: r for r in features.select(
        ["item_index", "title", "release_date", "genres", "original_language", "directors", "keywords"]).to_pylist()}
    lines = [ITEM_HEADER]
    for index in inputs.items.column("item_index").to_pylist():
        row = rows.get(index, {})
        date = row.get("release_date")
        lines.append("\t".join((
            str(index), _tokens((row.get("title") or "").split()), str(date.year) if date else "",
            _tokens(row.get("genres")), clean_token(row.get("original_language")),
            _tokens(d.get("name") for d in row.get("directors") or []), _tokens(row.get("keywords")))))
    return lines


def vector_lines(array: ModalityArray, id_field: str, value_field: str) -> list[str]:
    """The rows of one modality as ``id<TAB>v v v …``; NaN rows (fill ``none``) are left out (RecBole zero-fills
    them)."""
    lines = [f"{id_field}:token\t{value_field}:float_seq"]
    for index, row in enumerate(array.vectors.tolist()):
        if not any(v != v for v in row):
            lines.append(f"{index}\t" + " ".join(number(v) for v in row))
    return lines


def _yaml(ds: str, arrays: list[tuple[str, str, str]]) -> str:
    suffixes = [s for s, _, _ in arrays]
    lines = [
        f"# RecBole 1.2.1 config of the dataset {ds}; data_path is the folder holding {ds}/",
        "# (relative to the working directory: pass config_dict={'data_path': <that folder>} to run elsewhere)",
        "data_path: .", f"dataset: {ds}", "encoding: utf-8", 'field_separator: "\\t"', 'seq_separator: " "',
        "USER_ID_FIELD: user_id", "ITEM_ID_FIELD: item_id", "RATING_FIELD: rating", "TIME_FIELD: timestamp",
        "benchmark_filename: [train, valid, test]", "load_col:",
        "  inter: [user_id, item_id, rating, timestamp]", f"  item: [{', '.join(ITEM_COLUMNS)}]",
        *(f"  {s}: [{i}, {v}]" for s, i, v in arrays),
    ]
    if arrays:
        lines += [f"additional_feat_suffix: [{', '.join(suffixes)}]",
                  f"alias_of_item_id: [{', '.join(i for _, i, _ in arrays)}]",
                  "preload_weight:", *(f"  {i}: {v}" for _, i, v in arrays)]
    return "\n".join(lines) + "\n"


def _readme(ds: str, counts: dict[str, int], implicit: int, arrays: list[tuple[str, str, str]]) -> str:
    preload = "".join(f"\nweights = dataset.get_preload_weight({i!r})  # [item_num, d], row = RecBole's item id"
                      for _, i, _ in arrays)
    return f"""
## RecBole 1.2.1

`{ds}/` holds RecBole atomic files: `{ds}.train.inter`, `.valid.inter`, `.test.inter` (our splits; train
{counts['train']:,}, val {counts['val']:,}, test {counts['test']:,} interactions), `{ds}.inter` (all three, for
RecBole's own splitting), `{ds}.item` (every item of the index, its features as of the end of training),
{', '.join(f'`{ds}.{s}`' for s, _, _ in arrays) or 'no vector files'} and `{ds}.yaml`. User and item tokens are
our `user_index` and `item_index`. {f'{implicit:,} implicit interactions (no rating) are written with rating 1.0.'
if implicit else 'Every interaction has its rating.'}

```python
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_model, get_trainer, init_seed

config = Config(model="BPR", dataset="{ds}", config_file_list=["<this folder>/{ds}/{ds}.yaml"],
                config_dict={{"data_path": "<this folder>", "epochs": 10, "use_gpu": False}})
init_seed(config["seed"], config["reproducibility"])
dataset = create_dataset(config)
train, valid, test = data_preparation(config, dataset){preload}
model = get_model("BPR")(config, train._dataset).to(config["device"])
trainer = get_trainer(config["MODEL_TYPE"], "BPR")(config, model)
trainer.fit(train, valid, saved=False, show_progress=False)
print(trainer.evaluate(test, load_best_model=False, show_progress=False))
```

Traps:

- **RecBole renumbers ids**, with `[PAD]` at 0: its item id is not our `item_index`. Map ours through
  `dataset.field2token_id["item_id"][str(item_index)]` and back through `dataset.field2id_token["item_id"]`.
- **Preloaded vectors are used only by a model that asks for them**: no built-in general model (BPR, LightGCN …)
  reads `get_preload_weight`; feed the weights to your own model (`nn.Embedding.from_pretrained`). Items without a
  vector hold the dataset's fill; with fill `none` their rows are left out of the file and RecBole zero-fills them.
- RecBole 1.2.1 needs NumPy < 2 and pandas < 3. `run_recbole` imports ray and loads its checkpoint with
  `torch.load`, which fails on torch ≥ 2.6: use the pattern above with `saved=False`, or set
  `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`.
- `Config` reads `--key=value` arguments from `sys.argv`; `Trainer` writes `log_tensorboard/` in the working
  directory.
- Sequences are split on spaces: multi-word names are joined with `_` (`Science_Fiction`), titles are word tokens.
"""


def export(inputs: ExportInputs, target: Path) -> Exported:
    """Write the RecBole files of ``inputs`` into ``target/<ds>/``."""
    ds = dataset_name(inputs.name)
    folder = target / ds
    files: list[str] = []

    def put(lines: list[str], suffix: str) -> None:
        write_tsv(lines, folder / f"{ds}.{suffix}")
        files.append(f"{ds}/{ds}.{suffix}")

    counts, implicit = {}, 0
    for suffix, split in BENCHMARK:
        table = inputs.split(split)
        counts[split] = table.num_rows
        implicit += uirt(table)[4]
        put(_inter_lines(table), f"{suffix}.inter")
    put(_inter_lines(inputs.interactions), "inter")
    put(_item_lines(inputs), "item")
    arrays = []
    for array, (suffix, id_field, value_field) in zip((inputs.text, inputs.image), EMBEDDINGS, strict=True):
        if array is not None:
            put(vector_lines(array, id_field, value_field), suffix)
            arrays.append((suffix, id_field, value_field))
    write_text_atomic(_yaml(ds, arrays), folder / f"{ds}.yaml")
    files.append(f"{ds}/{ds}.yaml")
    return Exported(files=files, readme=_readme(ds, counts, implicit, arrays), config_file=f"{ds}/{ds}.yaml",
                    notes={"recbole_dataset": ds, "interactions": counts, "implicit_rated_1": implicit,
                           "items": inputs.items.num_rows})
