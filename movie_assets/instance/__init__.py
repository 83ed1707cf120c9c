"""The Dagster instance's storage: SQLite under ``$DAGSTER_HOME`` by default, PostgreSQL by settings."""
