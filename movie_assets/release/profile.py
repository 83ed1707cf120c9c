"""``reports/data_profile.json``: a deterministic description of the consolidated movies table.

Deterministic means: keys sorted, no timestamps, floats rounded to 6 places, ties broken by value, so the
same table always gives the same bytes.

Per column: ``dtypes``, ``nulls`` (null cells), ``null_rates``, ``uniques`` (distinct non-null values; for
list columns the distinct *elements* across all rows, cast and directors by ``person_id``), and for list
columns ``empty_lists``. ``missing_rates`` counts a cell as missing when it is null or an empty list; it is
what the null-spike check compares between profiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.common.arrow import list_lengths
from movie_assets.lake import Lake, write_json_atomic

from .common import read_consolidated, rows_per_year

TOP_LANGUAGES = 10


def _rate(count: int, rows: int) -> float:
    return round(count / rows, 6) if rows else 0.0


def _is_list(field: pa.Field) -> bool:
    return pa.types.is_list(field.type) or pa.types.is_large_list(field.type)


def _distinct(table: pa.Table, field: pa.Field) -> int:
    column = table.column(field.name)
    if _is_list(field):
        values = pc.list_flatten(column)
        if pa.types.is_struct(values.type):
            names = [values.type.field(i).name for i in range(values.type.num_fields)]
            values = pc.struct_field(values, names.index("person_id") if "person_id" in names else 0)
        column = values
    if len(column) == 0:
        return 0
    return int(pc.count_distinct(column, mode="only_valid").as_py())


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
        "runtime_minutes": _runtime_summary(table),
        "notes": {
            "uniques": "distinct non-null values; list columns: distinct elements (cast/directors by person_id)",
            "missing_rates": "null cells, plus empty lists for list columns, over rows",
        },
    }


def write_profile(lake: Lake) -> tuple[Path, dict[str, Any], pa.Table]:
    """Profile the consolidated table into ``reports/data_profile.json``."""
    table = read_consolidated(lake)
    profile = build_profile(table)
    target = lake.profile_file
    write_json_atomic(profile, target)
    return target, profile, table
