"""The store's typed reading carries a fingerprint of the rules and schema that made it: a shard of another (or
no) fingerprint has its typed reading derived again from the stored payloads, so a field added to the typed
reading is filled for every stored movie, never left null, and no request is made."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from movie_assets.emulator import Catalog, running_emulator
from movie_assets.harvest import columnar, stages, store, store_shards, year_build
from movie_assets.harvest.store import DetailsStore
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings

YEAR = 1975


async def _harvest(lake: Lake) -> None:
    with running_emulator(catalog=Catalog(seed=8, movies_per_year=30)) as emu:
        settings = TMDbSettings(base_url=emu.base_url, requests_per_second=2000, backoff_base=0.01)
        async with TMDbClient(settings) as client:
            await stages.harvest_year(client, lake, YEAR, batch_size=10)


@pytest.fixture
def lake(tmp_path) -> Lake:
    lake = Lake.at(tmp_path / "data")
    asyncio.run(_harvest(lake))
    return lake


def _rewrite_typed(lake: Lake, change, metadata: dict | None) -> None:
    """Rewrite every shard with ``change(typed)`` as its typed reading and ``metadata`` as its key-value
    metadata, as a store written by older rules holds them."""
    for path in DetailsStore(lake.details_store_dir).shard_paths():
        table = pq.read_table(path)
        typed = change(table.column("typed").combine_chunks())
        index = table.column_names.index("typed")
        table = table.set_column(index, pa.field("typed", typed.type), typed).replace_schema_metadata(metadata)
        pq.write_table(table, path)


def _without(name: str):
    def change(typed: pa.StructArray) -> pa.StructArray:
        fields = [f for f in typed.type if f.name != name]
        return pa.StructArray.from_arrays([typed.field(f.name) for f in fields], fields=fields,
                                          mask=pc.is_null(typed))
    return change


def test_a_field_missing_from_an_older_typed_reading_is_filled_from_the_payloads(lake):
    built = lake.movies_year_file(YEAR).read_bytes()
    taglines = pq.read_table(lake.movies_year_file(YEAR), columns=["tagline"]).column("tagline")
    assert taglines.null_count < len(taglines)  # the emulator's movies have taglines
    # Shards of a store before `tagline` was in the typed reading, and before fingerprints (schema 2).
    _rewrite_typed(lake, _without("tagline"), None)
    year_build.build_movies_year(lake, YEAR)
    assert lake.movies_year_file(YEAR).read_bytes() == built  # every tagline filled, nothing else changed


def test_a_reading_of_other_rules_is_derived_again_even_with_the_same_schema(lake):
    built = lake.movies_year_file(YEAR).read_bytes()

    def wrong_overviews(typed: pa.StructArray) -> pa.StructArray:
        fields = list(typed.type)
        arrays = [pa.array(["read by old rules"] * len(typed), pa.string()) if f.name == "overview"
                  else typed.field(f.name) for f in fields]
        return pa.StructArray.from_arrays(arrays, fields=fields, mask=pc.is_null(typed))

    _rewrite_typed(lake, wrong_overviews, {store_shards.TYPED_FINGERPRINT_KEY: b"rules of an older version"})
    year_build.build_movies_year(lake, YEAR)
    assert lake.movies_year_file(YEAR).read_bytes() == built


def test_shards_record_the_current_fingerprint_and_a_merge_rewrites_older_ones(lake, monkeypatch):
    details = DetailsStore(lake.details_store_dir)
    shards = details.shard_paths()
    assert len(shards) >= 2
    for path in shards:  # every appended shard carries it
        assert pq.read_schema(path).metadata[store_shards.TYPED_FINGERPRINT_KEY] == columnar.TYPED_FINGERPRINT.encode()
    _rewrite_typed(lake, _without("tagline"), None)
    monkeypatch.setattr(store, "MERGE_AT_SHARDS", 2)
    with details.writer():
        details.compact()
    [merged] = details.shard_paths()
    assert store_shards.typed_is_current(pq.read_schema(merged))
    typed = pq.read_table(merged, columns=["typed"]).column("typed").combine_chunks()
    assert typed.type == columnar.TYPED_TYPE and typed.field("tagline").null_count < len(typed)
