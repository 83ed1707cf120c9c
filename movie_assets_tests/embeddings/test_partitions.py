"""Embeddings by year (`movie_assets.embeddings.partitions`) with a fake encoder: reuse, migration from the
single file of older lakes, moved and removed movies, and one backend per index."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from movie_assets.embeddings import encode, partitions

from .conftest import FakeEncoder, catalog_rows, catalog_table, catalog_years, write_catalog


def embed_all(lake, encoder, model_id="fake", rows=None) -> dict:
    return {year: partitions.embed_year(lake, year, encoder, model_id, dimension=384)
            for year in catalog_years(rows)}


def test_each_year_is_encoded_once_then_reused(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    results = embed_all(lake, fake_encoder)
    assert sum(r.encoded for r in results.values()) == len(catalog_rows()) == fake_encoder.encoded
    assert {y for y, _ in lake.embeddings_year_files()} == set(catalog_years())
    again = FakeEncoder()
    results = embed_all(lake, again)
    assert again.encoded == 0 and sum(r.reused for r in results.values()) == len(catalog_rows())
    before = {y: p.read_bytes() for y, p in lake.embeddings_year_files()}
    embed_all(lake, FakeEncoder())
    assert {y: p.read_bytes() for y, p in lake.embeddings_year_files()} == before  # deterministic bytes


def test_a_lake_with_the_old_single_file_is_migrated_without_re_encoding(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    single = encode.embed_movies(catalog_table(), None, fake_encoder, "fake").table
    encode.write_embeddings(single, lake.legacy_embeddings_file)
    fresh = FakeEncoder()
    results = embed_all(lake, fresh)
    assert fresh.encoded == 0 and sum(r.reused for r in results.values()) == single.num_rows
    assert sum(r.removed for r in results.values()) == 0
    inputs = partitions.index_table(lake)
    assert inputs.table.column("vector").to_pylist() == single.column("vector").to_pylist()
    assert partitions.remove_legacy_file_when_migrated(lake) and not lake.legacy_embeddings_file.exists()


def test_the_old_file_stays_while_a_year_has_no_partition(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    encode.write_embeddings(encode.embed_movies(catalog_table(), None, fake_encoder, "fake").table,
                            lake.legacy_embeddings_file)
    partitions.embed_year(lake, 1999, fake_encoder, "fake", dimension=384)
    assert not partitions.remove_legacy_file_when_migrated(lake) and lake.legacy_embeddings_file.exists()


def test_a_year_without_movies_loses_its_partition(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    embed_all(lake, fake_encoder)
    rows = [r for r in catalog_rows() if r["year"] != 2001]
    write_catalog(tmp_path / "data", rows)
    result = partitions.embed_year(lake, 2001, fake_encoder, "fake", dimension=384)
    assert result.removed == 1 and result.table.num_rows == 0
    assert not lake.embeddings_year_file(2001).exists()
    assert 2001 not in {y for y, _ in lake.embeddings_year_files()}


def test_the_index_takes_each_year_current_movies_only(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    embed_all(lake, fake_encoder)
    rows = catalog_rows()
    heat = next(r for r in rows if r["movie_id"] == 949)
    heat["release_date"], heat["year"] = heat["release_date"].replace(year=1996), 1996
    write_catalog(tmp_path / "data", rows)
    inputs = partitions.index_table(lake)  # 1995 still holds Heat's vector; 1996 has no partition yet
    assert 949 not in inputs.table.column("movie_id").to_pylist()
    assert (inputs.dropped, inputs.without_vectors, inputs.years_without_embeddings) == (1, 1, ["1996"])
    partitions.embed_year(lake, 1996, fake_encoder, "fake", dimension=384)
    inputs = partitions.index_table(lake)
    assert inputs.table.column("movie_id").to_pylist().count(949) == 1 and inputs.without_vectors == 0
    assert inputs.table.column("movie_id").to_pylist() == sorted(r["movie_id"] for r in rows)


def test_partitions_of_two_backends_are_never_indexed_together(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    embed_all(lake, fake_encoder, "minilm+onnx-int8:abc")
    partitions.embed_year(lake, 1986, fake_encoder, "minilm+torch:abc", dimension=384)
    with pytest.raises(partitions.MixedEmbeddingsError, match=r"minilm\+torch:abc: 1986"):
        partitions.index_table(lake)


def test_no_partition_at_all_names_the_assets_to_materialize(tmp_path):
    lake = write_catalog(tmp_path / "data")
    with pytest.raises(FileNotFoundError, match="materialize movie_embeddings"):
        partitions.index_table(lake)


def test_partition_files_record_their_model(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    partitions.embed_year(lake, 1999, fake_encoder, "fake-model", dimension=384, backend="fake")
    assert encode.embedding_source(pq.read_schema(lake.embeddings_year_file(1999))) == {
        "model_id": "fake-model", "backend": "fake"}


def test_while_migrating_the_index_keeps_the_old_files_vectors_of_years_without_a_partition(tmp_path, fake_encoder):
    """One year re-embedded after the upgrade (a sync touched it) rebuilds the index: the other years still
    come from the old single file instead of dropping out of the index until a full backfill."""
    lake = write_catalog(tmp_path / "data")
    single = encode.embed_movies(catalog_table(), None, fake_encoder, "fake").table
    encode.write_embeddings(single, lake.legacy_embeddings_file)
    first = catalog_years()[0]
    partitions.embed_year(lake, first, FakeEncoder(), "fake", dimension=384)
    inputs = partitions.index_table(lake)
    assert inputs.table.column("movie_id").to_pylist() == sorted(single.column("movie_id").to_pylist())
    assert inputs.without_vectors == 0 and inputs.years == 1
    assert partitions.year_label(first) not in inputs.years_from_legacy_file
    assert len(inputs.years_from_legacy_file) == len(catalog_years()) - 1


def test_while_migrating_an_old_file_of_another_model_is_left_out_not_mixed_in(tmp_path, fake_encoder):
    lake = write_catalog(tmp_path / "data")
    encode.write_embeddings(encode.embed_movies(catalog_table(), None, fake_encoder, "other-model").table,
                            lake.legacy_embeddings_file)
    first = catalog_years()[0]
    partitions.embed_year(lake, first, FakeEncoder(), "fake", dimension=384)
    inputs = partitions.index_table(lake)
    assert inputs.years_from_legacy_file == [] and inputs.without_vectors == inputs.movies - inputs.table.num_rows > 0


def test_a_movie_in_two_years_files_is_indexed_once_from_the_newer_year(tmp_path, fake_encoder):
    """A re-dated movie is in its new year's file once that year is rebuilt, and still in the old year's
    until that one is; if both years are embedded meanwhile, the index takes the newer year's vector."""
    import os

    from movie_assets.lake import write_parquet_atomic

    lake = write_catalog(tmp_path / "data")
    embed_all(lake, fake_encoder)
    rows = catalog_rows()
    heat = next(r for r in rows if r["movie_id"] == 949)
    moved = {**heat, "release_date": heat["release_date"].replace(year=1996), "year": 1996,
             "overview": "Re-dated."}
    write_parquet_atomic(catalog_table([moved]), lake.movies_year_file(1996))  # 1995 not rebuilt yet
    old = lake.movies_year_file(1995)
    os.utime(old, ns=(1, 1))  # built before 1996's file
    partitions.embed_year(lake, 1996, fake_encoder, "fake", dimension=384)
    inputs = partitions.index_table(lake)
    ids = inputs.table.column("movie_id").to_pylist()
    assert ids.count(949) == 1 and inputs.dropped == 1 and inputs.without_vectors == 0
    new = pq.read_table(lake.embeddings_year_file(1996)).column("vector").to_pylist()[0]
    assert inputs.table.column("vector").to_pylist()[ids.index(949)] == new
