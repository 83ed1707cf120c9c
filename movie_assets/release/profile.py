"""``reports/data_profile.json``: a deterministic description of the consolidated movies table.

Deterministic means: keys sorted, no timestamps, floats rounded to 6 places, ties broken by value, so the
same table always gives the same bytes.

Per column: ``dtypes``, ``nulls`` (null cells), ``null_rates``, ``uniques`` (distinct non-null values; for
list columns the distinct *elements* across all rows; structs by their id: ``person_id``, ``company_id``,
``collection_id``, a trailer's ``key``, else their first field), and for list columns ``empty_lists``.
``missing_rates`` counts a cell as missing when it is null or an empty list; it is what the null-spike check
compares between profiles.

``rich_coverage`` gives, per column read from the details call's appends and extra fields (`RICH_COLUMNS`,
and the translated ``title_<l>``/``overview_<l>``), how many movies have a value (non-null, non-empty; for
translated text: TMDb's translation, not the English fallback) and their share. ``missing_appends`` counts,
per append, the movies whose stored payload predates it (`movie_assets.warehouse.appends`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.common.arrow import list_lengths
from movie_assets.lake import Lake, write_json_atomic
from movie_assets.lake.schema import wanted_appends
from movie_assets.warehouse.appends import (
    REFETCH_COMMAND,
    has_translated_columns,
    missing_append_counts,
)

from .common import read_consolidated, rows_per_year

TOP_LANGUAGES = 10
# The columns of the `movies` contract read from the details call beyond its core fields (`harvest.payload_fields`).
RICH_COLUMNS = (
    "homepage", "collection", "production_companies", "production_countries", "spoken_languages", "origin_country",
    "crew", "certifications", "release_events", "first_theatrical_date", "first_digital_date", "wikidata_id",
    "facebook_id", "instagram_id", "twitter_id", "trailers", "alternative_titles",
)
STRUCT_IDS = ("person_id", "company_id", "collection_id", "key")  # what makes a struct value distinct


def _rate(count: int, rows: int) -> float:
    return round(count / rows, 6) if rows else 0.0


def _is_list(field: pa.Field) -> bool:
    return pa.types.is_list(field.type) or pa.types.is_large_list(field.type)


def _distinct(table: pa.Table, field: pa.Field) -> int:
    column = pc.list_flatten(table.column(field.name)) if _is_list(field) else table.column(field.name)
    if pa.types.is_struct(column.type):
        names = [column.type.field(i).name for i in range(column.type.num_fields)]
        key = next((names.index(n) for n in STRUCT_IDS if n in names), 0)
        column = pc.struct_field(column, key).filter(pc.is_valid(column))
    if len(column) == 0:
        return 0
    return int(pc.count_distinct(column, mode="only_valid").as_py())


def _has_value(table: pa.Table, name: str) -> pa.ChunkedArray:
    """Per movie, whether ``name`` holds a value: non-null, a non-empty list, translated text not the fallback."""
    column = table.column(name)
    if f"{name}_fallback" in table.column_names:
        return pc.and_(pc.is_valid(column), pc.invert(pc.fill_null(table.column(f"{name}_fallback"), True)))
    if _is_list(table.schema.field(name)):
        return pc.fill_null(pc.greater(pc.list_value_length(column), 0), False)
    return pc.is_valid(column)


def rich_coverage(table: pa.Table) -> dict[str, dict[str, Any]]:
    """Per rich column present (`RICH_COLUMNS`, then the translated ``title_<l>``/``overview_<l>``), the movies
    with a value and their share."""
    rows = table.num_rows
    translated = [n for n in table.column_names if f"{n}_fallback" in table.column_names]
    coverage = {}
    for name in [n for n in RICH_COLUMNS if n in table.column_names] + translated:
        count = int(pc.sum(_has_value(table, name)).as_py() or 0) if rows else 0
        coverage[name] = {"with_value": count, "share": _rate(count, rows)}
    return coverage


def missing_appends(table: pa.Table) -> dict[str, int]:
    """Per append the table is read from (``translations`` only with translated columns), the movies whose
    payload predates it; empty when the table has no ``missing_appends``."""
    if "missing_appends" not in table.column_names:
        return {}
    appends = wanted_appends(has_translated_columns(table.column_names))
    return missing_append_counts(table.column("missing_appends"), appends)


def credits_coverage(table: pa.Table) -> dict[str, Any]:
    """Share of movies with at least one cast member / one director."""
    rows = table.num_rows
    with_cast = int(pc.sum(pc.greater(list_lengths(table, "cast"), 0)).as_py() or 0) if rows else 0
    with_director = int(pc.sum(pc.greater(list_lengths(table, "directors"), 0)).as_py() or 0) if rows else 0
    return {
        "with_cast": with_cast,
        "with_director": with_director,
        "with_cast_share": _rate(with_cast, rows),
        "with_director_share": _rate(with_director, rows),
    }


def _runtime_summary(table: pa.Table) -> dict[str, Any]:
    runtime = table.column("runtime").drop_null()
    if len(runtime) == 0:
        return {"count": 0}
    q = pc.quantile(runtime, q=[0.5, 0.95], interpolation="nearest").to_pylist()
    return {
        "count": len(runtime),
        "min": pc.min(runtime).as_py(),
        "median": q[0],
        "p95": q[1],
        "max": pc.max(runtime).as_py(),
    }


def build_profile(table: pa.Table) -> dict[str, Any]:
    """The profile of ``table`` (which has the movies schema) as plain JSON-able data."""
    rows = table.num_rows
    dtypes, nulls, null_rates, uniques, empty_lists, missing_rates = {}, {}, {}, {}, {}, {}
    for field in table.schema:
        column = table.column(field.name)
        n_null = column.null_count
        dtypes[field.name] = str(field.type)
        nulls[field.name] = n_null
        null_rates[field.name] = _rate(n_null, rows)
        uniques[field.name] = _distinct(table, field)
        missing = n_null
        if _is_list(field):
            lengths = pc.list_value_length(column)
            empty = int(pc.sum(pc.equal(lengths, 0)).as_py() or 0) if rows else 0
            empty_lists[field.name] = empty
            missing += empty
        missing_rates[field.name] = _rate(missing, rows)

    dates = table.column("release_date")
    dated = dates.drop_null()
    languages = pc.value_counts(table.column("original_language").drop_null()).to_pylist()
    languages.sort(key=lambda c: (-c["counts"], c["values"]))
    return {
        "rows": rows,
        "columns": table.num_columns,
        "dtypes": dtypes,
        "nulls": nulls,
        "null_rates": null_rates,
        "missing_rates": missing_rates,
        "uniques": uniques,
        "empty_lists": empty_lists,
        "release_date": {
            "min": pc.min(dated).as_py().isoformat() if len(dated) else None,
            "max": pc.max(dated).as_py().isoformat() if len(dated) else None,
            "undated": dates.null_count,
        },
        "rows_per_year": rows_per_year(table),
        "top_original_languages": [
            {"language": c["values"], "rows": int(c["counts"])} for c in languages[:TOP_LANGUAGES]
        ],
        "credits_coverage": credits_coverage(table),
        "rich_coverage": rich_coverage(table),
        "missing_appends": missing_appends(table),
        "runtime_minutes": _runtime_summary(table),
        "notes": {
            "uniques": "distinct non-null values; list columns: distinct elements; structs by their id "
                       "(person_id, company_id, collection_id, a trailer's key), else their first field",
            "missing_rates": "null cells, plus empty lists for list columns, over rows",
            "rich_coverage": "movies with a non-null, non-empty value (translated text: not the English fallback)",
            "missing_appends": "movies whose stored payload predates the append (its columns are null until a "
                               f"refetch: {REFETCH_COMMAND} APPEND,...)",
        },
    }


def write_profile(lake: Lake) -> tuple[Path, dict[str, Any], pa.Table]:
    """Profile the consolidated table into ``reports/data_profile.json``."""
    table = read_consolidated(lake)
    profile = build_profile(table)
    target = lake.profile_file
    write_json_atomic(profile, target)
    return target, profile, table
