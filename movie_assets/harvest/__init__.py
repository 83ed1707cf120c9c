"""The ingest library (no Dagster): the daily ID export (`exports`), discover windowing (`discover`), per-movie
enrichment (`enrich`) into the details store (`store`), the stages (`stages`), `/movie/changes` (`changes`)."""
