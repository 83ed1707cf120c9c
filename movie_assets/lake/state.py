"""Reading the lake's state files: one typed reader, one error.

State files are what one run leaves for the next: cursors and journals (``raw/sync.json``,
the details store's ``store.json`` and ``compact.json``), reuse hints (a year's
``windows.json``), reference data (``reference.json``) and snapshots (a year's discover ``movies.parquet``,
the daily export snapshots). `read_state_json` and `read_state_parquet` read one and check its shape; a
file that cannot be decoded, or holds the wrong shape, raises `StateFileError` naming the file, what is
wrong and what to do about it, never a bare ``KeyError`` or Arrow error.

An I/O error (permissions, too many open files, a failing disk) is not the file's fault: it propagates as
the `OSError` it is, so that nobody deletes a good file because the machine had a bad moment.

What corruption means is the caller's decision, by one rule: never lose data silently. A hint (a cache a
run rebuilds) may be discarded with a logged warning; a cursor, a journal or a snapshot fails loudly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.lake.paths import LakeError

T = TypeVar("T")


class StateFileError(LakeError):
    """A state file of the lake is corrupt (undecodable, or the wrong shape); the message names the file,
    what is wrong and what to do. Retrying does not help: a person (or the fix named) has to act first."""

    def __init__(self, path: str | os.PathLike, what: str, problem: str, fix: str):
        self.path, self.what, self.problem, self.fix = Path(path), what, problem, fix
        super().__init__(f"{what} {path} is corrupt ({problem}); {fix}")


@dataclass(frozen=True)
class MapOf:
    """Shape of a JSON object with any keys, each value of ``value``'s shape."""

    value: Any


# A shape is: a type (str, int, float, bool; int excludes bool, float accepts int), None (the value null),
# a tuple of shapes (any of them), a one-element list [shape] (a list of such values), a dict {key: shape}
# (an object with those keys; a key ending in "?" may be absent; other keys are allowed), or MapOf(shape).
Shape = Any


def shape_problem(value: Any, shape: Shape, where: str = "") -> str | None:
    """What is wrong with ``value`` for ``shape`` (None when it fits), e.g. ``'ids[3]' should be an integer,
    not a string``; ``where`` is the position of ``value`` in the file ("" for the whole file)."""
    here = f"{where!r}" if where else "the top level"
    if isinstance(shape, tuple):
        problems = [shape_problem(value, option, where) for option in shape]
        return None if any(p is None for p in problems) else problems[0]
    if shape is None:
        return None if value is None else f"{here} should be null, not {_kind(value)}"
    if isinstance(shape, type):
        fits = (isinstance(value, int | float) and not isinstance(value, bool)) if shape is float else (
            isinstance(value, shape) and not (shape is int and isinstance(value, bool)))
        return None if fits else f"{here} should be {_kind_of_type(shape)}, not {_kind(value)}"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{here} should be a list, not {_kind(value)}"
        return next((p for n, item in enumerate(value) if (p := shape_problem(item, shape[0], f"{where}[{n}]"))),
                    None)
    if isinstance(shape, MapOf | dict):
        if not isinstance(value, dict):
            return f"{here} should be an object, not {_kind(value)}"
        if isinstance(shape, MapOf):
            items = [(key, shape.value) for key in value]
        else:
            items = []
            for key, sub in shape.items():
                name = key.removesuffix("?")
                if name in value:
                    items.append((name, sub))
                elif not key.endswith("?"):
                    return f"{f'{where}.{name}' if where else name!r} is missing"
        return next((p for key, sub in items
                     if (p := shape_problem(value[key], sub, f"{where}.{key}" if where else str(key)))), None)
    raise TypeError(f"not a shape: {shape!r}")


def _kind(value: Any) -> str:
    return {type(None): "null", bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _kind_of_type(kind: type) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(kind, kind.__name__)


def read_state_json(
    path: str | os.PathLike,
    what: str,
    *,
    fix: str,
    shape: Shape = None,
    parse: Callable[[Any], T] | None = None,
) -> T | Any:
    """The JSON of state file ``path`` (``what`` it is, e.g. "the sync cursor"), checked against ``shape``
    and passed through ``parse`` (whose ValueError, KeyError or TypeError also means a corrupt file).

    `StateFileError` when the file is not UTF-8, not JSON, or the wrong shape (its message ends with
    ``fix``); `OSError` (FileNotFoundError included) when it cannot be read at all."""
    raw = Path(path).read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StateFileError(path, what, f"not UTF-8 text: byte {exc.start} is {raw[exc.start:exc.start + 1]!r}",
                             fix) from None
    except json.JSONDecodeError as exc:
        raise StateFileError(path, what, f"not valid JSON: {exc.msg}, line {exc.lineno} column {exc.colno}",
                             fix) from None
    if shape is not None and (problem := shape_problem(data, shape)):
        raise StateFileError(path, what, f"wrong shape: {problem}", fix)
    if parse is None:
        return data
    try:
        return parse(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise StateFileError(path, what, f"wrong content: {exc}", fix) from None


def read_state_parquet(
    path: str | os.PathLike,
    what: str,
    *,
    fix: str,
    columns: list[str] | None = None,
    required: Mapping[str, pa.DataType] | pa.Schema | None = None,
) -> pa.Table:
    """The ``columns`` of Parquet state file ``path``, which must hold the ``required`` columns with those
    types. `StateFileError` when it is not readable Parquet or lacks a column; `OSError` (FileNotFoundError
    included) when it cannot be read at all. The file is opened once, so a file renamed over it meanwhile
    is never read half old, half new."""
    if isinstance(required, pa.Schema):
        required = {field.name: field.type for field in required}
    try:
        with open(path, "rb") as handle:
            parquet = pq.ParquetFile(handle)
            schema = parquet.schema_arrow
            for name, kind in (required or {}).items():
                if name not in schema.names:
                    raise StateFileError(path, what, f"wrong shape: the column {name!r} is missing", fix)
                if not schema.field(name).type.equals(kind):
                    raise StateFileError(path, what, f"wrong shape: the column {name!r} is "
                                                     f"{schema.field(name).type}, not {kind}", fix)
            missing = [c for c in columns or [] if c not in schema.names]
            if missing:
                raise StateFileError(path, what, f"wrong shape: the column {missing[0]!r} is missing", fix)
            return parquet.read(columns=columns)
    except (OSError, pa.ArrowException) as exc:
        if not is_corrupt_parquet_error(exc):
            raise  # the machine's fault (or the file is gone, or memory ran out), not the file's
        raise StateFileError(path, what, f"not readable Parquet: {_first_line(exc)}", fix) from None


def is_corrupt_parquet_error(exc: BaseException) -> bool:
    """Whether an error of reading Parquet from an open file says that its *content* is bad (Arrow's
    invalid-data errors, or its errno-less OSError for an undecodable footer), not that the machine failed
    (an OSError with an errno: EMFILE, EIO, ENOENT, …; Arrow running out of memory or being cancelled)."""
    if isinstance(exc, MemoryError | pa.ArrowCancelled):  # ArrowMemoryError is an ArrowException too
        return False
    if isinstance(exc, OSError):
        return exc.errno is None and not isinstance(exc, FileNotFoundError)
    return isinstance(exc, pa.ArrowException)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
