"""Text embeddings for conversation turns: one interface, several backends.

``get_backend(name, **options)`` builds a backend; ``backend.embed(texts)`` returns an
``(n, backend.dim)`` float32 array of L2-normalised rows, so a model downstream sizes its input
from ``backend.dim``. Wrap a backend in :class:`CachedEmbedder` to embed each distinct text once.

========================  =====  ======================================================
name                      dim    model
========================  =====  ======================================================
``minilm`` (default)      384    all-MiniLM-L6-v2, int8 ONNX on onnxruntime, offline
``minilm-q8``             384    the same weights with int8 matrix products (~3x faster)
``wordllama``             256    WordLlama l2_supercat static embeddings, offline
``hashing``               256    hashed word uni+bigrams, no model (tests, tiny installs)
``openai``                3072   text-embedding-3-large via the OpenAI API
``azure-openai``          3072   text-embedding-3-large via an Azure OpenAI deployment
========================  =====  ======================================================

Sentence embeddings by mean pooling follow Sentence-BERT (Reimers & Gurevych 2019); MiniLM is
Wang et al. 2020.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from salesrl.features.embeddings.base import (
    EmbeddingBackend,
    EmbeddingConfigError,
    EmbeddingError,
    ModelIntegrityError,
)
from salesrl.features.embeddings.cache import CachedEmbedder, CacheStats

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "CacheStats",
    "CachedEmbedder",
    "EmbeddingBackend",
    "EmbeddingConfigError",
    "EmbeddingError",
    "ModelIntegrityError",
    "get_backend",
]

DEFAULT_BACKEND = "minilm"
#: name -> (module, class); modules are imported only when their backend is asked for.
BACKENDS: dict[str, tuple[str, str]] = {
    "minilm": ("salesrl.features.embeddings.minilm", "MiniLMBackend"),
    "minilm-q8": ("salesrl.features.embeddings.minilm_q8", "MiniLMQ8Backend"),
    "wordllama": ("salesrl.features.embeddings.wordllama_backend", "WordLlamaBackend"),
    "hashing": ("salesrl.features.embeddings.hashing", "HashingBackend"),
    "openai": ("salesrl.features.embeddings.openai_backend", "OpenAIBackend"),
    "azure-openai": ("salesrl.features.embeddings.openai_backend", "AzureOpenAIBackend"),
}


def get_backend(name: str = DEFAULT_BACKEND, **options: Any) -> EmbeddingBackend:
    """Build the backend called ``name`` with its keyword ``options`` (no model is loaded yet).

    Raises:
        EmbeddingConfigError: unknown name, bad options, or (openai backends) no credentials.
    """
    key = name.strip().lower().replace("_", "-")
    if key not in BACKENDS:
        raise EmbeddingConfigError(
            f"unknown embedding backend {name!r}; choose one of {', '.join(BACKENDS)}"
        )
    module, cls_name = BACKENDS[key]
    cls = getattr(import_module(module), cls_name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise EmbeddingConfigError(f"embedding backend {key!r}: {exc}") from exc
