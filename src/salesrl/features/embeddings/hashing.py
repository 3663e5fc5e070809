"""Hashed bag of word unigrams and bigrams: no model, deterministic, for tests and tiny installs.

The hashing trick (Weinberger et al. 2009, ICML, "Feature Hashing for Large Scale Multitask
Learning") via scikit-learn's ``HashingVectorizer``: signed MurmurHash3 (seed 0) of each
lower-cased unigram and bigram into ``dim`` buckets, so the same text gives the same vector in
every process and on every machine (unlike Python's salted ``hash()``).
"""

from __future__ import annotations

import numpy as np

from salesrl.features.embeddings.base import EmbeddingBackend, EmbeddingConfigError

__all__ = ["HashingBackend"]


class HashingBackend(EmbeddingBackend):
    """Signed hashed counts of word 1- and 2-grams, L2-normalised; ``dim`` buckets (default 256).

    Only lexical overlap counts: "too expensive" and "too pricey" share one feature, "price" and
    "cost" none. A text with no word characters embeds to the zero vector.
    """

    name = "hashing"

    def __init__(self, dim: int = 256) -> None:
        super().__init__()
        if not 2 <= dim <= 1 << 20:
            raise EmbeddingConfigError(f"hashing: dim must be in [2, 2**20], not {dim}")
        self.dim = dim
        self.model_id = f"hashing-murmur3-word12-{dim}"

    def _load(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self._vectorizer = HashingVectorizer(
            n_features=self.dim,
            ngram_range=(1, 2),
            token_pattern=r"(?u)\b\w+\b",  # keep one-letter words ("I", "a")
            lowercase=True,
            alternate_sign=True,  # collisions cancel in expectation
            norm=None,  # the base class normalises (and leaves empty texts at 0)
            dtype=np.float32,
        )

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._vectorizer.transform(texts).toarray()
