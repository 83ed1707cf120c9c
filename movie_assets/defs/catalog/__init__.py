"""The catalog domain's Dagster definitions: TMDb's daily ID export (loaded by `dg.load_from_defs_folder`)."""
