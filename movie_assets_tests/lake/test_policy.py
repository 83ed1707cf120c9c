"""One adult/video policy per lake: recorded by the first writer, another refused in one line."""

from __future__ import annotations

import pyarrow as pa
import pytest

from movie_assets.lake import Lake
from movie_assets.lake.policy import CatalogPolicy, LakePolicyError, policy_file, recorded_policy, resolve_policy
from movie_assets.lake.state import StateFileError


def test_the_first_writer_records_the_policy_and_readers_get_it(tmp_path):
    lake = Lake.at(tmp_path / "data")
    assert resolve_policy(lake) == CatalogPolicy() and recorded_policy(lake) is None  # a reader records nothing
    videos = CatalogPolicy(include_video=True)
    assert resolve_policy(lake, videos) == videos and recorded_policy(lake) == videos
    assert resolve_policy(lake) == videos  # asked for none: the lake's


def test_another_policy_is_refused_in_one_line_naming_the_settings(tmp_path):
    lake = Lake.at(tmp_path / "data")
    resolve_policy(lake, CatalogPolicy(include_video=True))
    with pytest.raises(LakePolicyError) as info:
        resolve_policy(lake, CatalogPolicy())
    message = str(info.value)
    assert "\n" not in message and "MOVIE_ASSETS_INCLUDE_VIDEO=true" in message
    assert "MOVIE_ASSETS_DATA_DIR" in message and str(lake.root) in message


def test_a_corrupt_policy_record_names_the_file(tmp_path):
    lake = Lake.at(tmp_path / "data")
    policy_file(lake).parent.mkdir(parents=True)
    policy_file(lake).write_text('{"include_adult": "yes"}')
    with pytest.raises(StateFileError, match="policy.json"):
        resolve_policy(lake)


def test_the_mask_keeps_what_the_policy_allows():
    table = pa.table({"adult": [False, True, None, False], "video": [False, False, False, True]})
    assert CatalogPolicy().mask(table).to_pylist() == [True, False, True, False]
    assert CatalogPolicy(True, True).mask(table).to_pylist() == [True, True, True, True]
