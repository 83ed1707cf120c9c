"""The recsys assets are partitioned by interaction source: one partition per registered source
(``data/recsys/sources/<name>.json``), added by ``movie-assets interactions …`` or the ``recsys_sources_sensor``."""

import dagster as dg

recsys_sources = dg.DynamicPartitionsDefinition(name="recsys_sources")
