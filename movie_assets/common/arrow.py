"""Small Arrow helpers shared by the warehouse checks and the release profile."""

import pyarrow as pa
import pyarrow.compute as pc


def list_lengths(table: pa.Table, column: str) -> pa.Array:
    """Length of each list cell, null cells counted as 0."""
    return pc.fill_null(pc.list_value_length(table.column(column)), 0)
