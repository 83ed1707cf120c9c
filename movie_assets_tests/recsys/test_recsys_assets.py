"""The recsys assets through Dagster: a registered synthetic source is a partition; one step materializes the three
assets and their five blocking checks pass; a source the lake cannot serve fails the step with one line."""

from __future__ import annotations

import dagster as dg
import pytest

from movie_assets.defs.recsys.assets import ASOF, CHECKS, INTERACTIONS, ITEM_INDEX, recsys_dataset
from movie_assets.defs.recsys.partitions import recsys_sources
from movie_assets.recsys import sources
from movie_assets.recsys.events import SYNTHETIC
from movie_assets.wiring.resources import LakeResource
from movie_assets_tests.recsys.lakes import changed_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return changed_lake(tmp_path_factory.mktemp("recsys-assets"))[0]


def test_a_registered_source_is_materialized_with_its_blocking_checks(lake):
    sources.register(lake, sources.SourceSpec(name="synth", kind=SYNTHETIC, synthetic={"users": 60, "seed": 3}))
    sources.register(lake, sources.SourceSpec(name="late", kind=SYNTHETIC, synthetic={
        "users": 5, "seed": 1, "start": "2200-01-01T00:00:00+00:00"}))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(recsys_sources.name, ["synth", "late"])
        result = dg.materialize([recsys_dataset], partition_key="synth", instance=instance,
                                resources={"lake": LakeResource(data_dir=str(lake.root))})
        assert result.success
        assert {e.asset_key for e in result.get_asset_materialization_events()} == {INTERACTIONS, ITEM_INDEX, ASOF}
        evaluations = result.get_asset_check_evaluations()
        assert {e.check_name for e in evaluations} == set(CHECKS)
        assert all(e.passed for e in evaluations), [e.description for e in evaluations if not e.passed]
        folder = lake.recsys_dataset_dir(lake.recsys_latest_file("synth").read_text().strip())
        assert (folder / "manifest.json").exists()
        failed = dg.materialize([recsys_dataset], partition_key="late", instance=instance, raise_on_error=False,
                                resources={"lake": LakeResource(data_dir=str(lake.root))})
        assert not failed.success
        failure = failed.get_step_failure_events()[0].step_failure_data.error
        assert "start" in failure.message and "must be a datetime" not in failure.message, failure.message
