"""``recsys_sources_sensor`` (ships STOPPED): every registered interaction source becomes a partition of the
recsys assets, and a source that is new or whose registration changed gets a ``recsys_job`` run.

``movie-assets interactions import|synth`` adds the partition itself; the sensor is for sources registered by
writing ``data/recsys/sources/<name>.json`` directly (a deployment's config management, a teammate's shell).
"""

import json

import dagster as dg

from movie_assets.defs.recsys import jobs
from movie_assets.defs.recsys.partitions import recsys_sources
from movie_assets.lake import file_sha256
from movie_assets.recsys import sources
from movie_assets.wiring.policies import RUN_RETRY_TAGS
from movie_assets.wiring.resources import LakeResource


@dg.sensor(job=jobs.recsys_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Adds a partition per registered interaction source and builds a source's dataset when its "
           "registration is new or changed.")
def recsys_sources_sensor(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
    the_lake = lake.lake()
    seen = json.loads(context.cursor) if context.cursor else {}
    now = {name: file_sha256(the_lake.recsys_source_file(name)) for name in sources.registered(the_lake)}
    known = set(context.instance.get_dynamic_partitions(recsys_sources.name))
    missing = sorted(set(now) - known)
    requests = [dg.RunRequest(partition_key=name, run_key=f"{name}:{digest[:16]}", tags=RUN_RETRY_TAGS)
                for name, digest in sorted(now.items()) if seen.get(name) != digest]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(now, sort_keys=True),
                           dynamic_partitions_requests=[recsys_sources.build_add_request(missing)] if missing else [])
