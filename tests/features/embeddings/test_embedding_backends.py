"""The backend interface, the factory, and the offline hashing and WordLlama backends."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from salesrl.features.embeddings import (
    BACKENDS,
    EmbeddingBackend,
    EmbeddingConfigError,
    EmbeddingError,
    get_backend,
)
from salesrl.features.embeddings.base import l2_normalize


def test_factory_knows_every_backend() -> None:
    assert set(BACKENDS) == {"minilm", "minilm-q8", "wordllama", "hashing", "openai",
                             "azure-openai"}
    assert get_backend("HASHING", dim=32).dim == 32
    assert get_backend("azure_openai", api_key="k", endpoint="https://x").name == "azure-openai"


def test_unknown_backend_and_bad_options_are_config_errors() -> None:
    with pytest.raises(EmbeddingConfigError, match="choose one of minilm"):
        get_backend("bert")
    with pytest.raises(EmbeddingConfigError, match="hashing"):
        get_backend("hashing", no_such_option=1)
    with pytest.raises(EmbeddingConfigError):
        get_backend("hashing", dim=1)
    with pytest.raises(EmbeddingConfigError):
        get_backend("wordllama", dim=100)


def test_embed_rejects_a_bare_string_and_non_strings() -> None:
    backend = get_backend("hashing")
    with pytest.raises(TypeError, match="not a single string"):
        backend.embed("hello")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        backend.embed(["ok", None])  # type: ignore[list-item]


def test_empty_input_gives_zero_rows() -> None:
    out = get_backend("hashing", dim=64).embed([])
    assert out.shape == (0, 64) and out.dtype == np.float32


def test_wrong_shape_from_a_backend_is_an_error() -> None:
    class Broken(EmbeddingBackend):
        name, model_id, dim = "broken", "broken-1", 4

        def _embed(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), 3))

    with pytest.raises(EmbeddingError, match="expected"):
        Broken().embed(["a"])


def test_l2_normalize_keeps_zero_rows_at_zero() -> None:
    out = l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_hashing_buckets_are_pinned_not_salted() -> None:
    # Pinned MurmurHash3 buckets: would change if a salted hash() or another hash crept in.
    vec = get_backend("hashing").embed(["The price is too high"])[0]
    assert np.flatnonzero(vec).tolist() == [47, 109, 122, 142, 158, 183, 239, 242, 254]
    assert np.isclose(np.linalg.norm(vec), 1.0)
    assert np.allclose(np.abs(vec[np.flatnonzero(vec)]), 1 / 3)


def test_hashing_similarity_follows_word_overlap() -> None:
    a, b, c, empty = get_backend("hashing").embed(
        ["the price is too high", "the price is far too high", "let's book a demo", "  ?! "]
    )
    assert a @ b > 0.5 > abs(a @ c)
    assert not empty.any()


@pytest.fixture(scope="module")
def wordllama() -> EmbeddingBackend:
    return get_backend("wordllama").load()


def test_wordllama_loads_offline_256d_and_normalises(wordllama: EmbeddingBackend) -> None:
    out = wordllama.embed(["hello there", "", "the price is too high"])
    assert out.shape == (3, 256) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1.0, 0.0, 1.0], atol=1e-5)


def test_wordllama_paraphrase_closer_than_unrelated(wordllama: EmbeddingBackend) -> None:
    a, b, c = wordllama.embed(
        [
            "This is too expensive for us.",
            "The price is too high for our budget.",
            "My dog loves chasing tennis balls.",
        ]
    )
    assert a @ b > a @ c + 0.1


def test_wordllama_matryoshka_truncation() -> None:
    full = get_backend("wordllama").embed(["pricing question"])[0]
    small = get_backend("wordllama", dim=64).embed(["pricing question"])[0]
    np.testing.assert_allclose(small, l2_normalize(full[None, :64])[0], atol=1e-5)


def test_wordllama_import_leaves_root_logger_alone() -> None:
    import sys

    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    for mod in [m for m in sys.modules if m == "wordllama" or m.startswith("wordllama.")]:
        del sys.modules[mod]
    get_backend("wordllama").load()
    assert (list(root.handlers), root.level) == before
