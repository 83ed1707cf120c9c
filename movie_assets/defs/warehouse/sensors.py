"""``downstream_automation_sensor`` (STOPPED by default): evaluates the automation conditions that sit on
``movies_db``, its inputs (``undated_movies``) and everything downstream of them, so a refreshed year reaches
the release, the checksums and the index without manual steps. Assets without a condition (the yearly
ingest and poster assets) are never requested by it."""

import dagster as dg

from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.wiring.policies import RUN_RETRY_TAGS

downstream_automation_sensor = dg.AutomationConditionSensorDefinition(
    "downstream_automation_sensor",
    target=dg.AssetSelection.assets(warehouse_assets.movies_db).upstream(depth=1, include_self=False).downstream(),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    run_tags=RUN_RETRY_TAGS,
    description="movies_db after any year is (re)materialized, then the release and embedding assets.",
)
