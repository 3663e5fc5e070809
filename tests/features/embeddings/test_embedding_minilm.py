"""all-MiniLM-L6-v2 int8 ONNX backend: shape, norms, quality against an fp32 reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from salesrl.features.embeddings import ModelIntegrityError, get_backend
from salesrl.features.embeddings.base import file_sha256
from salesrl.features.embeddings.minilm import (
    MODEL_SHA256,
    TOKENIZER_PATH,
    TOKENIZER_SHA256,
    MiniLMBackend,
    default_threads,
)

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def minilm() -> MiniLMBackend:
    return get_backend("minilm").load()


def test_default_backend_is_minilm_384(minilm: MiniLMBackend) -> None:
    assert get_backend().name == "minilm"
    out = minilm.embed(["hello", "a second, longer sentence about pricing"])
    assert out.shape == (2, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_onnx_graph_inputs_and_output(minilm: MiniLMBackend) -> None:
    names = [i.name for i in minilm._session.get_inputs()]
    assert names == ["input_ids", "attention_mask", "token_type_ids"]
    assert minilm._output == "last_hidden_state"
    assert minilm._session.get_outputs()[0].shape[-1] == 384


def test_matches_fp32_reference_vectors(minilm: MiniLMBackend) -> None:
    ref = np.asarray(REFERENCE["embeddings"], dtype=np.float32)
    out = minilm.embed(REFERENCE["texts"])
    cosines = (out * ref).sum(axis=1)
    assert cosines.min() > 0.995, cosines  # int8 vs fp32 weights: measured >= 0.9995


def test_reproduces_published_quickstart_similarities(minilm: MiniLMBackend) -> None:
    # sentence-transformers quickstart, all-MiniLM-L6-v2: 0.6660, 0.1046, 0.1411
    e = minilm.embed(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    sims = [e[0] @ e[1], e[0] @ e[2], e[1] @ e[2]]
    np.testing.assert_allclose(sims, [0.6660, 0.1046, 0.1411], atol=0.02)


def test_paraphrases_closer_than_unrelated(minilm: MiniLMBackend) -> None:
    pairs = [
        ("The price is too high for us.", "This is too expensive for our budget."),
        ("Can we schedule a call next week?", "Are you free for a meeting next week?"),
        ("I'm ready to sign the contract.", "Send over the agreement and I'll sign it."),
    ]
    unrelated = [
        ("The price is too high for us.", "What's the weather like in Paris?"),
        ("Can we schedule a call next week?", "My dog loves chasing tennis balls."),
        ("I'm ready to sign the contract.", "The train was delayed by twenty minutes."),
    ]

    def sims(ps: list[tuple[str, str]]) -> np.ndarray:
        a = minilm.embed([p[0] for p in ps])
        b = minilm.embed([p[1] for p in ps])
        return (a * b).sum(axis=1)

    para, other = sims(pairs), sims(unrelated)
    # measured: paraphrases 0.43-0.68, unrelated pairs below 0.1
    assert para.min() > 0.35 and other.max() < 0.2
    assert para.min() - other.max() > 0.25


def test_batching_and_padding_do_not_change_vectors(minilm: MiniLMBackend) -> None:
    texts = ["ok", "we need to talk about the discount " * 10, "yes", "no thanks"]
    together = minilm.embed(texts)
    alone = np.vstack([minilm.embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)
    small = MiniLMBackend(batch_size=1).embed(texts)
    np.testing.assert_allclose(small, together, atol=1e-4)


def test_truncates_to_256_word_pieces(minilm: MiniLMBackend) -> None:
    head = " ".join(["pricing"] * 300)
    assert len(minilm._tokenizer.encode(head).ids) == 256
    a, b = minilm.embed([head + " cats and dogs", head + " the quarterly revenue forecast"])
    np.testing.assert_allclose(a, b, atol=1e-6)
    short = MiniLMBackend(max_length=8)
    assert short.model_id != minilm.model_id
    assert len(short.load()._tokenizer.encode(head).ids) == 8


def test_thread_count_is_configurable() -> None:
    backend = MiniLMBackend(intra_op_num_threads=2).load()
    assert backend._session.get_session_options().intra_op_num_threads == 2
    assert MiniLMBackend().intra_op_num_threads == default_threads()  # min(2, cores)
    assert 1 <= default_threads() <= 2


def test_model_hash_mismatch_names_file_and_both_hashes(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(ModelIntegrityError) as err:
        MiniLMBackend(model_path=fake).embed(["hello"])
    message = str(err.value)
    assert str(fake) in message and MODEL_SHA256 in message and file_sha256(fake) in message


def test_vendored_tokenizer_is_the_pinned_file() -> None:
    assert file_sha256(TOKENIZER_PATH) == TOKENIZER_SHA256
    assert TOKENIZER_SHA256.startswith("be50c362") and TOKENIZER_SHA256.endswith("2037")
    assert (TOKENIZER_PATH.parent / "NOTICE").read_text().count(TOKENIZER_SHA256) == 1


def test_thread_count_and_spinning_do_not_change_vectors(minilm: MiniLMBackend) -> None:
    other = MiniLMBackend(intra_op_num_threads=3 - min(minilm.intra_op_num_threads, 2),
                          allow_spinning=False).load()
    texts = ["Can we schedule a call next week?", "The price is too high for us.", "ok"]
    np.testing.assert_allclose(other.embed(texts), minilm.embed(texts), atol=1e-6)
