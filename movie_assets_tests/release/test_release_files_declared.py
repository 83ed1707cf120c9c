"""The release's file list is declared once (`checksums.RELEASE_GROUPS`), and `release_checksums` depends on
every asset that writes a listed file, so a run of any of them (the poster embeddings too) is followed by fresh
checksums."""

from __future__ import annotations

import dagster as dg

from movie_assets import definitions
from movie_assets.lake import Lake
from movie_assets.release import checksums


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_every_writer_of_a_listed_file_is_a_dependency_of_release_checksums(tmp_path):
    lake = Lake.at(tmp_path / "data")
    # One file of each kind the release lists, with the asset that writes it (read from each asset's code).
    written_by = {
        _touch(lake.movies_year_file(1999)): {"movies", "catalog_sync"},
        _touch(lake.movies_year_file(None)): {"undated_movies", "catalog_sync"},
        _touch(lake.embeddings_year_file(1999)): {"movie_embeddings"},
        _touch(lake.embeddings_year_file(None)): {"undated_movie_embeddings"},
        _touch(lake.movies_file): {"movies_db"},
        _touch(lake.tombstones_file): {"movies_db"},
        _touch(lake.sample_file): {"movies_sample"},
        _touch(lake.profile_file): {"data_profile"},
        _touch(lake.splits_dir / "train.parquet"): {"movie_splits"},
        _touch(lake.root / "movies_1999-01-01_1999-12-31.csv"): {"movies_csv_export"},
        _touch(lake.index_dir_for("movies") / "index.faiss"): {"movie_index"},
        _touch(lake.posters_year_file(1999)): {"movie_posters"},
        _touch(lake.posters_year_file(None)): {"undated_movie_posters"},
        _touch(lake.poster_vectors_year_file(1999)): {"poster_embeddings"},
        _touch(lake.poster_vectors_year_file(None)): {"undated_poster_embeddings"},
        _touch(lake.item_modalities_file): {"item_modalities"},
        _touch(lake.index_dir_for("posters") / "index.faiss"): {"poster_index"},
    }
    _touch(lake.index_dir_for("movies") / ".build-1" / "partial")  # a build folder is never released
    assert sorted(checksums.release_files(lake)) == sorted(written_by)

    graph = definitions.defs().resolve_asset_graph()
    parents = {key.to_user_string() for key in graph.get(dg.AssetKey("release_checksums")).parent_keys}
    writers = set().union(*written_by.values())
    assert writers <= parents, f"write release files but are not dependencies: {sorted(writers - parents)}"
    for group in checksums.RELEASE_GROUPS:  # the declaration names assets that exist, each a dependency
        assert set(group.writers) <= parents, group.what
