"""Schedules, sensors and automation conditions of the ingest and warehouse domains, on ephemeral instances."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster_duckdb import DuckDBResource

from movie_assets import definitions
from movie_assets.defs.ingest import schedules, sensors
from movie_assets.defs.ingest.assets import movie_details, movies
from movie_assets.defs.ingest.partitions import yearly_partitions
from movie_assets.emulator import Catalog, running_emulator
from movie_assets.harvest import changes as refresh
from movie_assets.harvest import stages
from movie_assets.lake import Lake, readers
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets.wiring.internals import backfilling_partitions
from movie_assets.wiring.resources import LakeResource, TMDbResource
from movie_assets_tests.helpers import free_port

defs = definitions.defs()  # the project's one Definitions, loaded from movie_assets/defs/

ROOT = Path(__file__).resolve().parents[2]
D = dt.date
TODAY = D(2026, 11, 1)  # the emulator's default frozen clock
YEARS = (1990, 1991)


# -- schedule ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "expected"),
    [(dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC), ["2025", "2026"]),
     (dt.datetime(2027, 1, 1, 3, tzinfo=dt.UTC), ["2026", "2027"])],
)
def test_nightly_schedule_requests_the_two_latest_years(when, expected):
    context = dg.build_schedule_context(scheduled_execution_time=when)
    requests = schedules.nightly_refresh_schedule(context)
    assert [r.partition_key for r in requests] == expected
    assert len({r.run_key for r in requests}) == 2
    assert all(r.tags["dagster/max_retries"] == "1" for r in requests)
    schedule = defs.get_schedule_def("nightly_refresh_schedule")
    assert schedule.job_name == "ingest_job" and schedule.default_status == dg.DefaultScheduleStatus.STOPPED


# -- missing years ------------------------------------------------------------------------------------
def test_select_missing_years_newest_first_bounded_and_skipping_in_flight():
    keys = [str(y) for y in range(2000, 2011)]
    chosen = sensors.select_missing_years(
        keys, materialized={"2010", "2008", "2007"}, failed={"2007"}, in_flight={"2009"}, limit=2
    )
    assert chosen == ["2007", "2006"]  # 2010 done, 2009 running, 2008 done, 2007 failed
    assert sensors.select_missing_years(keys, keys, (), (), limit=2) == []
    assert sensors.select_missing_years(keys, (), (), (), limit=0) == []
    assert sensors.select_missing_years(keys, (), (), (), limit=3, exhausted={"2010"}) == ["2009", "2008", "2007"]
    assert sensors.select_missing_years(keys, (), (), set(keys[1:]), limit=5) == ["2000"]


def _queue_run(instance: dg.DagsterInstance, partition: str, status=dg.DagsterRunStatus.STARTED) -> None:
    instance.add_run(dg.DagsterRun(job_name="ingest_job", run_id=str(uuid.uuid4()), status=status,
                                   tags={"dagster/partition": partition}))


def test_missing_years_sensor_skips_materialized_and_in_flight_and_retries_failed(tmp_path):
    keys = yearly_partitions.get_partition_keys()
    newest, second, third, fourth = keys[-1], keys[-2], keys[-3], keys[-4]
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=newest))
        instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=third))
        _queue_run(instance, second)  # running: must not be requested again
        _queue_run(instance, fourth, dg.DagsterRunStatus.SUCCESS)  # finished: does not count as in flight
        # `third` was materialized, then a later attempt failed (no discover output in this empty lake)
        failed = dg.materialize([movies], partition_key=third, instance=instance, raise_on_error=False,
                                resources={"lake": LakeResource(data_dir=str(tmp_path / "data"))})
        assert not failed.success

        context = dg.build_sensor_context(instance=instance, definitions=defs)
        result = sensors.missing_years_sensor(context)
        assert [r.partition_key for r in result.run_requests] == [third, fourth]  # failed, then missing
        assert len(result.run_requests) == sensors.MISSING_YEARS_PER_TICK
        assert all(r.tags["movie_assets/trigger"] == "missing_years" for r in result.run_requests)
        assert json.loads(result.cursor) == {third: 1, fourth: 1}

        # Requested runs are in flight on the next tick: the sensor moves on to older years.
        _queue_run(instance, third, dg.DagsterRunStatus.NOT_STARTED)
        _queue_run(instance, fourth, dg.DagsterRunStatus.CANCELING)
        context = dg.build_sensor_context(instance=instance, definitions=defs, cursor=result.cursor)
        result = sensors.missing_years_sensor(context)
        assert [r.partition_key for r in result.run_requests] == [keys[-5], keys[-6]]


def test_missing_years_sensor_skips_a_year_being_rematerialized_by_any_job():
    keys = yearly_partitions.get_partition_keys()
    with dg.DagsterInstance.ephemeral() as instance:
        for key in keys:
            instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=key))
        # A re-run of one year launched from the UI or `dg launch --assets` (not ingest_job) is in progress.
        instance.create_run_for_job(defs.resolve_implicit_global_asset_job_def(),
                                    tags={"dagster/partition": keys[-2]},
                                    asset_selection=frozenset({dg.AssetKey("movies")}))
        result = sensors.missing_years_sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert not result.run_requests


def test_missing_years_sensor_skips_years_of_a_backfill_in_progress():
    """Exercises `wiring.internals` (the one private-API use) against a real backfill: check it on upgrade."""
    import time

    from dagster._core.execution.backfill import PartitionBackfill

    keys = yearly_partitions.get_partition_keys()
    with dg.DagsterInstance.ephemeral() as instance:
        for key in keys[:-3]:
            instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=key))
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id="fill-newest", asset_graph=defs.resolve_asset_graph(), partition_names=keys[-2:],
            asset_selection=[dg.AssetKey("movies")], backfill_timestamp=time.time(), tags={},
            dynamic_partitions_store=instance, all_partitions=False, title=None, description=None, run_config=None,
        )
        instance.add_backfill(backfill)
        context = dg.build_sensor_context(instance=instance, definitions=defs)
        assert backfilling_partitions(context, dg.AssetKey("movies"), "ingest_job") == set(keys[-2:])
        result = sensors.missing_years_sensor(context)
        assert [r.partition_key for r in result.run_requests] == [keys[-3]]


def test_missing_years_sensor_gives_up_after_max_attempts():
    keys = yearly_partitions.get_partition_keys()
    with dg.DagsterInstance.ephemeral() as instance:
        for key in keys[:-1]:
            instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=key))
        cursor = json.dumps({keys[-1]: sensors.MAX_ATTEMPTS_PER_YEAR})
        result = sensors.missing_years_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert not result.run_requests and "no missing" in result.skip_reason.skip_message
        result = sensors.missing_years_sensor(dg.build_sensor_context(instance=instance))
        assert [r.partition_key for r in result.run_requests] == [keys[-1]]


# -- changes sensor -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    """Two years harvested with the library into a tmp lake, and the emulator that served them."""
    lake = Lake.at(tmp_path_factory.mktemp("lake") / "data")
    catalog = Catalog(seed=5, movies_per_year=300)
    with running_emulator(catalog=catalog) as emu:

        async def harvest():
            async with TMDbClient(TMDbSettings(base_url=emu.base_url, requests_per_second=2000)) as client:
                for year in YEARS:
                    await stages.harvest_year(client, lake, year)

        asyncio.run(harvest())
        yield emu, lake


def _resources(emu_url: str, lake: Lake, **tmdb) -> dict:
    return {"tmdb": TMDbResource(base_url=emu_url, requests_per_second=2000, **tmdb),
            "lake": LakeResource(data_dir=str(lake.root)),
            "duckdb": DuckDBResource(database=str(lake.duckdb_file))}


def _tick(sensor, resources: dict, cursor: str | None = None) -> dg.SensorResult:
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
        return sensor(context)


def test_changes_sensor_first_tick_starts_at_the_newest_harvest(harvested):
    emu, lake = harvested
    result = _tick(sensors.changes_sensor, _resources(emu.base_url, lake))
    # harvested_at is the emulator's Date (its frozen clock), so the first window is that one day
    assert refresh.RefreshCursor.from_json(result.cursor).last_processed_date == TODAY
    expected = refresh.affected_years(lake, emu.catalog.changed_ids(TODAY, TODAY))
    assert {int(r.partition_key) for r in result.run_requests or []} == set(expected)


def test_changes_sensor_advances_in_14_day_windows_and_requests_refetch_runs(harvested):
    emu, lake = harvested
    start = D(2026, 8, 15)  # 79 days: 6 windows, within one tick's cap
    cursor = refresh.RefreshCursor(start).to_json()
    before = emu.stats()["by_path"].get("changes", 0)
    result = _tick(sensors.changes_sensor, _resources(emu.base_url, lake), cursor)
    windows = refresh.change_windows(start, TODAY)
    assert all((end - begin).days < 14 for begin, end in windows)
    assert emu.stats()["by_path"]["changes"] - before >= len(windows) == 6  # ≥1 page per window
    assert refresh.RefreshCursor.from_json(result.cursor).last_processed_date == TODAY

    expected = refresh.affected_years(lake, emu.catalog.changed_ids(start, TODAY))
    assert set(expected) == set(YEARS)
    by_year = {int(r.partition_key): r for r in result.run_requests}
    assert set(by_year) == set(YEARS)
    for year, request in by_year.items():
        ids = request.run_config["ops"]["movie_details"]["config"]["refetch_ids"]
        assert ids == expected[year]
        assert request.run_key == refresh.refetch_run_key(year, start, TODAY, ids)
        assert request.tags["movie_assets/trigger"] == "tmdb_changes"

    # same cursor again → same run keys (Dagster drops duplicates); from the new cursor only the last day
    again = _tick(sensors.changes_sensor, _resources(emu.base_url, lake), cursor)
    assert sorted(r.run_key for r in again.run_requests) == sorted(r.run_key for r in result.run_requests)
    later = _tick(sensors.changes_sensor, _resources(emu.base_url, lake), result.cursor)
    assert refresh.RefreshCursor.from_json(later.cursor).last_processed_date == TODAY


def test_changes_sensor_catches_up_over_ticks_with_an_injected_today(harvested):
    emu, lake = harvested
    sensor = sensors.build_changes_sensor(today=lambda: D(2026, 10, 1), name="changes_test", max_windows=2)
    result = _tick(sensor, _resources(emu.base_url, lake), refresh.RefreshCursor(D(2026, 8, 1)).to_json())
    assert refresh.RefreshCursor.from_json(result.cursor).last_processed_date == D(2026, 8, 28)  # 2 × 14 days
    result = _tick(sensor, _resources(emu.base_url, lake), result.cursor)
    assert refresh.RefreshCursor.from_json(result.cursor).last_processed_date == D(2026, 9, 24)
    result = _tick(sensor, _resources(emu.base_url, lake), result.cursor)
    assert refresh.RefreshCursor.from_json(result.cursor).last_processed_date == D(2026, 10, 1)


def test_changes_sensor_runs_the_catalog_sync_once_a_day_for_a_synced_lake(tmp_path):
    lake = Lake.at(tmp_path / "data")
    lake.sync_cursor_file.parent.mkdir(parents=True)
    lake.sync_cursor_file.write_text('{"changes_through": "2026-11-01", "export_day": "2026-11-01"}')
    sensor = sensors.build_changes_sensor(today=lambda: D(2026, 11, 2), name="changes_synced")
    result = _tick(sensor, _resources("http://127.0.0.1:9/3", lake))  # reads nothing itself: the sync does
    [request] = result.run_requests
    assert request.job_name == "catalog_sync_job" and request.run_key == "catalog-sync-2026-11-02"


def test_changes_sensor_does_not_advance_when_tmdb_fails(harvested):
    _, lake = harvested
    dead = f"http://127.0.0.1:{free_port()}/3"
    cursor = refresh.RefreshCursor(D(2026, 9, 1)).to_json()
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                          resources=_resources(dead, lake, max_attempts=1))
        with pytest.raises(Exception, match="failed after 1 attempts"):
            sensors.changes_sensor(context)
        assert context.cursor == cursor


def test_refetch_ids_refetch_only_the_changed_movies(harvested):
    emu, lake = harvested
    result = _tick(sensors.changes_sensor, _resources(emu.base_url, lake),
                   refresh.RefreshCursor(D(2026, 8, 1)).to_json())
    request = next(r for r in result.run_requests if r.partition_key == str(YEARS[0]))
    ids = request.run_config["ops"]["movie_details"]["config"]["refetch_ids"]
    assert 0 < len(ids) < len(readers.discover_ids(lake, YEARS[0]))
    before = emu.stats()["by_path"].get("movie", 0)
    run = dg.materialize([movie_details, movies], partition_key=request.partition_key,
                         run_config=request.run_config, resources=_resources(emu.base_url, lake),
                         selection=["movie_details"])
    assert run.success
    assert emu.stats()["by_path"]["movie"] - before == len(ids)
    # without refetch_ids a re-materialization fetches nothing
    before = emu.stats()["by_path"]["movie"]
    assert dg.materialize([movie_details], partition_key=request.partition_key,
                          resources=_resources(emu.base_url, lake)).success
    assert emu.stats()["by_path"]["movie"] == before


# -- downstream automation ------------------------------------------------------------------------------
def _requested(result) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()
            if result.get_num_requested(k)}


def test_downstream_assets_follow_their_upstreams():
    year = yearly_partitions.get_partition_keys()[-3]
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert _requested(result) == set()  # nothing harvested: nothing to build

        instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=year))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        # one year updated → movies_db, and (eager, same tick) everything downstream of it, in one request
        downstream = {"movies_sample", "data_profile", "movie_splits", "movies_csv_export", "release_checksums",
                      "movie_embeddings", "movie_index", "similar_movies_preview", "movie_posters",
                      "poster_embeddings", "poster_index", "item_modalities"}
        assert _requested(result) == {"movies_db"} | downstream

        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        assert _requested(result) == set()  # handled: not requested twice

        # movies_db rebuilt by hand → the release assets and the index follow; the ingest assets never do, nor
        # the embeddings (they follow their year's movies, not movies_db)
        instance.report_runless_asset_event(dg.AssetMaterialization("movies_db"))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        assert {"movies_sample", "data_profile", "movie_splits", "movie_index"} <= _requested(result)
        assert not _requested(result) & {"movies_db", "movies", "movie_details", "discover_movies",
                                         "movie_embeddings"}


def test_embeddings_follow_their_own_year_in_any_year():
    keys = yearly_partitions.get_partition_keys()
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        for key in (keys[0], keys[-2]):  # an old year and last year, not only the latest time window
            instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=key))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        requested = result.get_requested_partitions(dg.AssetKey("movie_embeddings"))
        assert requested == {keys[0], keys[-2]}


def test_the_syncs_events_make_dagster_re_embed_exactly_the_years_it_rebuilt():
    """A sync that rebuilt a year (an overview changed) leaves that year's vectors stale: the materializations
    it records (`record_sync`) are what make the automation re-embed those partitions, and no others."""
    from movie_assets.defs.catalog.assets import record_sync
    from movie_assets.harvest.sync import SyncReport

    keys = yearly_partitions.get_partition_keys()
    with dg.DagsterInstance.ephemeral() as instance:
        for key in keys[:5]:  # harvested and embedded before the sync
            instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=key))
            instance.report_runless_asset_event(dg.AssetMaterialization("movie_embeddings", partition=key))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        report = SyncReport(export_day=TODAY, full=False, listed=10, new=0, changed=1, vanished=0,
                            years_rebuilt=[int(keys[1]), int(keys[3]), None])
        record_sync(instance, report)
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        assert result.get_requested_partitions(dg.AssetKey("movie_embeddings")) == {keys[1], keys[3]}
        assert result.get_num_requested(dg.AssetKey("undated_movie_embeddings")) == 1


def test_movies_db_waits_while_a_year_is_in_progress():
    keys = yearly_partitions.get_partition_keys()
    for busy in (False, True):
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
            instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=keys[-2]))
            if busy:  # another year of `movies` is planned by a run that has not finished
                instance.create_run_for_job(defs.resolve_job_def("ingest_job"), tags={"dagster/partition": keys[-1]},
                                            asset_selection=frozenset({dg.AssetKey("movies")}))
            result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
            assert ("movies_db" in _requested(result)) is not busy


def test_downstream_sensor_and_default_statuses():
    sensor = defs.get_sensor_def("downstream_automation_sensor")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    for name in ("missing_years_sensor", "changes_sensor", "downstream_automation_sensor"):
        assert defs.get_sensor_def(name).default_status == dg.DefaultSensorStatus.STOPPED
    targets = defs.get_sensor_def("changes_sensor").targets
    assert {t.job_def.name for t in targets} == {"ingest_job", "catalog_sync_job"}
    graph = defs.resolve_asset_graph()
    conditioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).automation_condition}
    assert "movies_db" in conditioned and not conditioned & {"discover_movies", "movie_details", "movies"}


# -- instance settings and pools --------------------------------------------------------------------------
def test_shipped_dagster_yaml_frees_slots_retries_runs_and_pools_are_exactly_tmdb_and_duckdb():
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_monitoring"]["free_slots_after_run_end_seconds"] > 0
    assert config["run_retries"]["enabled"] is True
    assert config["concurrency"]["pools"]["default_limit"] == 1
    graph = defs.resolve_asset_graph()
    pools = set().union(*(graph.get(k).pools or set() for k in graph.get_all_asset_keys()))
    assert pools == {"tmdb", "duckdb"}
