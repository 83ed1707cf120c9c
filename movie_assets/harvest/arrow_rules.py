"""Arrow building blocks of the columnar payload reading (`columnar`, `columnar_fields`): the Arrow forms of
`payload_fields.blank_to_none`, of "a field of an object that may be absent", and of list columns taken
apart into flat values and per-row counts, filtered, sorted and put back together.

A batch these blocks cannot read as the Python rules would raises `Unusual`; the caller then reads that
batch row by row with the Python rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Exactly the characters for which Python's str.isspace() is true (what `blank_to_none`'s strip() removes).
_PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_BLANK = "^[" + "".join(f"\\x{{{ord(c):04x}}}" for c in _PY_WHITESPACE) + "]*$"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class Unusual(Exception):
    """The batch strays from what the columnar reading handles: read it row by row."""


def combined(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def blank_to_null(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`blank_to_none`: a string that is empty or only whitespace (as Python's str.isspace()) becomes null."""
    blank = pc.match_substring_regex(values, _BLANK)
    return combined(pc.if_else(blank, pa.scalar(None, pa.string()), values))


def struct_field(values: pa.Array | pa.ChunkedArray, name: str) -> pa.Array:
    """A field of a struct column; a null struct gives a null field."""
    array = combined(values)
    field = pc.struct_field(array, name)
    return pc.if_else(pc.is_valid(array), field, pa.scalar(None, field.type))


class Lists:
    """A list column as flat ``values``, per-row ``counts`` (a null list counts as empty, as ``or []``) and
    ``valid`` (which rows had a list at all)."""

    def __init__(self, values: pa.Array, counts: np.ndarray, valid: np.ndarray):
        self.values = values
        self.counts = counts
        self.valid = valid

    @property
    def parents(self) -> np.ndarray:
        """The row of each flat value."""
        return np.repeat(np.arange(len(self.counts)), self.counts)

    def take(self, positions: np.ndarray) -> Lists:
        """The flat values at ``positions`` (ascending by row), with counts per row recomputed."""
        counts = np.bincount(self.parents[positions], minlength=len(self.counts)) if len(positions) else \
            np.zeros(len(self.counts), np.int64)
        return Lists(self.values.take(pa.array(positions, pa.int64())), counts, self.valid)


def as_lists(values: pa.Array | pa.ChunkedArray) -> Lists:
    """Take a list column apart; a null element inside a list is `Unusual` (the Python rules skip it)."""
    values = combined(values)
    flat = pc.list_flatten(values)
    if flat.null_count:
        raise Unusual("a null inside a list")
    counts = pc.fill_null(pc.list_value_length(values), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return Lists(flat, counts, pc.is_valid(values).to_numpy(zero_copy_only=False))


def offsets(counts: np.ndarray) -> pa.Array:
    return pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))


def relist(lists: Lists, values: pa.Array, *, keep_nulls: bool = False) -> pa.Array:
    """``values`` (one per flat value of ``lists``) as a list column; with ``keep_nulls`` a row that had no
    list stays null, else it is an empty list."""
    mask = None if not keep_nulls or lists.valid.all() else pa.array(~lists.valid)
    return pa.ListArray.from_arrays(offsets(lists.counts), values, mask=mask)


def where(mask: pa.Array | np.ndarray) -> np.ndarray:
    """The positions where a boolean column is true (null counts as false)."""
    if not isinstance(mask, np.ndarray):
        mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(mask)


def sorted_positions(parents: np.ndarray, keys: Sequence[tuple[str, pa.Array]]) -> np.ndarray:
    """Positions of flat values sorted by row, then by ``keys`` (name, column; ascending, nulls last); ties
    keep their order (Arrow's sort is stable)."""
    table = pa.table({"_row": pa.array(parents, pa.int64()), **{name: combined(column) for name, column in keys}})
    order = pc.sort_indices(table, sort_keys=[("_row", "ascending", "at_end")]
                            + [(name, "ascending", "at_end") for name, _ in keys])
    return order.to_numpy()


def first_of_groups(parents: np.ndarray, keys: Sequence[pa.Array]) -> np.ndarray:
    """The position of the first flat value of each (row, *keys) group, ascending (a null key is a key too)."""
    columns = {"_row": pa.array(parents, pa.int64()), "_at": pa.array(np.arange(len(parents)), pa.int64())}
    names = []
    for i, key in enumerate(keys):
        key = combined(key)
        columns[f"_null{i}"] = pc.is_null(key)
        columns[f"_key{i}"] = key
        names += [f"_null{i}", f"_key{i}"]
    firsts = pa.table(columns).group_by(["_row", *names], use_threads=False).aggregate([("_at", "min")])
    return np.sort(firsts.column("_at_min").to_numpy())


def row_minimum(parents: np.ndarray, values: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The smallest of ``values`` per row (of ``rows``), and which rows had any."""
    result = np.zeros(rows, values.dtype)
    present = np.zeros(rows, bool)
    if len(values):
        order = np.lexsort((values, parents))
        rows_sorted = parents[order]
        first = np.r_[True, rows_sorted[1:] != rows_sorted[:-1]]
        result[rows_sorted[first]] = values[order][first]
        present[rows_sorted[first]] = True
    return result, present


def calendar_times(text: pa.Array, width: int, pattern: str, fmt: str, type_: pa.DataType) -> pa.Array:
    """As Python reads a date or time (`payload_fields.event_date`, `published_at`, `records.parse_date`): the
    first ``width`` characters if they match ``pattern`` and are a calendar time (``type_``), else null."""
    head = pc.utf8_slice_codeunits(text, 0, width)
    head = pc.if_else(pc.fill_null(pc.match_substring_regex(head, pattern), False), head, pa.scalar(None, pa.string()))
    parsed = pc.strptime(head, format=fmt, unit="s", error_is_null=True)
    # Arrow's strptime rolls over what Python refuses (February 30, second 60) and reads year 0: a time counts
    # only when it prints back as its text, in Python's years.
    same = pc.and_(pc.equal(pc.strftime(parsed, format=fmt), head), pc.greater_equal(pc.year(parsed), 1))
    parsed = pc.cast(pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type)), pa.timestamp("us"))
    return pc.cast(parsed, type_) if type_ == pa.date32() else pc.assume_timezone(parsed, "UTC")
