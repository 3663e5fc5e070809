"""WordLlama static token embeddings (256-d): fast, offline, lower quality than MiniLM.

WordLlama (Miller 2024, github.com/dleemiller/WordLlama) keeps the token-embedding table of an
LLM (here Llama-2's, "l2_supercat"), trained with a contrastive objective and Matryoshka
truncation; a text is the mean of its token vectors (average pooling as in Sentence-BERT,
Reimers & Gurevych 2019). The 256-d weights ship inside the ``wordllama`` wheel, so loading never
touches the network.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from salesrl.features.embeddings.base import EmbeddingBackend, EmbeddingConfigError

__all__ = ["WordLlamaBackend"]

_SHIPPED_DIM = 256  # the only weights file in the wheel: weights/l2_supercat_256.safetensors


def _import_wordllama():  # noqa: ANN202 - returns the module
    """Import wordllama without letting it reconfigure the root logger.

    ``wordllama`` calls ``logging.basicConfig(level=INFO)`` at import time, which would add a
    handler and lower the level of the application's root logger; undo that.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EmbeddingConfigError(
            "the wordllama backend needs wordllama: pip install wordllama==0.4.0.post1"
        ) from exc
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return wordllama


class WordLlamaBackend(EmbeddingBackend):
    """WordLlama ``l2_supercat``, 256-d (or a Matryoshka truncation to 64 or 128).

    Args:
        dim: 256, 128 or 64 (the first ``dim`` components of the 256-d vectors).
        batch_size: texts per tokenizer/pooling pass.
        max_length: tokens kept per text, so one huge text cannot blow up a padded batch.
    """

    name = "wordllama"

    def __init__(self, dim: int = _SHIPPED_DIM, batch_size: int = 64, max_length: int = 1024):
        super().__init__()
        if dim not in (64, 128, 256):
            raise EmbeddingConfigError(f"wordllama: dim must be 64, 128 or 256, not {dim}")
        if batch_size < 1 or max_length < 1:
            raise EmbeddingConfigError("wordllama: batch_size and max_length must be >= 1")
        self.dim = dim
        self.batch_size = batch_size
        self.max_length = max_length
        self.model_id = f"wordllama-0.4.0-l2_supercat-{dim}"

    def _load(self) -> None:
        wordllama = _import_wordllama()
        package_dir = Path(wordllama.__file__).parent
        try:
            model = wordllama.WordLlama.load(
                config="l2_supercat",
                dim=_SHIPPED_DIM,
                trunc_dim=None if self.dim == _SHIPPED_DIM else self.dim,
                cache_dir=package_dir,
                disable_download=True,
            )
        except FileNotFoundError as exc:
            raise EmbeddingConfigError(
                f"wordllama weights missing from {package_dir}: {exc}"
            ) from exc
        model.tokenizer.enable_truncation(self.max_length)
        self._model = model

    def _embed(self, texts: list[str]) -> np.ndarray:
        # norm=False: wordllama divides by the norm without guarding 0 (empty text -> NaN);
        # the base class normalises safely.
        return self._model.embed(texts, norm=False, batch_size=self.batch_size)
