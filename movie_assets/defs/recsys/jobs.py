"""``recsys_job``: build one source's dataset (a partition of ``recsys_sources``)."""

import dagster as dg

from movie_assets.defs.recsys import assets

recsys_job = dg.define_asset_job(
    "recsys_job", selection=dg.AssetSelection.assets(assets.recsys_dataset, assets.recsys_exports),
    partitions_def=assets.recsys_sources,
    description="Build the recommender dataset of one registered interaction source over the lake as it is: "
    "interactions split on one timeline, the item index and aligned feature arrays, item features as of each "
    "cut-off, and the exports for MMRec, RecBole, Cornac, LightFM and plain Parquet.",
)
