"""Review of the recommender dataset builder: inputs that must be refused rather than built into a wrong dataset,
user ids ``int`` refuses, a cut-off inside a second, and the promised ``reports/checksums.txt``."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from movie_assets.recsys import build, checks, sources
from movie_assets.recsys.events import SYNTHETIC, SourceEvents
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.recsys.lakes import CLOCK, changed_lake, events_over

SPEC = sources.SourceSpec(name="review", kind=SYNTHETIC)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return changed_lake(tmp_path_factory.mktemp("review"))[0]


@pytest.fixture(scope="module")
def events(lake) -> pa.Table:
    return events_over(warehouse.read_movies(lake), users=8, per_user=15, start=CLOCK - dt.timedelta(days=60),
                       end=CLOCK + dt.timedelta(days=25)).events


def _with_first(events: pa.Table, column: str, value) -> SourceEvents:
    values = events.column(column).to_pylist()
    values[0] = value
    position = events.schema.get_field_index(column)
    return SourceEvents(kind=SYNTHETIC, events=events.set_column(
        position, column, pa.array(values, events.schema.field(column).type)))


@pytest.mark.parametrize(("column", "value", "named"), [
    ("user_id", None, "no user_id"),
    ("movie_id", None, "no movie_id"),  # was: an item with movie_id -2**63, passing every check
    ("timestamp", None, "no timestamp"),  # was: a train interaction without a time, passing every check
    ("rating", float("nan"), "rating"),  # was: a NaN rating in the file and in train_mean_rating
    ("weight", -1.0, "weight"),
    ("movie_id", 999_999_999, "999999999"),  # was: an item the lake does not hold, with empty features
])
def test_builder_refuses_events_that_are_not_whole(lake, events, column, value, named):
    with pytest.raises(build.DatasetError) as info:
        build.build_from_events(lake, SPEC, _with_first(events, column, value))
    message = str(info.value)
    assert "\n" not in message and "'review'" in message and named in message, message
    assert not lake.recsys_latest_file("review").exists()


def test_builder_refuses_events_only_on_movies_outside_the_lake(lake, events):
    # Was a KeyError from the as-of features ('Column original_title does not exist in schema').
    unknown = events.set_column(1, "movie_id", pa.array([999_999_999] * events.num_rows, pa.int64()))
    with pytest.raises(build.DatasetError, match="not in the lake"):
        build.build_from_events(lake, SPEC, SourceEvents(kind=SYNTHETIC, events=unknown))


def test_user_ids_of_non_ascii_digits_are_indexed_as_text(lake, events):
    # "²".isdigit() is True and int("²") raises: was a ValueError traceback.
    result = build.build_from_events(lake, SPEC, _with_first(events, "user_id", "²"))
    users = pq.read_table(result.directory / "user_index.parquet").column("user_id").to_pylist()
    assert "²" in users and users == sorted(users)
    assert checks.check_indexes(result.directory).passed


def test_a_cutoff_inside_a_second_splits_as_the_next_whole_second(lake, events):
    at = sorted(events.column("timestamp").to_pylist())[len(events) // 2]
    inside = (at - dt.timedelta(seconds=1)).replace(tzinfo=None).isoformat() + ".5"  # naive: UTC
    config = build.DatasetConfig(split=SplitPolicy(val_start=inside, test_start="2027-01-01T00:00:00+02:00"))
    moved = _with_first(events, "timestamp", at - dt.timedelta(seconds=1))
    result = build.build_from_events(lake, SPEC, moved, config)
    assert result.manifest["cutoffs"]["val_start"] == at.isoformat()
    assert result.manifest["cutoffs"]["test_start"] == "2026-12-31T22:00:00+00:00"
    table = pq.read_table(result.directory / "interactions.parquet")
    before = table.filter(pc.less(table.column("timestamp"), pa.scalar(at, table.schema.field("timestamp").type)))
    assert set(before.column("split").to_pylist()) == {"train"}  # the event at second .0, before .5, too
    assert checks.check_split(result.directory).passed


def test_every_file_is_in_checksums_and_two_builds_give_the_same_bytes(lake, events):
    config = build.DatasetConfig(include_catalog_items=True, fill="mean")

    def files(result):
        return {p.relative_to(result.directory).as_posix(): p.read_bytes()
                for p in sorted(result.directory.rglob("*")) if p.is_file()}

    first = files(build.build_from_events(lake, SPEC, SourceEvents(kind=SYNTHETIC, events=events), config))
    again = files(build.build_from_events(lake, SPEC, SourceEvents(kind=SYNTHETIC, events=events), config))
    assert first == again
    listed = dict(reversed(line.split("  ", 1)) for line in first.pop(build.CHECKSUMS).decode().splitlines())
    assert listed == {path: hashlib.sha256(data).hexdigest() for path, data in first.items()}
