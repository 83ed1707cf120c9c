"""Throw-away virtual environments for the load-back tests: each framework pinned in its own, because they do not
install beside the project or beside each other (RecBole 1.2.1 needs NumPy < 2, Cornac 3.0.1 needs NumPy > 2).

An environment is built once per set of pins and cached outside the repository
(``$MOVIE_ASSETS_FRAMEWORK_VENVS``, default ``~/.cache/movie_assets/framework-venvs/<name>-<hash of the pins>``),
under a lock so two test processes never build one twice. Packages come from the configured package index only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ.get("MOVIE_ASSETS_FRAMEWORK_VENVS", Path.home() / ".cache" / "movie_assets" / "framework-venvs"))
INSTALL_TIMEOUT = 1800


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def framework_python(name: str, pins: list[str], pip_args: list[str] | None = None) -> Path:
    """The Python of a virtual environment holding ``pins`` (built on first use, then reused)."""
    key = hashlib.sha256("\n".join([sys.version, *pins, *(pip_args or [])]).encode()).hexdigest()[:12]
    home = ROOT / f"{name}-{key}"
    python = home / "bin" / "python"
    with _locked(ROOT / f".{name}-{key}.lock"):
        if (home / ".ready").exists():
            return python
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *(pip_args or []), *pins], check=True, timeout=INSTALL_TIMEOUT)
        (home / ".ready").write_text("\n".join(pins) + "\n")
    return python


def run_script(python: Path, script: str, *args: str, cwd: Path, timeout: int = 900) -> str:
    """Run ``script`` (Python source) with ``python`` in ``cwd``; its stdout, or an AssertionError with the tail of
    its output when it fails."""
    done = subprocess.run([str(python), "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"the framework script failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
                             f"{done.stderr[-6000:]}")
    return done.stdout


def load_back(name: str, pins: list[str], script: str, target: Path, cwd: Path, *args: str) -> dict:
    """Run a framework's load-back ``script`` on the export at ``target`` (then ``args``) in its pinned
    environment; the JSON object it prints last."""
    out = run_script(framework_python(name, pins), script, str(target), *args, cwd=cwd)
    return json.loads(out.strip().splitlines()[-1])
