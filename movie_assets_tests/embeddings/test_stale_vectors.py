"""A vector is current only while its content hash is that of the movie's document now: after an overview
changes in the details store and the year is rebuilt, `movie_index` leaves the old vector out, its coverage
check counts it as missing, and embedding the year again brings it back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import AssetKey, materialize

from movie_assets.defs.embeddings.assets import movie_index
from movie_assets.embeddings import movie_index as movie_index_lib
from movie_assets.embeddings import partitions
from movie_assets.emulator import Catalog, running_emulator
from movie_assets.harvest import stages, year_build
from movie_assets.harvest.store import OK, DetailsRecord, DetailsStore
from movie_assets.lake import Lake
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.wiring.resources import LakeResource

from .conftest import FakeEncoder

YEAR = 1975


def _index(lake: Lake) -> tuple[dict, object]:
    result = materialize([movie_index], resources={"lake": LakeResource(data_dir=str(lake.root))})
    [mat] = [m for m in result.get_asset_materialization_events() if m.asset_key == AssetKey("movie_index")]
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "movie_index_covers_the_movies"]
    return mat.step_materialization_data.materialization.metadata, check


def _edit_overview(lake: Lake, movie_id: int) -> None:
    """Append a newer version of ``movie_id`` whose overview changed, as a refetch would."""
    store = DetailsStore(lake.details_store_dir)
    latest = store.latest(ids=[movie_id])
    record = store.records(latest)[movie_id]
    details = json.loads(record.payload)
    details["overview"] = "A new overview that the stored vector has never seen."
    store.append([DetailsRecord(movie_id, OK, record.harvested_at + dt.timedelta(days=1),
                                json.dumps(details, sort_keys=True))], store.latest_hashes())


async def _harvest(lake: Lake) -> None:
    with running_emulator(catalog=Catalog(seed=5, movies_per_year=40)) as emu:
        settings = TMDbSettings(base_url=emu.base_url, requests_per_second=2000, backoff_base=0.01)
        async with TMDbClient(settings) as client:
            await stages.harvest_year(client, lake, YEAR, batch_size=50)


def test_a_changed_overview_makes_its_vector_stale_until_the_year_is_embedded_again(tmp_path):
    lake = Lake.at(tmp_path / "data")
    asyncio.run(_harvest(lake))
    partitions.embed_year(lake, YEAR, FakeEncoder(), "fake", dimension=384)
    ids = pq.read_table(lake.movies_year_file(YEAR), columns=["movie_id"]).column("movie_id").to_pylist()
    meta, check = _index(lake)
    assert check.passed and meta["dagster/row_count"].value == len(ids)

    edited = ids[3]
    _edit_overview(lake, edited)
    year_build.build_movies_year(lake, YEAR)

    inputs = partitions.index_table(lake)
    assert edited not in inputs.table.column("movie_id").to_pylist()
    assert (inputs.stale, inputs.without_vectors, inputs.years_with_stale_vectors) == (1, 1, [str(YEAR)])
    meta, check = _index(lake)
    assert meta["dagster/row_count"].value == len(ids) - 1 and meta["stale_vectors"].value == 1
    assert not check.passed and check.metadata["movies_without_vectors"].value == 1
    assert "1 stale" in check.description and str(YEAR) in check.description
    warnings: list[str] = []
    movie_index_lib.index_inputs(lake, log=lambda _: None, warn=warnings.append)
    assert warnings and "stale" in warnings[0]

    encoder = FakeEncoder()
    result = partitions.embed_year(lake, YEAR, encoder, "fake", dimension=384)
    assert (result.encoded, result.reused) == (1, len(ids) - 1)  # only the edited movie is encoded again
    assert "A new overview" in encoder.calls[0][0]
    meta, check = _index(lake)
    assert check.passed and meta["dagster/row_count"].value == len(ids) and meta["stale_vectors"].value == 0


def test_a_file_without_a_recorded_model_is_checked_for_membership_only():
    vectors = pa.table({"movie_id": pa.array([1, 2], pa.int64()), "content_hash": ["x", "y"]})
    movies = pa.table({"movie_id": pa.array([2, 3], pa.int64()), "title": ["B", "C"]})
    kept, stale = partitions.current_vectors(vectors, movies, None)
    assert kept.column("movie_id").to_pylist() == [2] and stale == 0
    kept, stale = partitions.current_vectors(vectors, movies, "fake")
    assert kept.num_rows == 0 and stale == 1
