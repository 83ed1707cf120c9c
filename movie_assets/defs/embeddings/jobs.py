"""``embeddings_job``: embed one year's movies, text and posters; a backfill of it over the years (re)builds every
partition."""

import dagster as dg

from movie_assets.defs.embeddings import assets
from movie_assets.defs.posters import assets as poster_assets

embeddings_job = dg.define_asset_job(
    "embeddings_job",
    selection=dg.AssetSelection.assets(assets.movie_embeddings, poster_assets.movie_posters,
                                       poster_assets.poster_embeddings),
    description="Embed one year's movies: their text, and their posters (fetched, then embedded) into the year's "
    "partitions (backfill it over the years to fan the work out over runs and workers).",
    # One step at a time: both encoders use every core, and two at once on one machine are slower together than
    # one after the other (measured in the demo: text 37/s and posters 65/s at once; alone, ~86/s and ~140/s).
    executor_def=dg.multiprocess_executor.configured({"max_concurrent": 1}),
)
