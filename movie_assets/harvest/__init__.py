"""Harvesting a year: discover windowing (`discover`) and per-movie enrichment with checkpoints (`enrich`)."""
