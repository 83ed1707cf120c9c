"""The translated text of `movies`: per wanted language, ``title_<l>``/``overview_<l>`` picked from the typed
reading's translations, with the primary (English) text as a flagged fallback.

For a language ``de`` the translations of any country count (``de-DE`` before ``de-AT``: countries in
order); ``pt-BR`` takes only Brazil's. Each field is taken from the first translation that has it, so a
translation with a title but no overview gives the title and falls back for the overview.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.arrow_rules import as_lists, relist, sorted_positions, where
from movie_assets.lake.schema import TRANSLATIONS, column_suffix


def translated_columns(translations: pa.Array, title: pa.Array, overview: pa.Array,
                       languages: tuple[str, ...]) -> dict[str, pa.Array]:
    """``title_<l>, overview_<l>, title_<l>_fallback, overview_<l>_fallback`` for each of ``languages``."""
    columns: dict[str, pa.Array] = {}
    if not languages:
        return columns
    lists = as_lists(translations)
    flat = lists.values
    order = sorted_positions(lists.parents, [("country", pc.struct_field(flat, "country"))])
    flat, parents = flat.take(pa.array(order, pa.int64())), lists.parents[order]
    for tag in languages:
        language, _, country = tag.partition("-")
        match = pc.equal(pc.struct_field(flat, "language"), language)
        if country:
            match = pc.and_(match, pc.equal(pc.struct_field(flat, "country"), country))
        suffix = column_suffix(tag)
        for name, primary in (("title", title), ("overview", overview)):
            text = pc.struct_field(flat, name)
            chosen = where(pc.and_(match, pc.is_valid(text)))
            rows, first = np.unique(parents[chosen], return_index=True)
            picked = np.full(len(lists.counts), -1, np.int64)
            picked[rows] = chosen[first]
            found = picked >= 0
            values = text.take(pa.array(np.where(found, picked, 0), pa.int64(), mask=~found))
            columns[f"{name}_{suffix}"] = pc.if_else(pa.array(found), values, primary)
            columns[f"{name}_{suffix}_fallback"] = pa.array(~found)
    return columns


def without_unwanted_appends(missing: pa.Array, languages: tuple[str, ...]) -> pa.Array:
    """``missing_appends`` as the lake sees it: ``translations`` counts only when other languages are wanted."""
    if languages:
        return missing
    lists = as_lists(missing)
    keep = where(pc.not_equal(lists.values, TRANSLATIONS))
    return relist(lists.take(keep), lists.values.take(pa.array(keep, pa.int64())))
