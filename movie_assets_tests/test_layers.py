"""The house rules, executable: imports follow the data.

Read from the source (AST), nothing imported: which package of ``movie_assets`` may import which, that no
module imports itself back at runtime (imports under ``if TYPE_CHECKING:`` excepted; imports inside functions
count, they run too), that Dagster stays in the wiring, and that modules stay small. ARCHITECTURE.md states the
same edges in words.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "movie_assets"
LIBRARIES = ("common", "lake", "tmdb", "harvest", "warehouse", "release", "embeddings", "posters", "recsys")

# Each part of the package and the parts it may import (its own modules always). The libraries follow the
# data: lake ← tmdb ← harvest ← warehouse ← {release, embeddings, posters} ← recsys. posters builds its FAISS index
# with the text index's builder, so it may import embeddings. The emulator serves what the client reads and
# depends on it, never the reverse. settings reads the environment for every part it configures.
_BELOW = {
    "common": set(),
    "lake": {"common"},
    "tmdb": {"common", "lake"},
    "harvest": {"common", "lake", "tmdb"},
    "warehouse": {"common", "lake", "tmdb", "harvest"},
    "release": {"common", "lake", "tmdb", "harvest", "warehouse"},
    "embeddings": {"common", "lake", "tmdb", "harvest", "warehouse"},
    "posters": {"common", "lake", "tmdb", "harvest", "warehouse", "embeddings"},
    "recsys": {"common", "lake", "tmdb", "harvest", "warehouse", "release", "embeddings", "posters"},
    "emulator": {"common", "lake", "tmdb"},
    "instance": {"common", "lake"},
    "cluster": {"common", "lake", "instance"},
    "settings": {"common", "lake", "tmdb", "embeddings", "posters", "instance"},
}
ALLOWED: dict[str, set[str]] = {
    **_BELOW,
    "wiring": {*LIBRARIES, "emulator", "instance", "settings"},
    "defs": {*LIBRARIES, "emulator", "instance", "settings", "wiring"},
    "cli": {*LIBRARIES, "emulator", "instance", "cluster", "settings", "wiring", "defs"},
    "definitions": {"settings", "wiring", "defs"},
    "__init__": set(),
}
DAGSTER_ALLOWED = {"defs", "wiring", "definitions", "cli"}
MAX_LINES = 450
LONG_BY_NATURE = {"emulator/vocab.py"}  # word lists of the emulator's catalog, not logic


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part_of(module: str) -> str:
    """``movie_assets.harvest.store`` → ``harvest``; ``movie_assets`` → ``__init__``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``); not those of ``if not TYPE_CHECKING:``,
    which run."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import of ``module`` that runs (TYPE_CHECKING blocks aside). ``from
    pkg import sub`` imports the submodule ``pkg.sub``; ``from pkg import name`` imports ``pkg``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield (submodule if submodule in MODULES else target), node.lineno


def internal_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _ in imports_of(module):
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module and target.startswith("movie_assets"):
                edges[module].add(target)
    return edges


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return cycles


def test_every_part_has_a_place_in_the_layers():
    assert {part_of(m) for m in MODULES} <= set(ALLOWED), "a new part of the package: give it its edges here"


def test_imports_follow_the_data():
    wrong = []
    for module, targets in internal_edges().items():
        source = part_of(module)
        for target in targets:
            if part_of(target) != source and part_of(target) not in ALLOWED[source]:
                wrong.append(f"{module} imports {target} ({source} may import {sorted(ALLOWED[source])})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle_at_runtime():
    assert find_cycles(internal_edges()) == []


def test_only_definitions_and_the_cli_import_defs():
    importers = sorted(
        m for m, targets in internal_edges().items()
        if part_of(m) not in {"defs", "definitions", "cli"} and any(part_of(t) == "defs" for t in targets)
    )
    assert importers == []


def is_dagster(name: str) -> bool:
    """``dagster`` and its packages (``dagster_duckdb``, ``dagster_shared``, ``dagster_pipes`` …)."""
    return name.split(".")[0] == "dagster" or name.startswith("dagster_")


def test_dagster_only_in_the_wiring():
    wrong = [
        f"{module}:{line} imports {name}"
        for module in MODULES
        if part_of(module) not in DAGSTER_ALLOWED
        for name, line in imports_of(module)
        if is_dagster(name)
    ]
    assert not wrong, "\n".join(wrong)


def test_modules_stay_small():
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in MODULES.values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and str(path.relative_to(PACKAGE)) not in LONG_BY_NATURE
    }
    assert long == {}, f"modules over {MAX_LINES} lines: split them by responsibility"


@pytest.mark.parametrize("source, target", [
    ("movie_assets.tmdb.client", "movie_assets.emulator"),
    ("movie_assets.harvest.stages", "movie_assets.warehouse.build"),
    ("movie_assets.wiring.metadata", "movie_assets.defs.ingest.assets"),
])
def test_the_rules_catch_a_wrong_edge(source, target):
    """The checks above can fail: a reversed edge is refused."""
    assert part_of(target) not in ALLOWED[part_of(source)]


def test_cycle_detection_finds_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_runtime_imports_under_a_guard_count(tmp_path, monkeypatch):
    """Only ``if TYPE_CHECKING:`` blocks are skipped; ``if not TYPE_CHECKING:`` runs, and so do its imports."""
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    from movie_assets.warehouse import build\n"
                     "if not TYPE_CHECKING:\n    import dagster_shared\n    from movie_assets.release import sample\n")
    monkeypatch.setitem(MODULES, "movie_assets.tmdb.probe", probe)
    assert {name for name, _ in imports_of("movie_assets.tmdb.probe")} == {
        "typing", "dagster_shared", "movie_assets.release.sample"}
    assert is_dagster("dagster_shared") and is_dagster("dagster._core") and not is_dagster("dagsterish")


def test_only_two_modules_read_dagsters_private_modules():
    """Dagster's private API changes without notice; the modules that need it are named, so an upgrade knows
    where to look: the backfills in progress (`wiring/internals.py`) and the run-launcher interface the Celery
    launcher builds on, as dagster-celery does (`wiring/celery.py`)."""
    readers = set()
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(m.startswith("dagster._") for m in modules):
                readers.add(name)
    assert readers == {"movie_assets.wiring.internals", "movie_assets.wiring.celery"}
