"""Paths inlined into DuckDB SQL. Views store their SQL text, so paths cannot be bound parameters there; they
are written as literals that no path can break out of, whatever it holds (quotes, brackets, stars)."""

from __future__ import annotations

import os
import re
from pathlib import Path

# DuckDB expands these in any path it reads (``[...]`` is a character class); ``[c]`` matches ``c`` itself.
_GLOB_CHARACTERS = re.compile(r"([\[*?])")


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def path_literal(path: str | os.PathLike, pattern: str = "") -> str:
    """The absolute ``path`` (plus an optional glob ``pattern`` below it, kept as a pattern) as a SQL literal for
    ``read_parquet``: glob characters in the path itself match only themselves."""
    literal = _GLOB_CHARACTERS.sub(r"[\1]", Path(path).resolve().as_posix())
    return sql_string(f"{literal}/{pattern}" if pattern else literal)
