"""The ``onnx-int8`` embedding backend: the packaged all-MiniLM-L6-v2 weights exported to ONNX here, on this
machine, quantized to int8 and run by onnxruntime on the CPU. Nothing is downloaded.

Export (once per cache key, tens of seconds at most; ~3 s on 2 cores): ``torch.onnx.export`` (the
TorchScript exporter, ``dynamo=False``: no onnxscript needed) of the transformer plus sentence-transformers'
pipeline for this model — mean pooling over the attention mask and L2 normalisation — inside the graph; then
``onnxruntime.quantization.quantize_dynamic`` with int8 weights **per output channel**, MatMul nodes only.
Per-tensor int8 weights (the quantizer's default) lose too much: mean cosine 0.945 and neighbour recall@10
0.80 against torch, where per-channel gives 0.99 and 0.90 (see README, "Embedding backends").

Cache: ``<cache dir>/all-MiniLM-L6-v2.<key>.int8.onnx`` plus a ``.json`` sidecar holding the file's sha256.
``key`` hashes the weights' sha256, the recipe below and the versions of torch, transformers, onnx and
onnxruntime, so any change that could change the graph exports anew. Both files are written atomically; a
missing or corrupt file (sha256 differs from the sidecar, or onnxruntime cannot load it) is exported again.
The key is also part of the backend's ``model_id``, so vectors of two different int8 models never mix.

Tokenization uses the model's own fast tokenizer (``tokenizer.json``), truncated at ``max_seq_length``
from ``sentence_bert_config.json`` (256) — not the 128 that ``tokenizer.json`` itself carries — and each batch
is padded to its longest text, texts sorted by token count first.

Dynamic quantization scales each batch's activations by that batch's range, so a vector depends very
slightly on the texts batched with it: the same texts in the same order give identical bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from movie_assets.embeddings.backend_choice import CPU, ONNX_INT8, EmbeddingBackend
from movie_assets.embeddings.model import (
    DEFAULT_SHA256,
    MODEL_NAME,
    ModelError,
    resolve_model_dir,
    stay_offline,
    verify_model,
)
from movie_assets.lake import atomic_path, file_sha256, json_text, write_json_atomic

OPSET = 17
RECIPE: dict[str, Any] = {
    "version": 1,
    "exporter": "torch.onnx.export(dynamo=False)",
    "opset": OPSET,
    "attention": "eager",
    "pooling": "mean over attention mask, in graph",
    "normalize": "l2, in graph",
    "quantize_dynamic": {"weight_type": "QInt8", "per_channel": True, "reduce_range": False,
                         "op_types_to_quantize": ["MatMul"]},
}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"
DEFAULT_MAX_SEQ_LENGTH = 256
FILE_STEM = MODEL_NAME.rsplit("/", 1)[-1]
CACHE_SETTING = "onnx_cache_dir"

Log = Callable[[str], None]


def default_cache_dir() -> Path:
    """Where the exported model goes when no cache dir is given: ``~/.cache/movie_assets/models``. The
    Dagster asset uses ``<data dir>/models`` instead."""
    return Path.home() / ".cache" / "movie_assets" / "models"


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def tool_versions() -> dict[str, str]:
    """Versions of everything that shapes the exported, quantized graph."""
    import onnx
    import onnxruntime
    import torch
    import transformers

    return {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__}


def pipeline_config(model_dir: Path) -> dict[str, Any]:
    """``max_seq_length`` and ``do_lower_case`` of the SentenceTransformer folder, after checking that its
    pipeline is Transformer → mean Pooling → Normalize (what the exported graph computes)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ModelError(
            f"cannot read the SentenceTransformer pipeline of {str(model_dir)!r} ({exc}); the {ONNX_INT8!r} backend "
            "needs modules.json and a Pooling config — use backend 'torch'"
        ) from exc
    means = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if kinds != ["Transformer", "Pooling", "Normalize"] or means != ["pooling_mode_mean_tokens"]:
        raise ModelError(f"the model at {str(model_dir)!r} is {' → '.join(kinds)} with {means or 'no'} pooling; the "
                         f"{ONNX_INT8!r} backend exports Transformer → mean Pooling → Normalize only — use backend "
                         "'torch'")
    try:
        st = json.loads((model_dir / "sentence_bert_config.json").read_text())
    except (OSError, ValueError):
        st = {}
    return {"max_seq_length": int(st.get("max_seq_length") or DEFAULT_MAX_SEQ_LENGTH),
            "do_lower_case": bool(st.get("do_lower_case", False))}


def cache_key(weights_sha256: str, pipeline: dict[str, Any], versions: dict[str, str] | None = None) -> str:
    """16 hex digits naming one exported int8 model: weights, pipeline, recipe and tool versions."""
    facts = {"weights_sha256": weights_sha256, "pipeline": pipeline, "recipe": RECIPE,
             "versions": versions if versions is not None else tool_versions()}
    return hashlib.sha256(json_text(facts).encode("utf-8")).hexdigest()[:16]


def cache_paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    """(the ONNX file, its sidecar) for ``key`` under ``cache_dir``."""
    model = cache_dir / f"{FILE_STEM}.{key}.int8.onnx"
    return model, model.with_suffix(".json")


@contextlib.contextmanager
def quiet_export() -> Iterator[None]:
    """Silence the exporter's tracer warnings and the quantizer's "consider pre-processing" note (logged on
    the root logger), which are expected for this model and say nothing to a user."""

    def drop(record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in str(record.msg)

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(drop)


def export_int8(model_dir: Path, target: Path, max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH) -> None:
    """Export the SentenceTransformer at ``model_dir`` to an int8 ONNX file at ``target`` (atomically)."""
    stay_offline()
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        transformer = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True)
    except Exception as exc:
        raise ModelError(f"cannot load the transformer at {str(model_dir)!r} for the ONNX export: {exc}") from exc
    transformer.eval()

    class SentenceEmbedding(torch.nn.Module):
        """Transformer → mean pooling over the attention mask → L2 normalisation (sentence-transformers')."""

        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return mean / mean.norm(p=2, dim=1, keepdim=True).clamp(min=1e-12)

    dummy = tuple(torch.ones(2, 16, dtype=torch.long) if n != "token_type_ids" else torch.zeros(2, 16, dtype=torch.long)
                  for n in INPUTS)
    axes = {n: {0: "batch", 1: "sequence"} for n in INPUTS} | {OUTPUT: {0: "batch"}}
    target.parent.mkdir(parents=True, exist_ok=True)
    quant = RECIPE["quantize_dynamic"]
    with quiet_export(), tempfile.TemporaryDirectory(dir=target.parent, prefix=".onnx-export-") as scratch:
        float_model = Path(scratch) / "float32.onnx"
        with torch.no_grad():
            torch.onnx.export(SentenceEmbedding(transformer), dummy, str(float_model), input_names=list(INPUTS),
                              output_names=[OUTPUT], dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True,
                              dynamo=False)
        with atomic_path(target) as tmp:
            quantize_dynamic(str(float_model), str(tmp), weight_type=getattr(QuantType, quant["weight_type"]),
                             per_channel=quant["per_channel"], reduce_range=quant["reduce_range"],
                             op_types_to_quantize=list(quant["op_types_to_quantize"]))


def cpu_session(path: Path, threads: int):
    """An onnxruntime CPU session of the model at ``path`` with ``threads`` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _sidecar_sha(sidecar: Path) -> str | None:
    try:
        return json.loads(sidecar.read_text()).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None


def cached_session(
    path: Path,
    export: Callable[[Path], None],
    facts: dict[str, Any],
    *,
    threads: int,
    log: Log | None = None,
    what: str = f"{MODEL_NAME} to int8 ONNX",
    done: str = "exported and quantized",
    fallback: str = "use backend 'torch'",
) -> tuple[Any, float | None]:
    """(onnxruntime session of ``path``, export seconds or None when the cached file was used).

    The cache rule every exported model follows: ``path`` is used when its sha256 matches the sidecar
    (``path`` with suffix ``.json``) and onnxruntime loads it; otherwise ``export(path)`` writes it again
    (atomically, once) and the sidecar records its sha256, its size and ``facts``. A failed export, or an
    export that still cannot be loaded, raises `ModelError` ending in ``fallback``.
    """
    say = log or (lambda _msg: None)
    sidecar = path.with_suffix(".json")
    if path.is_file():
        expected, actual = _sidecar_sha(sidecar), file_sha256(path)
        if expected == actual:
            try:
                return cpu_session(path, threads), None
            except Exception as exc:
                say(f"cached ONNX model {str(path)!r} cannot be loaded ({exc}); exporting it again")
        else:
            say(f"cached ONNX model {str(path)!r} is corrupt or incomplete (sha256 {actual[:12]}…, sidecar says "
                f"{(expected or 'nothing')[:12]}…); exporting it again")
    else:
        say(f"exporting {what} at {str(path)!r} (once per model and tool versions)")
    started = time.perf_counter()
    try:
        export(path)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"exporting {what} under {str(path.parent)!r} failed: {exc}; set {CACHE_SETTING} to a "
                         f"writable folder or {fallback}") from exc
    seconds = time.perf_counter() - started
    digest = file_sha256(path)
    write_json_atomic({"sha256": digest, **facts, "size_bytes": path.stat().st_size}, sidecar)
    try:
        session = cpu_session(path, threads)
    except Exception as exc:
        raise ModelError(f"the freshly exported ONNX model {str(path)!r} cannot be loaded by onnxruntime: {exc}; "
                         f"{fallback}") from exc
    say(f"{done} in {seconds:.1f}s: {path.stat().st_size / 1e6:.1f} MB, sha256 {digest[:12]}…")
    return session, seconds


def cached_model(
    model_dir: Path,
    weights_sha256: str,
    cache_dir: Path,
    *,
    threads: int,
    log: Log | None = None,
) -> tuple[Any, Path, str, float | None]:
    """(onnxruntime session, ONNX file, cache key, export seconds or None when the cache was used): the int8
    text model under ``cache_dir``, exported again when missing or corrupt (see `cached_session`)."""
    pipeline = pipeline_config(model_dir)
    versions = tool_versions()
    key = cache_key(weights_sha256, pipeline, versions)
    path, _sidecar = cache_paths(cache_dir, key)
    facts = {"key": key, "weights_sha256": weights_sha256, "pipeline": pipeline, "recipe": RECIPE,
             "versions": versions, "model": MODEL_NAME}
    session, seconds = cached_session(
        path, lambda target: export_int8(model_dir, target, pipeline["max_seq_length"]), facts, threads=threads,
        log=log)
    return session, path, key, seconds


class OnnxInt8Backend(EmbeddingBackend):
    """The int8 ONNX export run by onnxruntime on the CPU, tokenized with the model's own tokenizer."""

    name = ONNX_INT8

    def __init__(self, session: Any, tokenizer: Any, *, model_dir: Path, sha256: str, key: str, onnx_path: Path,
                 max_seq_length: int, threads: int, export_seconds: float | None, pad_id: int = 0):
        self.session = session
        self.tokenizer = tokenizer
        self.path = model_dir
        self.sha256 = sha256
        self.key = key
        self.onnx_path = onnx_path
        self.max_seq_length = max_seq_length
        self.threads = threads
        self.export_seconds = export_seconds
        self.device = CPU
        self.model_id = f"{MODEL_NAME}@sha256:{sha256}+{ONNX_INT8}:{key}"
        self.dimension = int(session.get_outputs()[0].shape[-1])
        self._inputs = {i.name for i in session.get_inputs()}
        self._pad_id = pad_id

    @classmethod
    def load(
        cls,
        model_path: str | os.PathLike | None = None,
        expected_sha256: str | None = DEFAULT_SHA256,
        *,
        cache_dir: str | os.PathLike | None = None,
        threads: int | None = None,
        log: Log | None = None,
    ) -> OnnxInt8Backend:
        """Verify the weights, export (or reuse) the int8 model, load the tokenizer; strictly offline."""
        model_dir = resolve_model_dir(model_path)
        sha = verify_model(model_dir, expected_sha256)
        stay_offline()
        tokenizer_file = model_dir / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ModelError(f"{str(model_dir)!r} has no tokenizer.json (a fast tokenizer), which the {ONNX_INT8!r} "
                             "backend needs; use backend 'torch'")
        try:
            import onnxruntime  # noqa: F401
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ModelError(f"the {ONNX_INT8!r} backend needs onnxruntime and onnx; reinstall movie_assets "
                             "(pip install -e .) or use backend 'torch'") from exc
        threads = threads or usable_cores()
        where = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        session, onnx_path, key, seconds = cached_model(model_dir, sha, where, threads=threads, log=log)
        max_len = pipeline_config(model_dir)["max_seq_length"]
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        pad_id = int((tokenizer.padding or {}).get("pad_id", 0))
        tokenizer.no_padding()  # padded per batch in `encode`, after sorting by token count
        tokenizer.enable_truncation(max_length=max_len)
        return cls(session, tokenizer, model_dir=model_dir, sha256=sha, key=key, onnx_path=onnx_path,
                   max_seq_length=max_len, threads=threads, export_seconds=seconds, pad_id=pad_id)

    def encode(self, sentences: list[str], *, batch_size: int = 64, **kwargs: Any) -> np.ndarray:
        """Unit-norm float32 vectors of ``sentences``, in input order (``kwargs`` of SentenceTransformer's
        ``encode`` are accepted and ignored: the output is always normalized numpy)."""
        n = len(sentences)
        out = np.zeros((n, self.dimension), dtype=np.float32)
        if n == 0:
            return out
        encodings = self.tokenizer.encode_batch(list(sentences))
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(n), key=lambda i: -lengths[i])  # stable: equal lengths keep input order
        step = max(1, int(batch_size))
        for start in range(0, n, step):
            rows = order[start : start + step]
            width = lengths[rows[0]]
            ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                e = encodings[i]
                ids[r, : lengths[i]] = e.ids
                mask[r, : lengths[i]] = e.attention_mask
                types[r, : lengths[i]] = e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            [vectors] = self.session.run([OUTPUT], {k: v for k, v in feed.items() if k in self._inputs})
            out[np.asarray(rows)] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, np.where(norms > 0, norms, 1.0), out=out)
        return out

    def describe(self) -> dict[str, Any]:
        facts = super().describe()
        facts.update(quantization="int8 dynamic, per-channel weights, MatMul", onnx_file=self.onnx_path.name,
                     onnx_key=self.key, threads=self.threads)
        if self.export_seconds is not None:
            facts["export_seconds"] = round(self.export_seconds, 2)
        return facts
