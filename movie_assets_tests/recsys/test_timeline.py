"""The global timeline and the feature fill, unit by unit: cut-offs by quantile or date, their bad settings,
the hold-outs, and the fill of rows without a vector (part 7 of the bad-input catalogue)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from movie_assets.recsys import features, timeline
from movie_assets.recsys.sources import SourceSpec
from movie_assets.recsys.timeline import Cutoffs, SplitConfigError, SplitPolicy

UTC = dt.UTC


def times(*days: int) -> pa.Array:
    base = dt.datetime(2020, 1, 1, tzinfo=UTC)
    return pa.array([base + dt.timedelta(days=d) for d in days], pa.timestamp("s", tz="UTC"))


def test_quantile_cutoffs_are_values_that_occur_and_ties_go_to_the_later_split():
    stamps = times(*range(10))
    cut = timeline.resolve_cutoffs(stamps, SplitPolicy())
    assert (cut.val_start, cut.test_start) == (dt.datetime(2020, 1, 9, tzinfo=UTC), dt.datetime(2020, 1, 10,
                                                                                              tzinfo=UTC))
    codes = timeline.split_codes(stamps, cut)
    assert codes.tolist() == [0] * 8 + [1, 2]
    tied = times(0, 1, 1, 1, 1)  # both quantiles are day 1: every day-1 event goes to the later split, test
    assert timeline.split_codes(tied, timeline.resolve_cutoffs(tied, SplitPolicy())).tolist() == [0, 2, 2, 2, 2]


def test_configured_cutoffs_accept_dates_and_zoned_times():
    cut = timeline.resolve_cutoffs(times(0), SplitPolicy(val_start="2020-03-01", test_start="2020-06-01T02:00+02:00"))
    assert cut.val_start == dt.datetime(2020, 3, 1, tzinfo=UTC) and cut.test_start == dt.datetime(2020, 6, 1,
                                                                                                   tzinfo=UTC)
    assert cut.source == "config"


@pytest.mark.parametrize("policy, message", [
    (dict(val_start="2020-13-01"), "val_start='2020-13-01' is not an ISO date or time"),
    (dict(val_start="2021-01-01", test_start="2020-01-01"), "is after test_start"),
    (dict(val_quantile=0.95, test_quantile=0.9), "val_quantile=0.95 and test_quantile=0.9"),
    (dict(holdout="half"), "holdout='half' is not one of"),
    (dict(holdout="items", holdout_share=1.0), "holdout_share=1.0"),
])
def test_bad_split_settings_name_the_setting(policy, message):
    with pytest.raises(SplitConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        timeline.resolve_cutoffs(times(0, 1), SplitPolicy(**policy))


def test_no_interaction_means_no_quantile():
    with pytest.raises(SplitConfigError, match="no interactions"):
        timeline.resolve_cutoffs(times(), SplitPolicy())


def test_holdouts_by_seeded_share_and_by_release():
    ids = np.arange(1, 20_001, dtype=np.int64)
    cut = Cutoffs(dt.datetime(2020, 1, 1, tzinfo=UTC), dt.datetime(2021, 1, 1, tzinfo=UTC), "config")
    held = timeline.held_out_items(ids, pa.nulls(len(ids), pa.date32()), SplitPolicy(holdout="items",
                                                                                      holdout_share=0.1), cut)
    assert 0.09 < len(held) / len(ids) < 0.11
    again = timeline.held_out_items(ids[::2], pa.nulls(len(ids[::2]), pa.date32()),
                                    SplitPolicy(holdout="items", holdout_share=0.1), cut)
    assert set(again) == set(held) & set(ids[::2])  # an item's fate does not depend on the others
    dates = pa.array([dt.date(2019, 12, 31), dt.date(2020, 1, 1), None], pa.date32())
    late = timeline.held_out_items(np.array([1, 2, 3]), dates, SplitPolicy(holdout="released_after_val"), cut)
    assert late.tolist() == [2]


def test_fill_policies_and_their_errors():
    rows = np.array([[1, 2], [0, 0], [3, 4]], np.float32)
    present = np.array([True, False, True])
    assert features.filled(rows, present, "zeros")[0][1].tolist() == [0, 0]
    mean, value = features.filled(rows, present, "mean")
    assert mean[1].tolist() == [2, 3] and value == [2.0, 3.0]
    assert np.isnan(features.filled(rows, present, "none")[0][1]).all()
    with pytest.raises(features.FeatureError, match="fill='median' is not one of"):
        features.filled(rows, present, "median")


@pytest.mark.parametrize("spec, message", [
    (dict(name="Bad Name", kind="synthetic"), "source name 'Bad Name'"),
    (dict(name="x", kind="kaggle"), "source kind 'kaggle'"),
    (dict(name="x", kind="movielens"), "needs the path"),
    (dict(name="x", kind="synthetic", floor=1.5), "floor=1.5"),
])
def test_bad_source_registrations_name_the_field(spec, message):
    from movie_assets.recsys.events import SourceError

    with pytest.raises(SourceError, match=message):
        SourceSpec(**spec)


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "wrong shape"),
    (b'{"name": "x", "kind": "synthetic", "colour": 1}', "unknown keys"),
    (b'{"name": "x", "kind": "kaggle"}', "source kind 'kaggle'"),
])
def test_a_damaged_source_registration_names_the_file_and_the_fix(tmp_path, content, message):
    from movie_assets.lake import Lake
    from movie_assets.recsys import sources
    from movie_assets.recsys.events import SourceError

    lake = Lake.at(tmp_path / "data")
    lake.recsys_sources_dir.mkdir(parents=True)
    lake.recsys_source_file("x").write_bytes(content)
    with pytest.raises(SourceError, match=message) as raised:
        sources.load_spec(lake, "x")
    assert "x.json" in str(raised.value) and "register the source again" in str(raised.value)
    with pytest.raises(SourceError, match="no interaction source named 'y' \\(registered: x\\)"):
        sources.load_spec(lake, "y")
