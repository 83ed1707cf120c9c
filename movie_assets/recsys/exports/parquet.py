"""Plain Parquet, for LensKit, RecTools, Merlin-style readers and anything else: the interactions, the item
index, the item features as of each cut-off, and one ``item_embeddings_<model>.parquet`` per modality
(``item_index, movie_id, vector, has_vector``: the vector a fixed-size float32 list, holding the export's fill where
``has_vector`` is false)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa

from movie_assets.lake import write_parquet_atomic
from movie_assets.recsys.exports.common import Exported
from movie_assets.recsys.exports.inputs import ExportInputs
from movie_assets.recsys.features import model_slug

COPIED = ("interactions.parquet", "item_index.parquet", "user_index.parquet",
          "features/item_features_asof_train.parquet", "features/item_features_asof_val.parquet",
          "features/item_features_asof_test.parquet")


def export(inputs: ExportInputs, target: Path) -> Exported:
    files = []
    for relative in COPIED:
        source = inputs.directory / relative
        shutil.copyfile(source, target / source.name)
        files.append(source.name)
    for array in (inputs.text, inputs.image):
        if array is None:
            continue
        flat = pa.array(array.vectors.reshape(-1), pa.float32())
        vectors = pa.FixedSizeListArray.from_arrays(flat, array.vectors.shape[1])
        table = pa.table({"item_index": inputs.items.column("item_index"), "movie_id": inputs.items.column("movie_id"),
                          "vector": vectors, "has_vector": pa.array(array.present)})
        name = f"item_embeddings_{array.modality}_{model_slug(array.model_id)}.parquet"
        write_parquet_atomic(table.replace_schema_metadata({"model_id": array.model_id, "fill": array.fill}),
                             target / name)
        files.append(name)
    readme = """## Reading it

```python
import pyarrow.parquet as pq
interactions = pq.read_table("interactions.parquet").to_pandas()   # user_index, item_index, rating, ..., split
items = pq.read_table("item_index.parquet").to_pandas()              # item_index 0..N-1, movie_id, masks
features = pq.read_table("item_features_asof_train.parquet")         # as of val_start: no future values
```

`split` is `train`, `val`, `test` or `held_out` (a strict hold-out's train-time rows: never train on them). Each
`item_embeddings_*.parquet` holds one row per item in item-index order; `has_vector` false marks a filled row.
"""
    return Exported(files=files, readme=readme, notes={"items": inputs.items.num_rows})
