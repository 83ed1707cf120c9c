"""``embeddings_job``: encode one year's movies; a backfill of it over the years (re)builds every partition."""

import dagster as dg

from movie_assets.defs.embeddings import assets

embeddings_job = dg.define_asset_job(
    "embeddings_job",
    selection=dg.AssetSelection.assets(assets.movie_embeddings),
    description="Encode one year's movies into its embeddings partition (backfill it over the years to fan "
    "the encoding out over runs and workers).",
)
