"""Metadata every asset attaches: row count, column schema, a markdown preview, counters, plots.

The standard keys (``dagster/row_count``, ``dagster/column_schema``, ``dagster/uri``) are what
`TableMetadataSet` and `UriMetadataSet` would write; those classes are not exported by ``dagster`` 1.13's
public API (only from ``dagster._core``), so assets write the keys themselves, `table_metadata` the first
two from an Arrow table.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import pyarrow as pa

ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."


def with_attribution(spec: dg.AssetSpec) -> dg.AssetSpec:
    """``spec`` with TMDb's attribution at the end of its description (once; `movie_assets.definitions`
    maps every asset through this)."""
    description = (spec.description or "").rstrip()
    if ATTRIBUTION in description:
        return spec
    return spec.replace_attributes(description=f"{description} {ATTRIBUTION}".strip())


def column_schema(schema: pa.Schema, descriptions: Mapping[str, str] | None = None) -> dg.TableSchema:
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=f.name, type=str(f.type), description=descriptions.get(f.name))
            for f in schema
        ]
    )


def _cell(value: Any, width: int = 40) -> str:
    if isinstance(value, list):
        value = ", ".join(
            str(v.get("name") if isinstance(v, dict) else v) for v in value[:4]
        ) + (" …" if len(value) > 4 else "")
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_preview(table: pa.Table, columns: Sequence[str] | None = None, rows: int = 5) -> str:
    """A small markdown table of the first ``rows`` rows."""
    columns = [c for c in (columns or table.column_names) if c in table.column_names]
    head = table.select(columns).slice(0, rows).to_pylist()
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r[c]) for c in columns) + " |" for r in head]
    return "\n".join(lines)


PREVIEW_COLUMNS = ["movie_id", "title", "release_date", "original_language", "genres", "runtime", "directors"]


def table_metadata(table: pa.Table, *, descriptions: Mapping[str, str] | None = None,
                   preview_columns: Sequence[str] | None = PREVIEW_COLUMNS) -> dict[str, Any]:
    """``dagster/row_count``, ``dagster/column_schema`` and a preview for an Arrow table."""
    return {
        "dagster/row_count": table.num_rows,
        "dagster/column_schema": column_schema(table.schema, descriptions),
        "preview": dg.MetadataValue.md(markdown_preview(table, preview_columns)),
    }


def counter_metadata(prefix: str, counters: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten numeric counters into ``prefix/name`` entries (nested dicts as JSON)."""
    out: dict[str, Any] = {}
    for name, value in counters.items():
        out[f"{prefix}/{name}"] = dg.MetadataValue.json(value) if isinstance(value, dict) else value
    return out


def png_markdown(figure: Any, title: str) -> dg.MetadataValue:
    """Embed a matplotlib figure as a base64 PNG in markdown (rendered by the Dagster UI)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return dg.MetadataValue.md(f"**{title}**\n\n![{title}](data:image/png;base64,{encoded})")
