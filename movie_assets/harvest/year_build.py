"""The year build: ``movies[Y]`` (and the undated partition) from the details store, replaced atomically.

A year holds the latest good version of every live movie whose current release date is in it, so a movie is
in exactly one partition; what discover found for the year must have been fetched first. The per-year path
(`movie_assets.harvest.stages`) and the catalog sync (`movie_assets.harvest.sync`) both build through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.columnar import (
    PAYLOADS_SCHEMA,
    TYPED_FINGERPRINT,
    TYPED_TYPE,
    movies_from_typed,
    typed_fields,
)
from movie_assets.harvest.errors import IngestError
from movie_assets.harvest.reconcile import (
    Difference,
    differing_years,
    expected_rows,
    lake_rows,
    years_built_otherwise,
)
from movie_assets.harvest.records import MOVIES_ORDER
from movie_assets.harvest.store import OK, DetailsStore
from movie_assets.lake import Lake, generations
from movie_assets.lake.languages import lake_languages, translated
from movie_assets.lake.locks import partitions_lock
from movie_assets.lake.policy import CatalogPolicy, resolve_policy
from movie_assets.lake.readers import discover_ids, load_reference
from movie_assets.lake.schema import BUILD_KEY, movies_schema

# How many movies' typed versions `build_years` reads from the store in one pass over its shards.
BATCH_MOVIES = 100_000
_TYPED_VERSIONS = pa.schema([*PAYLOADS_SCHEMA][:3] + [pa.field("typed", TYPED_TYPE)])


@dataclass
class StoreView:
    """The details store's latest observations under the catalog policy, read once for several builds."""

    store: DetailsStore
    latest: pa.Table
    policy: CatalogPolicy
    languages: tuple[str, ...] = ()  # the translated languages of the lake (`movie_assets.lake.languages`)

    @classmethod
    def load(cls, lake: Lake, policy: CatalogPolicy | None = None) -> StoreView:
        """The store as it is now, under ``policy`` (None: the lake's; another than the lake's is refused),
        for the lake's languages."""
        policy = resolve_policy(lake, policy)
        store = DetailsStore(lake.details_store_dir)
        return cls(store, store.latest(), policy, translated(lake_languages(lake)))

    @property
    def build_fingerprint(self) -> str:
        """What a year file built from this view records (`BUILD_KEY`): the typed reading's rules and the
        languages. A file recording another was built by other rules or columns: reconciliation rebuilds it."""
        return build_fingerprint(self.languages)

    @property
    def members(self) -> pa.Table:
        """The latest observations of the movies ``movies`` holds: good (not gone) and allowed by the policy."""
        latest = self.latest
        return latest.filter(pc.and_(pc.equal(latest.column("status"), OK), self.policy.mask(latest)))


def build_fingerprint(languages: tuple[str, ...]) -> str:
    """The `BUILD_KEY` value of a year file built with the current rules for ``languages``."""
    return f"{TYPED_FINGERPRINT};{','.join(languages)}"


def built_languages(schema: pa.Schema) -> tuple[str, ...]:
    """The translated languages a year file was built for, from its `BUILD_KEY` (none for a file without)."""
    _, _, languages = (schema.metadata or {}).get(BUILD_KEY.encode(), b"").decode().partition(";")
    return tuple(tag for tag in languages.split(",") if tag)


def build_years(lake: Lake, years: list[int | None], view: StoreView, **sizes: str) -> None:
    """Rebuild ``years`` (None: the undated partition) from one view of the store, together: under the
    partitions lock, so a movie that moved leaves its old year and joins its new one at once. Years are read
    from the store in batches of about `BATCH_MOVIES` movies, one pass over the shards per batch rather than
    per year (a sync that rebuilds every year would otherwise read every shard ~150 times)."""
    with partitions_lock(lake):
        for batch in _batches(years, view):
            selected = {year: _selected(view, year) for year in batch}
            together = pa.concat_tables(selected.values())
            versions = pa.concat_tables([_TYPED_VERSIONS.empty_table(),
                                         *view.store.latest_versions(together, "typed")])
            for year in batch:
                mine = versions.filter(pc.is_in(versions.column("movie_id"),
                                                value_set=selected[year].column("movie_id")))
                _build_partition(lake, year, view, sizes.get("poster_size", "w500"),
                                 sizes.get("backdrop_size", "w780"), versions=mine)


def _batches(years: list[int | None], view: StoreView) -> list[list[int | None]]:
    """``years`` in order, grouped so that each group holds at most `BATCH_MOVIES` movies (a bigger year alone)."""
    release_year = view.members.column("release_year")
    counts = pc.value_counts(release_year).to_pylist()
    size = {c["values"]: c["counts"] for c in counts}
    batches: list[list[int | None]] = []
    total = 0
    for year in years:
        n = size.get(year, 0)
        if not batches or total + n > BATCH_MOVIES:
            batches.append([])
            total = 0
        batches[-1].append(year)
        total += n
    return batches


def _selected(view: StoreView, year: int | None) -> pa.Table:
    """The latest observations of the movies partition ``year`` holds."""
    members = view.members
    release_year = members.column("release_year")
    return members.filter(pc.is_null(release_year) if year is None
                          else pc.fill_null(pc.equal(release_year, year), False))


def reconcile_years(lake: Lake, policy: CatalogPolicy | None = None) -> tuple[Difference, StoreView]:
    """Anti-entropy: rebuild, together, every partition that differs from the store (`differing_years`: a
    movie missing, extra, misplaced or stale, a file built by other rules), from one view of the store read
    under the partitions lock; returns the difference found and that view."""
    with partitions_lock(lake):  # a moved movie leaves its old year and joins its new one together
        view = StoreView.load(lake, policy)  # the store's index, read once for every rebuild
        difference = differing_years(lake_rows(lake, view.build_fingerprint), expected_rows(view.latest, view.policy))
        build_years(lake, difference.years, view)
    return difference, view


def build_year_and_moves(lake: Lake, year: int, policy: CatalogPolicy | None = None) -> tuple[pa.Table, list]:
    """The per-year path's build: ``movies[Y]``, and, together with it, every other partition that a movie of
    the year's discover list, of its partition or of its current members has to leave or join (a movie whose
    date moved to another year, even one no run harvests), and every partition holding a row that is
    misplaced or older than the store's version. Movies of other years that no partition holds yet are left
    to their own year's run (its details may still be arriving). Returns Y's table and the other years rebuilt."""
    with partitions_lock(lake):
        view = StoreView.load(lake, policy)
        actual, expected = lake_rows(lake, view.build_fingerprint), expected_rows(view.latest, view.policy)
        involved = pa.concat_arrays([
            actual.column("movie_id").combine_chunks(),  # every row the lake holds: moved, stale or gone
            discover_ids_array(lake, year),
            expected.filter(pc.equal(expected.column("year"), year)).column("movie_id").combine_chunks(),
        ])
        expected = expected.filter(pc.is_in(expected.column("movie_id"), value_set=involved))
        others = [y for y in differing_years(actual, expected).years if y != year]
        table = build_movies_year(lake, year, view=view)
        build_years(lake, others, view)
        return table, others


def discover_ids_array(lake: Lake, year: int) -> pa.Array:
    """The ids of ``year``'s discover list (empty when the year was never discovered)."""
    ids = discover_ids(lake, year) if lake.discover_file(year).exists() else []
    return pa.array(ids, pa.int64())


def build_movies_year(
    lake: Lake,
    year: int,
    *,
    require_discover: bool = True,
    view: StoreView | None = None,
    poster_size: str = "w500",
    backdrop_size: str = "w780",
) -> pa.Table:
    """Build ``year=Y/`` from the details store and replace it atomically.

    The year holds the latest good version of every movie whose current release date is in ``year`` and
    that the catalog policy allows, wherever it was discovered: a movie whose date moved leaves its old year
    and joins its new one (both years' builds see it), and a movie TMDb answers 404 for, or that left the
    export, is not a row at all. Every movie discovered in
    ``year`` must have been fetched first (``require_discover=False``: a year the catalog sync rebuilds,
    discovered or not).
    """
    discover_path = lake.discover_file(year)
    if require_discover and not discover_path.exists():
        raise IngestError(f"no discover output for {year}; materialize discover_movies for {year} first")
    with partitions_lock(lake):  # the store is read under the lock, so the last writer wrote the newest view
        return _build_year(lake, year, discover_path, view or StoreView.load(lake), poster_size, backdrop_size)


def _build_year(
    lake: Lake, year: int, discover_path: Path, view: StoreView, poster_size: str, backdrop_size: str
) -> pa.Table:
    fetched = set(view.latest.column("movie_id").to_pylist()) if discover_path.exists() else set()
    missing = [i for i in discover_ids(lake, year) if i not in fetched] if discover_path.exists() else []
    if missing:
        raise IngestError(
            f"{len(missing)} movies of {year} have no details yet (e.g. {missing[:5]}); "
            f"materialize movie_details for {year} first"
        )
    return _build_partition(lake, year, view, poster_size, backdrop_size)


def build_movies_undated(
    lake: Lake, *, view: StoreView | None = None, poster_size: str = "w500", backdrop_size: str = "w780"
) -> pa.Table:
    """Build the undated partition (``year=__HIVE_DEFAULT_PARTITION__/``, read as a NULL year) from the latest
    good version of every stored movie that has no release date, and replace it atomically — together with
    every year whose file was built by other rules or languages, so a generation is never built two ways."""
    with partitions_lock(lake):
        view = view or StoreView.load(lake)
        others = [y for y in years_built_otherwise(lake, view.build_fingerprint) if y is not None]
        table = _build_partition(lake, None, view, poster_size, backdrop_size)
        build_years(lake, others, view, poster_size=poster_size, backdrop_size=backdrop_size)
        return table


def _build_partition(
    lake: Lake,
    year: int | None,
    view: StoreView,
    poster_size: str,
    backdrop_size: str,
    versions: pa.Table | None = None,
) -> pa.Table:
    """Build one partition; ``versions``: its movies' typed versions, already read with other years'."""
    reference = load_reference(lake, year)
    selected = _selected(view, year)

    def typed(versions: pa.Table) -> pa.Table:
        unreadable = versions.filter(pc.is_null(versions.column("typed")))
        if unreadable.num_rows:  # a payload movie_row cannot read: its own error, as the row-by-row build gave
            records = view.store.records(selected.filter(pc.is_in(selected.column("movie_id"),
                                                                   value_set=unreadable.column("movie_id"))))
            typed_fields(pa.array([r.payload for r in records.values()], pa.string()))
        return movies_from_typed(versions, image_base_url=reference["image_base_url"], poster_size=poster_size,
                                 backdrop_size=backdrop_size, languages=view.languages)

    if versions is None:
        parts = view.store.latest_versions(selected, "typed", typed)  # one shard in memory at a time
    else:
        parts = [typed(versions)] if versions.num_rows else []
    found = sum(part.num_rows for part in parts)
    if found < selected.num_rows:
        raise IngestError(
            f"{selected.num_rows - found} movies lost their details to a corrupt store shard; "
            "materialize movie_details again to fetch them"
        )
    table = pa.concat_tables([movies_schema(view.languages).empty_table(), *parts]).sort_by(MOVIES_ORDER)
    if year is None and not table.num_rows:
        generations.remove_partition(lake, None)  # no undated movies: no empty partition either
    else:
        write_year_partition(lake, year, table.replace_schema_metadata({BUILD_KEY: view.build_fingerprint}))
    return table


def write_year_partition(lake: Lake, year: int | None, table: pa.Table) -> Path:
    """Write ``year=Y/part-<hash>.parquet`` (None: the undated partition; the partition column is dropped, as
    Hive layout implies) into the staging generation of the partitions lock's holder (taken here when the
    caller does not hold it): readers see it with the holder's other writes, when it releases the lock."""
    with partitions_lock(lake):
        return generations.write_partition_file(lake, year, table.drop_columns(["year"]))
