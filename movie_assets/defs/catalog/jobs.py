"""``catalog_sync_job``: bring the lake to TMDb's state of today; what the daily schedule and the changes
sensor launch."""

import dagster as dg

from movie_assets.defs.catalog import assets
from movie_assets.wiring.policies import RUN_RETRY_TAGS

catalog_sync_job = dg.define_asset_job(
    "catalog_sync_job",
    selection=dg.AssetSelection.assets(assets.catalog_sync),
    description="Bring the lake to TMDb's state of today (the daily export and the changes since the last sync).",
    tags=RUN_RETRY_TAGS,
)
