"""A built recommender dataset for the export tests: the changed test lake, 40 users' events over it, a strict
item hold-out (held-out rows the exports must leave out) and the catalog's other movies indexed after the rest
(items no framework interaction reaches)."""

from __future__ import annotations

import datetime as dt

from movie_assets.recsys import build, sources
from movie_assets.recsys.events import SYNTHETIC
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.recsys.lakes import CLOCK, changed_lake, events_over

VAL_START, TEST_START = CLOCK + dt.timedelta(days=5), CLOCK + dt.timedelta(days=15)


def export_dataset(root, name: str = "export-events", test_start: dt.datetime = TEST_START):
    """(the lake, the built dataset) under ``root``."""
    lake, _, _ = changed_lake(root)
    events = events_over(warehouse.read_movies(lake), users=40, per_user=30, start=CLOCK - dt.timedelta(days=60),
                         end=CLOCK + dt.timedelta(days=25))
    config = build.DatasetConfig(split=SplitPolicy(val_start=VAL_START.isoformat(), test_start=test_start.isoformat(),
                                                   holdout="items", holdout_share=0.2),
                                 include_catalog_items=True)
    return lake, build.build_from_events(lake, sources.SourceSpec(name=name, kind=SYNTHETIC), events, config)
