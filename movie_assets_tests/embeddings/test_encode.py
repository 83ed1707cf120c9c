from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from movie_assets.embeddings.encode import embed_movies, encode_texts, read_embeddings, vectors_of, write_embeddings

from .conftest import FakeEncoder, catalog_rows, catalog_table

MODEL_ID = "fake-model"


def test_first_run_encodes_all_sorted_unit_norm(fake_encoder):
    result = embed_movies(catalog_table(), None, fake_encoder, MODEL_ID)
    table = result.table
    assert result.encoded == table.num_rows == len(catalog_rows())
    assert result.reused == 0
    assert table.column("movie_id").to_pylist() == sorted(r["movie_id"] for r in catalog_rows())
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 384)
    vecs = vectors_of(table)
    assert vecs.shape == (table.num_rows, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_incremental_reuse_change_and_removal(tmp_path):
    first = embed_movies(catalog_table(), None, FakeEncoder(), MODEL_ID)
    path = write_embeddings(first.table, tmp_path / "emb.parquet")
    previous = read_embeddings(path)

    again = FakeEncoder()
    second = embed_movies(catalog_table(), previous, again, MODEL_ID)
    assert (second.encoded, second.reused, again.encoded) == (0, len(catalog_rows()), 0)
    assert second.table.equals(first.table)

    rows = catalog_rows()
    rows[0]["overview"] = "A completely new synopsis."
    removed_id = rows.pop(3)["movie_id"]
    changed = FakeEncoder()
    third = embed_movies(catalog_table(rows), previous, changed, MODEL_ID)
    assert (third.encoded, third.removed, changed.encoded) == (1, 1, 1)
    assert third.reused == len(rows) - 1
    assert removed_id not in third.table.column("movie_id").to_pylist()
    assert changed.calls[0][0].endswith("A completely new synopsis.")


def test_other_model_id_reencodes_everything(fake_encoder):
    first = embed_movies(catalog_table(), None, FakeEncoder(), MODEL_ID)
    result = embed_movies(catalog_table(), first.table, fake_encoder, "another-model")
    assert result.encoded == first.table.num_rows and result.reused == 0


def test_variable_length_list_vectors_are_accepted(fake_encoder):
    first = embed_movies(catalog_table(), None, FakeEncoder(), MODEL_ID)
    as_list = first.table.set_column(2, "vector", first.table.column("vector").cast(pa.list_(pa.float32())))
    result = embed_movies(catalog_table(), as_list, fake_encoder, MODEL_ID)
    assert result.encoded == 0 and result.table.equals(first.table)


def test_duplicate_ids_rejected(fake_encoder):
    rows = catalog_rows()
    rows.append(dict(rows[0]))
    with pytest.raises(ValueError, match="duplicate movie_id"):
        embed_movies(catalog_table(rows), None, fake_encoder, MODEL_ID)


def test_encode_texts_keeps_order_and_reports_progress():
    texts = [f"text number {i} " * (i % 7 + 1) for i in range(50)]
    seen = []
    enc = FakeEncoder()
    out = encode_texts(enc, texts, batch_size=4, chunk_batches=2, progress=lambda d, t, r: seen.append((d, t)))
    assert seen[-1] == (50, 50) and len(seen) == 7
    np.testing.assert_allclose(out, FakeEncoder().encode(texts), atol=1e-6)
    lengths = [len(t) for c in enc.calls for t in c]
    assert lengths == sorted(lengths, reverse=True)


@pytest.mark.slow
def test_real_model_shapes_norms_and_determinism(real_model):
    table = catalog_table()
    a = embed_movies(table, None, real_model.model, real_model.model_id, batch_size=4)
    b = embed_movies(table, None, real_model.model, real_model.model_id, batch_size=4)
    vecs = vectors_of(a.table)
    assert vecs.shape == (table.num_rows, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert a.table.equals(b.table)
    ids = a.table.column("movie_id").to_pylist()
    sims = vecs @ vecs[ids.index(862)]
    ranked = [ids[i] for i in np.argsort(-sims)]
    assert ranked[1] == 863  # Toy Story's nearest neighbour is Toy Story 2
