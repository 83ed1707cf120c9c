"""Reading a source's files: each input recorded (`input_file`), and columns converted so that a bad value is a
`SourceError` naming the file, the column and the first bad row, never an Arrow traceback.

Conversions are vectorised; only a failed one looks for its row, by bisection (`first_failure`), so a bad row
near the end of a large file costs a few more conversions, not a loop over the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake import file_sha256
from movie_assets.recsys.events import InputFile, SourceError

UTC_SECONDS = pa.timestamp("s", tz="UTC")
_IMDB = r"^(tt)?[0-9]{1,10}$"
_EPOCH = r"^[+-]?[0-9]+$"
# A time of day followed by a zone (Z or an offset): parsed as zoned; any other ISO-8601 text is naive (UTC).
_ZONED = r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
FIRST_SECOND, LAST_SECOND = -62_135_596_800, 253_402_300_799  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z
_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


@dataclass(frozen=True)
class Rows:
    """How to name a row of one file in a message: ``<file>, line 7`` for a CSV (its header is line 1)."""

    where: str
    first: int = 2  # the number of the first data row
    unit: str = "line"

    def at(self, index: int) -> str:
        """How a message names the row at ``index`` (0: the first data row)."""
        return f"{self.where}, {self.unit} {self.first + index}"


def input_file(kind: str, path: Path, setting: str) -> InputFile:
    """``path`` recorded as an input (absolute path, sha256, size); `SourceError` naming ``setting`` when it is
    no readable file."""
    if not path.is_file():
        raise SourceError(f"{setting}: {path} is not a file; give the path of the file to read")
    try:
        return InputFile(kind, str(path.resolve()), file_sha256(path), path.stat().st_size)
    except OSError as exc:
        raise SourceError(f"{setting}: {path} cannot be read ({exc.strerror or exc})") from None


def first_failure(values: pa.Array, convert: Callable[[pa.Array], Any]) -> int:
    """The index of the first value ``convert`` refuses (``convert`` refuses ``values`` as a whole)."""
    low, high = 0, len(values)  # the first failure lies in values[low:high]
    while high - low > 1:
        middle = (low + high) // 2
        try:
            convert(values.slice(low, middle - low))
        except _CONVERSION_ERRORS:
            high = middle
        else:
            low = middle
    return low


def _refused(values: pa.Array, index: int, rows: Rows, column: str, what: str) -> SourceError:
    return SourceError(f"{rows.at(index)}: column {column} has {values[index].as_py()!r}, which is not {what}; "
                       "correct that row")


def convert(values: pa.Array, type_: pa.DataType, rows: Rows, column: str, what: str) -> pa.Array:
    """``values`` cast to ``type_`` (nulls stay null); `SourceError` naming the first value that is not ``what``."""
    cast = lambda part: pc.cast(part, type_)  # noqa: E731
    try:
        return cast(values)
    except _CONVERSION_ERRORS:
        raise _refused(values, first_failure(values, cast), rows, column, what) from None


def require(values: pa.Array, rows: Rows, column: str) -> None:
    """`SourceError` naming the first empty (null) value of ``column``."""
    if values.null_count:
        index = pc.index(pc.is_null(values), True).as_py()
        raise SourceError(f"{rows.at(index)}: column {column} is empty; every row needs one")


def refuse_where(bad: pa.Array, values: pa.Array, rows: Rows, column: str, what: str) -> None:
    """`SourceError` naming the first value where ``bad`` (a boolean mask; null counts as good) holds."""
    bad = pc.fill_null(bad, False)
    if pc.any(bad).as_py():
        raise _refused(values, pc.index(bad, True).as_py(), rows, column, what)


def normalize_imdb(values: pa.Array, rows: Rows, column: str) -> pa.Array:
    """IMDb ids as the lake spells them (``tt`` and at least 7 digits: ``114709`` → ``tt0114709``); nulls and
    empty strings become null."""
    values = pc.utf8_trim_whitespace(convert(values, pa.string(), rows, column, "text"))
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    refuse_where(pc.invert(pc.match_substring_regex(values, _IMDB)), values, rows, column,
                 "an IMDb id (digits, optionally after 'tt', as in tt0114709)")
    digits = pc.utf8_lpad(pc.replace_substring_regex(values, "^tt", ""), 7, "0")
    return pc.binary_join_element_wise("tt", digits, "")


def _seconds_of_text(text: pa.Array, zoned: bool) -> np.ndarray:
    type_ = pa.timestamp("us", tz="UTC") if zoned else pa.timestamp("us")
    micros = pc.cast(pc.cast(text, type_), pa.int64()).to_numpy(zero_copy_only=False)
    return micros // 1_000_000  # floor: 1969-12-31T23:59:59.5 is second -1


def parse_timestamps(values: pa.Array, rows: Rows, column: str) -> pa.Array:
    """`_parse_timestamps`, refusing a time outside years 1–9999 (no datetime holds it; epoch milliseconds given
    as seconds are one) instead of letting it crash or sort after every real event downstream."""
    seconds = _parse_timestamps(values, rows, column)
    refuse_where(pc.or_(pc.less(seconds, FIRST_SECOND), pc.greater(seconds, LAST_SECOND)), values, rows, column,
                 "a time in years 1-9999 as epoch seconds (milliseconds? divide by 1000) or ISO-8601")
    return seconds.cast(UTC_SECONDS)


def _parse_timestamps(values: pa.Array, rows: Rows, column: str) -> pa.Array:
    """``values`` as UTC seconds (int64): epoch seconds (integers, or text of digits), ISO-8601 text with a zone or
    without one (naive: UTC), or Arrow timestamps and dates (naive: UTC). `SourceError` names the first
    value that is none of these."""
    require(values, rows, column)
    kind = values.type
    what = "epoch seconds or an ISO-8601 time (2024-05-01T12:00:00Z)"
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        micros = pc.cast(values, pa.timestamp("us", tz=getattr(kind, "tz", None)))
        seconds = pc.cast(micros, pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000
        return pa.array(seconds, pa.int64())
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return convert(values, pa.int64(), rows, column, f"whole {what}")
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise SourceError(f"{rows.where}: column {column} holds {kind}, not {what}")
    text = pc.utf8_trim_whitespace(values)
    seconds = np.zeros(len(text), np.int64)
    epoch = pc.match_substring_regex(text, _EPOCH)
    zoned = pc.and_(pc.invert(epoch), pc.match_substring_regex(text, _ZONED))
    naive = pc.invert(pc.or_(epoch, zoned))
    parsers = ((epoch, lambda part: pc.cast(part, pa.int64()).to_numpy(zero_copy_only=False)),
               (zoned, lambda part: _seconds_of_text(part, True)),
               (naive, lambda part: _seconds_of_text(part, False)))
    for mask, parse in parsers:
        where = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        part = text.take(pa.array(where, pa.int64()))
        try:
            seconds[where] = parse(part)
        except _CONVERSION_ERRORS:
            raise _refused(text, int(where[first_failure(part, parse)]), rows, column, what) from None
    return pa.array(seconds, pa.int64())
