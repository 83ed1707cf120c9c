"""Dagster glue shared by the domains under `movie_assets.defs`: resources, metadata, pools and retry
policy, and the one module that touches Dagster internals. The work itself happens in the Dagster-free
libraries (`movie_assets.harvest`, `warehouse`, `release`, `embeddings`, `posters`)."""
