"""Lexical evidence with the stated-intent signals (``commitment=True``,
``TrainConfig.lexical_commitment``): informative where words are not, causal, incremental in
sessions, saved and restored, and off for models saved before it existed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from salesrl.agent import TrainConfig
from salesrl.agent.api import load
from salesrl.agent.lexical import LexicalEvidence, cross_fit
from salesrl.agent.lexical_state import LexicalState
from salesrl.agent.pipeline import train_agent
from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn
from salesrl.features.signals.commitment import COMMITMENT_NAMES

pytestmark = pytest.mark.usefixtures("hashing_env")


def _convs(n: int, seed: int, prefix: str = "c") -> list[Conversation]:
    """Only the stated amount tells the classes apart: "$0" against "$5" (single characters,
    which the TF-IDF tokeniser drops)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        y = int(rng.random() < 0.5)
        texts = ["hi, how are you", "good thanks", "how much would you like to give?",
                 f"I will give ${rng.integers(1, 10) if y else 0}", "thank you", "bye now"]
        turns = [Turn(role=Role.REP if k % 2 == 0 else Role.CUSTOMER, text=t)
                 for k, t in enumerate(texts[: int(rng.integers(4, 7))])]
        out.append(Conversation(id=f"{prefix}{i}", turns=turns,
                                outcome=Outcome.CONVERTED if y else Outcome.NOT_CONVERTED,
                                metadata=Metadata(industry="charity")))
    return out


def _last(logits: list[np.ndarray]) -> np.ndarray:
    return np.array([z[-1] for z in logits])


def test_commitment_signals_carry_what_the_words_miss() -> None:
    train, test = _convs(80, 0), _convs(40, 1, "t")
    y = np.array([c.label for c in test])
    plain = LexicalEvidence().fit(train)
    with_intent = LexicalEvidence(commitment=True).fit(train)
    assert with_intent.coef_.shape == (plain.coef_.shape[0] + len(COMMITMENT_NAMES),)
    assert roc_auc_score(y, _last(with_intent.logits(test))) > 0.95
    assert roc_auc_score(y, _last(plain.logits(test))) < 0.7
    _, oof, _ = cross_fit(train, n_splits=4, seed=0, commitment=True)
    assert roc_auc_score([c.label for c in train], _last(oof)) > 0.95


def test_logits_are_causal_and_incremental() -> None:
    convs = _convs(40, 2)
    lex = LexicalEvidence(commitment=True).fit(convs)
    conv = convs[3]
    full = lex.logits([conv])[0]
    for k in range(1, len(conv.turns) + 1):
        assert np.allclose(lex.logits([conv.prefix(k)])[0], full[:k], atol=1e-5)
    state = LexicalState(lex)
    z = [state.update(t) for t in conv.turns[:3]]
    back = LexicalState.from_dict(json.loads(json.dumps(state.to_dict())), lex)
    z += [back.update(t) for t in conv.turns[3:]]
    np.testing.assert_allclose(z, full, rtol=1e-4, atol=1e-5)
    saved = state.to_dict()
    del saved["commitment"]
    with pytest.raises(ValueError, match="no commitment signals"):
        LexicalState.from_dict(saved, lex)


def test_round_trip_and_models_saved_before_the_flag() -> None:
    convs = _convs(40, 3)
    lex = LexicalEvidence(commitment=True).fit(convs)
    back = LexicalEvidence.from_arrays(json.loads(json.dumps(lex.params())), lex.to_arrays())
    assert back.commitment
    for a, b in zip(lex.logits(convs[:5]), back.logits(convs[:5]), strict=True):
        assert np.allclose(a, b, atol=1e-6)
    old = LexicalEvidence().fit(convs)
    params = old.params()
    del params["commitment"]  # what a model saved before this option holds
    loaded = LexicalEvidence.from_arrays(params, old.to_arrays())
    assert not loaded.commitment
    assert np.allclose(loaded.logits(convs[:2])[0], old.logits(convs[:2])[0], atol=1e-6)
    with pytest.raises(ValueError, match="coefficients"):
        LexicalEvidence.from_arrays({**params, "commitment": True},
                                    {**old.to_arrays(), "commit_mean": np.zeros(14),
                                     "commit_std": np.ones(14)})


def test_presets_switch_it_on_for_small_data_only() -> None:
    assert TrainConfig.preset("small").lexical_commitment
    for name in ("fast", "large", "default"):
        assert not TrainConfig.preset(name).lexical_commitment
    old = TrainConfig.preset("small").to_dict()
    del old["lexical_commitment"]  # a config saved before the field existed
    assert not TrainConfig.from_dict(old).lexical_commitment


def test_agent_session_matches_batch_with_commitment(tmp_path: Path,
                                                     tiny_training: dict) -> None:
    convs = _convs(40, 4)
    model = train_agent(convs, preset="fast", embedding="hashing",
                        overrides={**tiny_training, "lexical_commitment": True}, out=tmp_path / "m",
                        cache_path=tmp_path / "c.sqlite", backend_options={"dim": 32},
                        lexical=True, confidence_folds=0, guide=False)
    assert model.lexical is not None and model.lexical.commitment
    loaded = load(tmp_path / "m", cache_path=tmp_path / "c.sqlite")
    assert loaded.lexical.commitment
    call = _convs(1, 9, "x")[0]
    expected = loaded.predict(call)
    np.testing.assert_allclose(expected, model.predict(call), rtol=1e-6)
    session = loaded.session()
    got = [session.add(t).probability for t in call.turns[:2]]
    restored = loaded.restore(json.loads(json.dumps(session.to_dict())))
    got += [restored.add(t).probability for t in call.turns[2:]]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
