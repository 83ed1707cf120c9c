"""Small Dagster-free helpers shared by several domains: bounded concurrency and deterministic hashing."""
