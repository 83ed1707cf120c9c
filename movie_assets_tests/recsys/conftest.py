"""Fixtures of the MovieLens tests: a small lake holding every case of the bridge, and a MovieLens zip over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_assets.lake import Lake
from movie_assets_tests.recsys.bridge_lake import movielens_zip, write_lake


@pytest.fixture
def lake(tmp_path) -> Lake:
    return write_lake(tmp_path / "data")


@pytest.fixture
def ml_zip(tmp_path) -> Path:
    return movielens_zip(tmp_path / "ml-latest-small.zip")
