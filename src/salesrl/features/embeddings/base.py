"""The one interface every text-embedding backend implements.

A backend maps texts to L2-normalised float32 rows of a fixed width ``dim``, so cosine similarity
is a dot product (the convention of Sentence-BERT, Reimers & Gurevych 2019, EMNLP).
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "EmbeddingBackend",
    "EmbeddingConfigError",
    "EmbeddingError",
    "ModelIntegrityError",
    "batched",
    "file_sha256",
    "verify_sha256",
    "l2_normalize",
]


class EmbeddingError(RuntimeError):
    """An embedding backend could not produce vectors."""


class EmbeddingConfigError(EmbeddingError):
    """A backend is unknown, misconfigured or missing a dependency; raised before any work."""


class ModelIntegrityError(EmbeddingError):
    """A model or tokenizer file does not have the sha256 it is pinned to."""

    def __init__(self, path: Path | str, expected: str, actual: str) -> None:
        super().__init__(
            f"{path}: sha256 mismatch (expected {expected}, got {actual}); the file is not the "
            "pinned model. Reinstall the package that ships it or pass the matching sha256."
        )
        self.path, self.expected, self.actual = Path(path), expected, actual


def file_sha256(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path | str, expected: str | None) -> None:
    """Raise :class:`ModelIntegrityError` unless ``path`` hashes to ``expected`` (None skips)."""
    if expected is None:
        return
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: model file not found")
    actual = file_sha256(path)
    if actual != expected.lower():
        raise ModelIntegrityError(path, expected.lower(), actual)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, as float32; an all-zero row (a text with no tokens) stays 0."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def batched(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class EmbeddingBackend(ABC):
    """A text-embedding model: ``embed(texts) -> (n, dim)`` float32, L2-normalised rows.

    Subclasses set ``name`` (the registry name), ``model_id`` (identifies the weights, so caches
    keyed by it never mix models) and ``dim``, and implement :meth:`_embed`. Heavy resources load
    lazily on the first call (or on :meth:`load`), guarded by a lock, so constructing a backend is
    cheap and one instance can serve several threads.
    """

    name: str
    model_id: str
    dim: int

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._loaded = False

    def load(self) -> EmbeddingBackend:
        """Load the model now (it is otherwise loaded on first use); returns ``self``."""
        if not self._loaded:
            with self._load_lock:
                if not self._loaded:
                    self._load()
                    self._loaded = True
        return self

    def _load(self) -> None:  # noqa: B027 - optional hook: backends without resources skip it
        """Load weights, tokenizers, clients."""

    @abstractmethod
    def _embed(self, texts: list[str]) -> np.ndarray:
        """Raw ``(len(texts), dim)`` vectors for a non-empty list; normalisation happens after."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` into an ``(n, dim)`` float32 array of L2-normalised rows."""
        if isinstance(texts, str | bytes):
            raise TypeError("embed() takes a sequence of strings, not a single string")
        items = list(texts)
        for i, text in enumerate(items):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        out = np.asarray(self._embed(items))
        if out.shape != (len(items), self.dim):
            raise EmbeddingError(
                f"{self.name} returned shape {out.shape}, expected {(len(items), self.dim)}"
            )
        return l2_normalize(out)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, model_id={self.model_id!r}, dim={self.dim})"
        )
