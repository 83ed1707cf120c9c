"""``ingest_job``: harvest one year (discover, details, typed Parquet); what schedules and sensors launch."""

import dagster as dg

from movie_assets.defs.ingest import assets

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets(assets.discover_movies, assets.movie_details, assets.movies),
    description="Harvest one year: discover, details, typed Parquet.",
)
