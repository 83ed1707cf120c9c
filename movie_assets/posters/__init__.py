"""Posters (optional), no Dagster: a local image cache through the TMDb client (`cache`), CLIP embeddings
and their index (`clip`)."""
