"""A small built dataset for the framework-export tests (over `lakes.changed_lake`, text vectors only), and tiny
hand-made `ExportInputs` for what that dataset lacks (image vectors, implicit feedback, odd names)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa

from movie_assets.lake import Lake
from movie_assets.recsys import build, sources
from movie_assets.recsys.events import SYNTHETIC
from movie_assets.recsys.exports.inputs import ExportInputs, ModalityArray, load_dataset
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.recsys.lakes import CLOCK, changed_lake, events_over

SPEC = sources.SourceSpec(name="export-events", kind=SYNTHETIC)
CONFIG = build.DatasetConfig(split=SplitPolicy(val_start=(CLOCK + dt.timedelta(days=5)).isoformat(),
                                               test_start=(CLOCK + dt.timedelta(days=15)).isoformat()))


def small_dataset(root) -> tuple[Lake, ExportInputs]:
    """(the lake, its dataset of 40 users × 30 random ratings as exports read it)."""
    lake, _, _ = changed_lake(root)
    events = events_over(warehouse.read_movies(lake), users=40, per_user=30, start=CLOCK - dt.timedelta(days=60),
                         end=CLOCK + dt.timedelta(days=25))
    build.build_from_events(lake, SPEC, events, CONFIG)
    return lake, load_dataset(lake, SPEC.name)


def tiny_inputs(tmp_path, name: str = "tiny set.v1") -> ExportInputs:
    """Three items, two users, one interaction per split (the train one implicit), text and image vectors."""
    when = [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in (1, 2, 3)]
    interactions = pa.table({
        "user_index": pa.array([0, 1, 0], pa.int32()), "item_index": pa.array([0, 1, 2], pa.int32()),
        "rating": pa.array([None, 4.5, 0.1], pa.float32()), "weight": pa.array([1.0] * 3, pa.float32()),
        "timestamp": pa.array(when, pa.timestamp("ms", tz="UTC")), "event": ["view", "rating", "rating"],
        "split": ["train", "val", "test"]})
    items = pa.table({"item_index": pa.array([0, 1, 2], pa.int32()), "movie_id": pa.array([10, 20, 30]),
                      "text_content_hash": pa.array([None, None, None], pa.string())})
    people = pa.struct([("person_id", pa.int64()), ("name", pa.string())])
    features = pa.table({
        "item_index": pa.array([0, 1], pa.int32()), "title": ['"Quoted"\tTitle', "Plain"],
        "release_date": pa.array([dt.date(1999, 5, 1), None], pa.date32()),
        "genres": [["Science Fiction", "Drama"], []], "original_language": ["en", None],
        "directors": pa.array([[{"person_id": 1, "name": "Jean 'Luc' Doe"}], []], pa.list_(people)),
        "keywords": [["time travel"], None], "overview": ["An overview.", None],
        "cast": pa.array([[], []], pa.list_(pa.struct([("person_id", pa.int64()), ("name", pa.string()),
                                                        ("character", pa.string()), ("order", pa.int32())])))})
    rng = np.random.default_rng(3)
    text = rng.standard_normal((3, 4)).astype(np.float32)
    image = rng.standard_normal((3, 5)).astype(np.float32)
    image[1] = 0.0
    present = np.array([True, False, True])
    directory = tmp_path / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({"publishable": False}), encoding="utf-8")
    return ExportInputs(
        name=name, directory=directory, manifest={"publishable": False}, interactions=interactions, items=items,
        users=pa.table({"user_index": pa.array([0, 1], pa.int32())}), item_features=features,
        text=ModalityArray("text", "tiny-text", None, text, np.ones(3, bool), "zeros", "features/t.npy"),
        image=ModalityArray("poster", "tiny-image", None, image, present, "zeros", "features/i.npy"))
