"""Lexical evidence: causal per-turn TF-IDF logits, cross-fitting, arrays round trip, and the
agent carrying the column through save / load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from salesrl.agent import ConversionAgent, ObsLayout
from salesrl.agent.crossfit import cross_fit_logits
from salesrl.agent.lexical import LexicalEvidence, TurnCounts, choose_C, cross_fit
from salesrl.agent.predictor import AgentPredictor
from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn

KEEN = ["sounds great i will donate", "yes happy to give", "sure count me in"]
COLD = ["no thanks not today", "i do not trust charities", "maybe some other time"]
NEUTRAL = ["okay", "i see", "tell me more"]


def _convs(n: int, seed: int, prefix: str = "c") -> list[Conversation]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        y = int(rng.random() < 0.5)
        turns = []
        for k in range(int(rng.integers(4, 10))):
            if k % 2 == 0:
                text = "would you like to donate to the charity"
            elif rng.random() < 0.5:
                text = str(rng.choice(KEEN if y else COLD))
            else:
                text = str(rng.choice(NEUTRAL))
            turns.append(Turn(role=Role.REP if k % 2 == 0 else Role.CUSTOMER, text=text))
        out.append(Conversation(id=f"{prefix}{i}", turns=turns,
                                outcome=Outcome.CONVERTED if y else Outcome.NOT_CONVERTED,
                                metadata=Metadata(industry="charity")))
    return out


def test_logits_are_causal_and_one_per_turn() -> None:
    convs = _convs(60, 0)
    lex = LexicalEvidence(min_df=1).fit(convs)
    conv = convs[0]
    full = lex.logits([conv])[0]
    assert full.shape == (len(conv.turns),)
    for k in range(1, len(conv.turns) + 1):
        assert np.allclose(lex.logits([conv.prefix(k)])[0], full[:k], atol=1e-5)


def test_cross_fit_is_out_of_fold_and_informative() -> None:
    convs = _convs(120, 1)
    full, oof, extra = cross_fit(convs, n_splits=4, seed=0, extra=convs[:3], min_df=1)
    y = np.array([c.label for c in convs])
    last_oof = np.array([z[-1] for z in oof])
    assert roc_auc_score(y, last_oof) > 0.8
    in_sample = np.array([z[-1] for z in full.logits(convs)])
    assert not np.allclose(in_sample, last_oof)  # the rows the agent sees are not in-sample
    assert [len(z) for z in extra] == [len(c.turns) for c in convs[:3]]
    assert not np.allclose(extra[0], full.logits(convs[:1])[0])


def test_arrays_and_json_round_trip() -> None:
    convs = _convs(40, 2)
    lex = LexicalEvidence(min_df=1).fit(convs)
    params = json.loads(json.dumps(lex.params()))
    back = LexicalEvidence.from_arrays(params, lex.to_arrays())
    for a, b in zip(lex.logits(convs[:5]), back.logits(convs[:5]), strict=True):
        assert np.allclose(a, b, atol=1e-6)


def test_agent_uses_and_saves_the_lexical_column(blind_encode, tiny,
                                                tmp_path: Path) -> None:
    layout = ObsLayout(state_dim=2, window=2, turn_dim=1)
    train, test = _convs(120, 3), _convs(40, 4, prefix="t")
    pred = AgentPredictor(blind_encode, layout, tiny(use_ppo=False, retrieval=False,
                                                lexical_Cs=(0.3, 3.0)),
                          lexical=True, adversarial_fraction=0.1).fit(train)
    assert pred.agent_.input_layout_.extra_dim == 1
    assert set(pred.agent_.lexical_.C_scores_) == {0.3, 3.0}  # the config's grid was searched
    p = pred.predict_proba(test)
    y = np.array([c.label for c in test])
    assert roc_auc_score(y, p) > 0.8  # only the lexical column can tell the classes apart
    loaded = ConversionAgent.load(pred.agent_.save(tmp_path / "model"))
    assert loaded.lexical_ is not None and loaded.lexical_.C == pred.agent_.lexical_.C
    rows = np.stack([loaded.lexical_rows(c, blind_encode(c))[-1] for c in test])
    assert np.allclose(loaded.predict_proba_rows(rows), p, atol=1e-5)
    assert not list(tmp_path.rglob("*.pkl"))


def test_chunked_counts_give_the_same_model(monkeypatch) -> None:
    import salesrl.agent.lexical as lexical

    convs = _convs(30, 5)
    whole = LexicalEvidence().fit(convs)
    monkeypatch.setattr(lexical, "CHUNK", 4)
    chunked = LexicalEvidence().fit(convs)
    assert np.allclose(whole.coef_, chunked.coef_, atol=1e-6)
    for a, b in zip(whole.logits(convs), chunked.logits(convs), strict=True):
        assert np.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("min_df", [1, 2])
def test_shared_counts_give_the_same_model(min_df: int) -> None:
    convs = _convs(80, 8)
    for c in convs[::7]:  # words no other call uses, so a subset's vocabulary is smaller
        c.turns.append(Turn(role=Role.CUSTOMER, text=f"unusual{c.id} word{c.id} {c.id}x"))
    counts = TurnCounts.build(convs, (1, 2))
    assert counts is not None
    fit_on, held, new = convs[:50], convs[50:], _convs(10, 9, prefix="n")
    own = LexicalEvidence(min_df=min_df).fit(fit_on)
    shared = LexicalEvidence(min_df=min_df).share_counts(counts).fit(fit_on)
    assert shared.params()["vocabulary"] == own.params()["vocabulary"]
    assert len(own.params()["vocabulary"]) < len(counts.terms)
    assert np.allclose(shared.coef_, own.coef_, atol=1e-8)
    for group in (held, new):  # held: read from the shared counts; new: tokenised
        for a, b in zip(own.logits(group), shared.logits(group), strict=True):
            assert np.allclose(a, b, atol=1e-6)


def test_cross_fit_tokenises_once_and_matches_separate_fits(monkeypatch) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    convs, extra = _convs(90, 10), _convs(6, 11, prefix="x")
    for i, c in enumerate(extra):
        c.metadata.extra = {"source": convs[i].id}
    calls = {"transform": 0, "fit": 0}
    for name in calls:
        original = getattr(CountVectorizer, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(CountVectorizer, name, spy)
    full, oof, extra_z = cross_fit(convs, n_splits=3, seed=0, extra=extra, Cs=(0.5, 2.0),
                                   min_df=1)
    assert calls == {"transform": 0, "fit": 0}  # one fit_transform over calls + extra
    plain = cross_fit_logits(lambda: LexicalEvidence(C=full.C, min_df=1), convs, 3, 0, extra)
    assert plain[0].params()["vocabulary"] == full.params()["vocabulary"]
    for a, b in zip(plain[1] + plain[2], oof + extra_z, strict=True):
        assert np.allclose(a, b, atol=1e-6)
    assert [len(z) for z in full.logits(extra)] == [len(c.turns) for c in extra]


def test_choose_C_scores_the_logit_after_rescaling() -> None:
    convs = _convs(200, 3)
    rng = np.random.default_rng(0)
    for c in convs:  # labels unrelated to the words: a weak penalty gives over-confident logits
        c.outcome = Outcome.CONVERTED if rng.random() < 0.5 else Outcome.NOT_CONVERTED
    y_rows = np.concatenate([np.full(len(c.turns), c.label) for c in convs])
    p = y_rows.mean()
    base_rate_loss = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    loose = LexicalEvidence(C=100.0, min_df=1).fit(convs[:100])
    z = np.concatenate(loose.logits(convs[100:]))
    y = np.concatenate([np.full(len(c.turns), c.label) for c in convs[100:]])
    raw = float(np.logaddexp(0.0, np.where(y > 0, -z, z)).mean())
    assert raw > base_rate_loss + 0.03  # unscaled, the loose model is worse than the base rate
    chosen, scores = choose_C(convs, (0.01, 1.0, 100.0), n_splits=4, seed=0, min_df=1)
    assert set(scores) == {0.01, 1.0, 100.0}
    # rescaled (a z + b fitted on the held-out rows), no candidate is worse than the base rate
    assert all(v <= base_rate_loss + 1e-6 for v in scores.values())
    assert chosen == min(scores, key=scores.__getitem__)
    # on informative words the weak penalty ranks better than a near-zero model
    chosen, scores = choose_C(_convs(200, 5), (0.001, 1.0), n_splits=4, seed=0, min_df=1)
    assert chosen == 1.0 and scores[1.0] < scores[0.001]


def test_choose_C_uses_only_the_folds_it_needs() -> None:
    convs = _convs(120, 5)
    few = choose_C(convs, (0.1, 1.0), n_splits=4, seed=0, min_heldout=30, min_df=1)[1]
    all_ = choose_C(convs, (0.1, 1.0), n_splits=4, seed=0, min_heldout=10_000, min_df=1)[1]
    assert few != all_  # one fold of 30 against all four folds


def test_cross_fit_with_Cs_keeps_the_choice_through_save_and_load() -> None:
    convs = _convs(120, 6)
    full, oof, _ = cross_fit(convs, n_splits=4, seed=0, Cs=(0.01, 3.0), min_df=1)
    assert full.C in (0.01, 3.0) and set(full.C_scores_) == {0.01, 3.0}
    assert min(full.C_scores_, key=full.C_scores_.__getitem__) == full.C
    params = json.loads(json.dumps(full.params()))
    back = LexicalEvidence.from_arrays(params, full.to_arrays())
    assert back.C == full.C and back.C_scores_ == full.C_scores_


def test_cross_fit_with_one_C_uses_it() -> None:
    full, _, _ = cross_fit(_convs(40, 7), n_splits=2, seed=0, Cs=(0.5,), min_df=1)
    assert full.C == 0.5 and full.C_scores_ == {}
