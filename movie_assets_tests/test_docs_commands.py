"""The docs' commands still run as printed, and the docs hold together.

Convention — runnable blocks: a fenced shell block whose opening fence reads

    ```bash runnable

(in README.md, docs/*.md or a domain README movie_assets/defs/<domain>/README.md) is safe to run on the demo
lake. `test_runnable_block` runs each one with ``bash -e -o pipefail`` (cwd = the repository root, a timeout
per block) against a small lake that the `lake` fixture builds in a temporary directory on the built-in TMDb
emulator: ``MOVIE_ASSETS_DATA_DIR`` and ``DAGSTER_HOME`` point there, ``TMDB_EMULATOR_MOVIES_PER_YEAR`` is
small, and the TMDb credentials, base URLs and ``DAGSTER_PG_HOST`` are set blank (so a developer's ``.env``
cannot add them: nothing reaches the network). Never mark a block that downloads, needs a TMDb key, starts a
long-lived server (``make ui``, ``dg dev``), runs the full demo or takes minutes on a real catalog (the first
``movie-assets sync``). The blocks share the fixture's lake (one module-scoped build) and may add to it
(a run, a started sensor); each must pass whatever ran before it.

``.venv/bin/...`` in a block means the project's virtual environment. A checkout without one (a git worktree
using another checkout's environment) runs its blocks with ``.venv`` rewritten to the environment running
this test; ``PYTHONPATH`` puts this checkout first, so the commands run this checkout's code.

The fixture builds the lake with the public commands only (no library imports): ``movie-assets instance
init``, ``movie-assets sync`` (every year of the small emulator catalog and ``movies_db``), then
``dg launch --assets 'group:release'`` (in-process executor) for the sample, profile, splits, CSV and checksums.

The other tests are quick: README.md is a short front door (≤ 150 lines, the two commands, the TMDb
attribution), relative links (and ``#anchors`` into markdown files) of those files, BENCHMARKS.md and
data/README.md point to what exists, and BENCHMARKS.md is what benchmarks/run_all.py renders from
benchmarks/results.json; and every printed Dagster command (``dg launch``, ``dagster sensor|schedule start``,
``dagster job backfill``, runnable or not) names jobs, assets, config, sensors and schedules that exist.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "movie_assets" / "defs").glob("*/README.md")]
)
LINKED_FILES = [*DOC_FILES, ROOT / "BENCHMARKS.md", ROOT / "data" / "README.md"]
README_MAX_LINES = 150
ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
BLOCK_TIMEOUT_SECONDS = 300
EMULATOR_MOVIES_PER_YEAR = "20"  # ~800 movies over the emulator's 127 years: a full sync takes seconds

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
RUNNABLE_INFO = re.compile(r"^\s*(bash|sh|shell)\s+runnable\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    info: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def runnable(self) -> bool:
        return bool(RUNNABLE_INFO.match(self.info))


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced code block of a markdown file, with its info string."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, body, j = opening["fence"], [], i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence) \
                    and not closing["info"].strip():
                break
            body.append(lines[j])
            j += 1
        blocks.append(Block(path, i + 1, opening["info"].strip(), "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def runnable_blocks() -> list[Block]:
    return [block for path in DOC_FILES for block in fenced_blocks(path) if block.runnable]


RUNNABLE = runnable_blocks()


# -- the environment the commands run in -------------------------------------------------------------------
def venv_dir() -> Path:
    """The checkout's own `.venv`, else the environment running this test."""
    own = ROOT / ".venv"
    return own if (own / "bin").is_dir() else Path(sys.prefix)


def as_printed_here(text: str) -> str:
    """The block, with `.venv` pointing at `venv_dir()` when the checkout has no `.venv` of its own."""
    venv = venv_dir()
    if venv == ROOT / ".venv":
        return text
    text = re.sub(r"\$PWD/\.venv\b", str(venv), text)
    return re.sub(r"(?<![\w./-])\.venv/bin/", f"{venv}/bin/", text)


def base_env(data_dir: Path, dagster_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TMDB_", "MOVIE_ASSETS_", "DAGSTER_PG_")) and k not in ("VIRTUAL_ENV", "DAGSTER_HOME")}
    bin_dir = venv_dir() / "bin"
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        "MOVIE_ASSETS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(dagster_home),
        "TMDB_EMULATOR_MOVIES_PER_YEAR": EMULATOR_MOVIES_PER_YEAR,
        # Blank, not unset: python-dotenv never overrides a variable that exists, so a developer's .env cannot
        # point these commands at real TMDb or a PostgreSQL instance.
        "TMDB_READ_ACCESS_TOKEN": "",
        "TMDB_API_KEY": "",
        "TMDB_BASE_URL": "",
        "TMDB_EXPORTS_BASE_URL": "",
        "DAGSTER_PG_HOST": "",
    })
    return env


def run(command: list[str], env: dict[str, str], timeout: float = BLOCK_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def tail(text: str, n: int = 4000) -> str:
    return text[-n:]


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> dict[str, str]:
    """A small lake on the built-in emulator, built with the public commands; the blocks' environment."""
    if not (venv_dir() / "bin" / "movie-assets").exists():
        pytest.fail(f"no movie-assets console script in {venv_dir()}: install the project (make install)")
    root = tmp_path_factory.mktemp("docs-lake")
    data_dir, dagster_home = root / "data", root / "dagster_home"
    dagster_home.mkdir()
    env = base_env(data_dir, dagster_home)
    bin_dir = venv_dir() / "bin"
    in_process = json.dumps({"execution": {"config": {"in_process": {}}}})
    for command in (
        [str(bin_dir / "movie-assets"), "instance", "init"],
        [str(bin_dir / "movie-assets"), "sync"],
        [str(bin_dir / "dg"), "launch", "--assets", "group:release", "--config-json", in_process],
    ):
        result = run(command, {**env, "VIRTUAL_ENV": str(venv_dir())})
        assert result.returncode == 0, f"{' '.join(command[-3:])} failed:\n{tail(result.stdout)}\n{tail(result.stderr)}"
    assert (data_dir / "movies.duckdb").exists() and (root / "reports" / "checksums.txt").exists()
    return env


def test_the_docs_mark_runnable_blocks():
    """The convention is in use (a fence typo would silently run nothing), in the README and the manual."""
    files = {block.path for block in RUNNABLE}
    assert ROOT / "README.md" in files
    assert any(path.parent == ROOT / "docs" for path in files)


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_runnable_block(block: Block, lake: dict[str, str]):
    script = as_printed_here(block.text)
    try:
        result = run(["bash", "-e", "-o", "pipefail", "-c", script], lake)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{block.id} took more than {exc.timeout:.0f}s:\n{script}")
    assert result.returncode == 0, (
        f"{block.id} exited {result.returncode}:\n{script}\n--- stdout\n{tail(result.stdout)}\n"
        f"--- stderr\n{tail(result.stderr)}"
    )


# -- the front door -----------------------------------------------------------------------------------------
def test_readme_is_a_short_front_door():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    assert ATTRIBUTION in text
    commands = "\n".join(b.text for b in fenced_blocks(ROOT / "README.md"))
    assert re.search(r"^make demo\b", commands, re.M) and re.search(r"^make test\b", commands, re.M)


# -- links ----------------------------------------------------------------------------------------------------
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def without_fences(path: Path) -> str:
    """The file without its fenced blocks (where `#` starts a comment and `[x](y)` is code, not a link)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fenced = {n for block in fenced_blocks(path)
              for n in range(block.line - 1, block.line + block.text.count("\n") + 1)}
    return "\n".join(line for n, line in enumerate(lines) if n not in fenced)


def links(path: Path) -> list[str]:
    """Link targets of the prose (inline code removed; a link whose text is code keeps an empty text)."""
    return LINK.findall(re.sub(r"(`+)(?:(?!\1).)+\1", "", without_fences(path)))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in without_fences(path).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base, n = slug(heading[1]), 0
            while (candidate := base if n == 0 else f"{base}-{n}") in found:
                n += 1
            found.add(candidate)
    return found


@pytest.mark.parametrize("path", LINKED_FILES, ids=[str(p.relative_to(ROOT)) for p in LINKED_FILES])
def test_relative_links_point_to_what_exists(path: Path):
    broken = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: …
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            broken.append(f"{target} (no {resolved})")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target} (no heading #{anchor} in {resolved.relative_to(ROOT)})")
    assert not broken, f"{path.relative_to(ROOT)}: broken links:\n" + "\n".join(broken)


# -- BENCHMARKS.md -------------------------------------------------------------------------------------------
def test_benchmarks_md_is_what_run_all_renders_from_results_json():
    spec = importlib.util.spec_from_file_location("benchmarks_run_all", ROOT / "benchmarks" / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = run_all  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(run_all)
    finally:
        del sys.modules[spec.name]
    payload = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    assert (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8") == run_all.markdown_from_results(payload)


# -- every printed Dagster command names what exists --------------------------------------------------------------
SHELL_INFO = re.compile(r"^\s*(bash|sh|shell)\b")


def dagster_commands() -> list[tuple[str, list[str]]]:
    """(block id, words) of each `dg launch`, `dagster sensor|schedule start` and `dagster job backfill` line of
    every shell block, runnable or not (most domain README blocks are not: they need a key or take minutes)."""
    import shlex

    found = []
    for path in DOC_FILES:
        for block in fenced_blocks(path):
            if not SHELL_INFO.match(block.info):
                continue
            for line in block.text.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                programs = [Path(w).name for w in words if "=" not in w]
                if programs[:2] == ["dg", "launch"] or programs[:1] == ["dagster"] and (
                        {"start", "backfill"} & set(programs)):
                    found.append((block.id, words))
    return found


def test_printed_dagster_commands_name_existing_jobs_assets_sensors_and_config():
    """Jobs, asset selections, ``--config-json``, sensors and schedules of every printed command resolve in the
    project's Definitions, so a rename cannot leave the domain READMEs behind (their blocks are not run)."""
    import dagster as dg

    from movie_assets import definitions

    repo = definitions.defs().get_repository_def()
    sensors, schedules = {s.name for s in repo.sensor_defs}, {s.name for s in repo.schedule_defs}
    commands = dagster_commands()
    assert len(commands) >= 20, "the docs print fewer Dagster commands than expected: is the parser still right?"
    wrong = []
    for where, words in commands:
        def option(name: str, words=words) -> str | None:
            return words[words.index(name) + 1] if name in words else None

        try:
            if "launch" in words:
                if option("--job"):
                    job = repo.get_job(option("--job"))
                else:
                    parts = option("--assets").split(",")
                    for part in parts:  # `dg launch` unions them: each must select something
                        assert dg.AssetSelection.from_coercible([part]).resolve(repo.asset_graph), f"{part}: no asset"
                    keys = dg.AssetSelection.from_coercible(parts).resolve(repo.asset_graph)
                    job = repo.get_implicit_job_def_for_assets(keys).get_subset(asset_selection=keys)
                if option("--config-json"):
                    dg.validate_run_config(job, json.loads(option("--config-json")))
            elif "backfill" in words:
                repo.get_job(option("-j"))
            else:
                kind = "sensor" if "sensor" in words else "schedule"
                name = words[words.index("start") + 1]
                assert name in (sensors if kind == "sensor" else schedules), f"no {kind} {name}"
        except Exception as exc:  # noqa: BLE001 - every kind of miss is reported with its block
            wrong.append(f"{where}: {' '.join(words)}\n    {type(exc).__name__}: {exc}")
    assert not wrong, "\n".join(wrong)
