"""The warehouse library: consolidated Parquet and DuckDB views over the lake (no Dagster)."""
