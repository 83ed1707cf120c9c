"""A recommender dataset end to end over a lake whose movies changed over simulated days: one item index that
every array is aligned to, one global timeline, item features as of each cut-off that never see the future, and
checks that fail when any of it is broken."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from movie_assets.embeddings import partitions
from movie_assets.embeddings.encode import vectors_of
from movie_assets.lake import file_sha256
from movie_assets.recsys import build, checks, sources
from movie_assets.recsys.events import SYNTHETIC
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.recsys.lakes import CLOCK, REFETCHED, changed_lake, events_over

SPEC = sources.SourceSpec(name="test-events", kind=SYNTHETIC)
VAL_START, TEST_START = CLOCK + dt.timedelta(days=5), CLOCK + dt.timedelta(days=15)
CONFIG = build.DatasetConfig(split=SplitPolicy(val_start=VAL_START.isoformat(), test_start=TEST_START.isoformat()))


@pytest.fixture(scope="module")
def lake_and_history(tmp_path_factory):
    return changed_lake(tmp_path_factory.mktemp("recsys"))


@pytest.fixture(scope="module")
def built(lake_and_history):
    lake, first, changed = lake_and_history
    source = events_over(warehouse.read_movies(lake), users=40, per_user=30, start=CLOCK - dt.timedelta(days=60),
                         end=CLOCK + dt.timedelta(days=25))
    return build.build_from_events(lake, SPEC, replace(source), CONFIG), source


def _read(result, name):
    return pq.read_table(result.directory / name)


def test_the_dataset_is_one_index_with_aligned_arrays_and_passes_its_checks(lake_and_history, built):
    lake, _, _ = lake_and_history
    result, source = built
    interactions, items, users = (_read(result, f) for f in ("interactions.parquet", "item_index.parquet",
                                                             "user_index.parquet"))
    assert result.directory.name == f"test-events__{result.manifest['lake_snapshot']['id']}"
    seconds = pc.cast(interactions.column("timestamp"), pa.int64()).to_numpy()
    assert (np.diff(seconds) >= 0).all()  # sorted by time
    assert items.column("item_index").to_pylist() == list(range(items.num_rows))
    assert items.column("movie_id").to_pylist() == sorted(set(source.events.column("movie_id").to_pylist()))
    assert users.column("user_id").to_pylist() == [str(u) for u in range(1, 41)]  # numeric order, not text
    lake_text = partitions.index_table(lake).table
    by_movie = dict(zip(lake_text.column("movie_id").to_pylist(), vectors_of(lake_text), strict=True))
    [text] = [f for f in result.manifest["features"] if f["modality"] == "text"]
    array = np.load(result.directory / text["file"])
    assert array.shape == (items.num_rows, 384) and array.dtype == np.float32
    for row, movie_id in enumerate(items.column("movie_id").to_pylist()):
        assert array[row].tobytes() == by_movie[movie_id].tobytes()
    for outcome in (checks.check_indexes(result.directory), checks.check_split(result.directory),
                    checks.check_feature_arrays(lake, result.directory), checks.check_bridge(result.directory),
                    checks.check_no_future_features(result.directory)):
        assert outcome.passed, outcome.description
    split = interactions.column("split").to_pylist()
    assert result.manifest["counts"]["per_split"] == {s: split.count(s) for s in ("train", "val", "test",
                                                                                  "held_out")}
    assert result.manifest["cutoffs"]["val_start"] == VAL_START.isoformat()


def test_features_as_of_a_cutoff_never_hold_a_later_value(lake_and_history, built):
    lake, first, changed = lake_and_history
    result, _ = built
    train = _read(result, "features/item_features_asof_train.parquet")
    test = _read(result, "features/item_features_asof_test.parquet")
    now = warehouse.read_movies(lake)
    then = {m: v for m, v in zip(first.column("movie_id").to_pylist(), first.column("vote_count").to_pylist(),
                                 strict=True)}
    today = dict(zip(now.column("movie_id").to_pylist(), now.column("vote_count").to_pylist(), strict=True))
    moved = [m for m in changed if then[m] != today[m] and m in set(train.column("movie_id").to_pylist())]
    assert moved, "some movie in the dataset must have a vote count that changed for this test to mean anything"
    train_votes = dict(zip(train.column("movie_id").to_pylist(), train.column("vote_count").to_pylist(), strict=True))
    test_votes = dict(zip(test.column("movie_id").to_pylist(), test.column("vote_count").to_pylist(), strict=True))
    for movie_id in moved:
        assert train_votes[movie_id] == then[movie_id] != today[movie_id]  # as of val_start: the first harvest
        assert test_votes[movie_id] == today[movie_id]  # as of test_start: the refetch ten days later
    assert pc.all(pc.less_equal(train.column("source_observed_at"), pa.scalar(VAL_START))).as_py()
    seen = set(pc.unique(test.column("source_observed_at")).to_pylist())
    assert {CLOCK, REFETCHED} & seen and max(seen) <= TEST_START


def test_before_the_first_observation_dynamic_features_are_null_and_editorial_ones_flagged(lake_and_history,
                                                                                          built, tmp_path):
    lake, _, _ = lake_and_history
    _, source = built
    early = build.DatasetConfig(split=SplitPolicy(val_start=(CLOCK - dt.timedelta(days=20)).isoformat(),
                                                  test_start=(CLOCK - dt.timedelta(days=10)).isoformat()))
    result = build.build_from_events(lake, sources.SourceSpec(name="early", kind=SYNTHETIC), replace(source), early)
    table = _read(result, "features/item_features_asof_train.parquet")
    for column in ("vote_count", "vote_average", "popularity", "revenue", "source_observed_at"):
        assert table.column(column).null_count == table.num_rows, column
    assert pc.all(table.column("observed_after_cutoff")).as_py() and table.column("title").null_count == 0
    assert checks.check_no_future_features(result.directory).passed
    report = json.loads((result.directory / "reports" / "feature_asof_coverage.json").read_text())
    assert report["splits"]["train"]["items_observed_by_cutoff"] == 0
    strict = build.DatasetConfig(split=early.split, strict_features=True)
    result = build.build_from_events(lake, sources.SourceSpec(name="strict", kind=SYNTHETIC), replace(source), strict)
    table = _read(result, "features/item_features_asof_train.parquet")
    assert table.column("title").null_count == table.num_rows and not pc.any(table.column("observed_after_cutoff")
                                                                              ).as_py()


def test_each_interaction_is_joined_to_the_item_version_current_at_its_time(built):
    result, _ = built
    interactions = _read(result, "interactions.parquet")
    joined = _read(result, "interactions_item_version.parquet")
    at = pc.cast(interactions.column("timestamp"), pa.timestamp("us", tz="UTC")).to_pylist()
    assert joined.num_rows == sum(t >= CLOCK for t in at)  # none before the store's first observation
    for row, observed in zip(joined.column("row").to_pylist(), joined.column("version_observed_at").to_pylist(),
                             strict=True):
        assert observed <= at[row] and (observed in (CLOCK, REFETCHED))
    after = [o for r, o in zip(joined.column("row").to_pylist(), joined.column("version_observed_at").to_pylist(),
                               strict=True) if at[r] < REFETCHED]
    assert after and all(o == CLOCK for o in after)
    # The refetched version is the current one: the lake's text vectors (by content hash) hold its vector.
    current = joined.filter(pc.equal(joined.column("version_observed_at"), pa.scalar(REFETCHED)))
    assert current.num_rows and pc.all(current.column("has_text_vector")).as_py()


def test_a_rebuild_is_byte_identical(lake_and_history, built):
    lake, _, _ = lake_and_history
    result, source = built
    before = {p.relative_to(result.directory): file_sha256(p) for p in result.directory.rglob("*") if p.is_file()}
    again = build.build_from_events(lake, SPEC, replace(source), CONFIG)
    after = {p.relative_to(again.directory): file_sha256(p) for p in again.directory.rglob("*") if p.is_file()}
    assert again.directory == result.directory and before == after


def test_a_source_that_fails_its_own_checks_writes_nothing(lake_and_history, built):
    lake, _, _ = lake_and_history
    result, source = built
    before = {p: file_sha256(p) for p in result.directory.rglob("*") if p.is_file()}
    broken = build.SourceEvents(kind=source.kind, events=source.events, errors=["only 40% of events kept"])
    with pytest.raises(build.DatasetError, match="only 40% of events kept"):
        build.build_from_events(lake, SPEC, broken, CONFIG)
    empty = build.SourceEvents(kind=source.kind, events=source.events.slice(0, 0))
    with pytest.raises(build.DatasetError, match="no interaction on a movie of the lake"):
        build.build_from_events(lake, SPEC, empty, CONFIG)
    assert before == {p: file_sha256(p) for p in result.directory.rglob("*") if p.is_file()}


def test_a_strict_item_holdout_makes_its_items_cold(lake_and_history, built):
    lake, _, _ = lake_and_history
    _, source = built
    config = build.DatasetConfig(split=SplitPolicy(val_start=VAL_START.isoformat(), test_start=TEST_START.isoformat(),
                                                   holdout="items", holdout_share=0.3),
                                 include_catalog_items=True, fill="mean")
    result = build.build_from_events(lake, sources.SourceSpec(name="holdout", kind=SYNTHETIC), replace(source), config)
    items = _read(result, "item_index.parquet")
    held = items.filter(pc.greater(items.column("n_held_out"), 0))
    assert held.num_rows and all(n == 0 for n in held.column("n_train").to_pylist())
    later = held.filter(pc.greater(pc.add(held.column("n_val"), held.column("n_test")), 0))
    assert later.num_rows and all(v or t for v, t in zip(later.column("cold_in_val").to_pylist(),
                                                          later.column("cold_in_test").to_pylist(), strict=True))
    catalog = warehouse.read_movies(lake).num_rows
    assert items.num_rows == catalog  # every lake movie indexed, the ones with interactions first
    assert checks.check_split(result.directory).passed and checks.check_feature_arrays(lake, result.directory).passed


# -- every blocking check has a way to fail ------------------------------------------------------------------------

def _copy(result, tmp_path):
    import shutil

    target = tmp_path / result.directory.name
    shutil.copytree(result.directory, target)
    return target


def test_check_indexes_fails_on_a_gap(built, tmp_path):
    folder = _copy(built[0], tmp_path)
    items = pq.read_table(folder / "item_index.parquet")
    gap = pc.add(items.column("item_index"), pa.array(np.r_[0, np.ones(items.num_rows - 1, np.int32)]))
    pq.write_table(items.set_column(0, "item_index", gap), folder / "item_index.parquet")
    assert not checks.check_indexes(folder).passed


def test_check_feature_arrays_fails_on_a_changed_or_badly_filled_row(lake_and_history, built, tmp_path):
    lake = lake_and_history[0]
    folder = _copy(built[0], tmp_path)
    [array_file] = (folder / "features").glob("text_*.npy")
    array = np.load(array_file)
    array[:, 0] += 1e-3  # every row differs, so any sample of 256 sees it
    np.save(array_file, array)
    outcome = checks.check_feature_arrays(lake, folder)
    assert not outcome.passed and "differ from the lake" in outcome.description
    items = pq.read_table(folder / "item_index.parquet")
    pq.write_table(items.set_column(items.column_names.index("has_text"), "has_text",
                                    pa.array([False] * items.num_rows)), folder / "item_index.parquet")
    assert "declared fill" in checks.check_feature_arrays(lake, folder).description


def test_check_split_fails_on_a_row_past_its_cutoff_a_repeat_or_a_cold_item_without_text(built, tmp_path):
    folder = _copy(built[0], tmp_path)
    table = pq.read_table(folder / "interactions.parquet")
    late = table.set_column(table.column_names.index("split"), "split", pa.array(["train"] * table.num_rows))
    pq.write_table(late, folder / "interactions.parquet")
    assert "wrong side" in checks.check_split(folder).description
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), folder / "interactions.parquet")
    assert "appear twice" in checks.check_split(folder).description
    pq.write_table(table, folder / "interactions.parquet")
    items = pq.read_table(folder / "item_index.parquet")
    assert pc.any(items.column("cold_in_test")).as_py()
    pq.write_table(items.set_column(items.column_names.index("has_text"), "has_text",
                                    pa.array([False] * items.num_rows)), folder / "item_index.parquet")
    assert "no text vector" in checks.check_split(folder).description


def test_check_no_future_features_fails_on_a_later_value(lake_and_history, built, tmp_path):
    lake = lake_and_history[0]
    now = warehouse.read_movies(lake)
    folder = _copy(built[0], tmp_path)
    path = folder / "features" / "item_features_asof_train.parquet"
    table = pq.read_table(path)
    later = pa.array([REFETCHED] * table.num_rows, pa.timestamp("us", tz="UTC"))
    pq.write_table(table.set_column(table.column_names.index("source_observed_at"), "source_observed_at", later), path)
    assert "observed after the cut-off" in checks.check_no_future_features(folder).description
    nulls = pa.nulls(table.num_rows, pa.timestamp("us", tz="UTC"))
    pq.write_table(table.set_column(table.column_names.index("source_observed_at"), "source_observed_at", nulls), path)
    assert "without a version observed" in checks.check_no_future_features(folder).description
    pq.write_table(table, path)
    assert checks.check_no_future_features(folder, lake).passed
    # Today's vote count under a past observation time: only reading the history again catches it.
    today = dict(zip(now.column("movie_id").to_pylist(), now.column("vote_count").to_pylist(), strict=True))
    votes = pa.array([today[m] for m in table.column("movie_id").to_pylist()], pa.int64())
    pq.write_table(table.set_column(table.column_names.index("vote_count"), "vote_count", votes), path)
    assert checks.check_no_future_features(folder).passed  # the flags alone are consistent
    assert "not the lake's as of the cut-off" in checks.check_no_future_features(folder, lake).description
    counts = pc.add(table.column("train_count"), 1)
    pq.write_table(table.set_column(table.column_names.index("train_count"), "train_count", counts), path)
    assert "train_count differs" in checks.check_no_future_features(folder).description


def test_check_bridge_fails_when_the_counts_do_not_reconcile(built, tmp_path):
    folder = _copy(built[0], tmp_path)
    bridge = pa.table({"kept": [True, False], "events": pa.array([built[0].manifest["counts"]["interactions"] - 1, 3],
                                                                 pa.int64())})
    pq.write_table(bridge, folder / "bridge.parquet")
    (folder / "reports" / "bridge_coverage.json").write_text(json.dumps({"events_read": 10}))
    description = checks.check_bridge(folder).description
    assert "the source read 10" in description and "keeps" in description
