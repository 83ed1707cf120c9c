"""Posters (optional), no Dagster: a local image cache through the TMDb client (`cache`), the image encoders
(`image_backends.load_image_encoder`: the packaged EfficientNet-Lite0 by default, or local CLIP weights) and
the CLIP embeddings and their index (`clip`)."""
