"""Context prior: P(sale | metadata) only, cross-fitted, constant within a call, persisted as
arrays + JSON, carried by the agent through save / load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from salesrl.agent import ConversionAgent, ObsLayout
from salesrl.agent.context import ContextPrior, append_context, cross_fit
from salesrl.agent.predictor import AgentPredictor
from salesrl.conversation import Conversation, DataError, Metadata, Outcome, Role, Turn

TEXTS = ["hello there", "tell me more", "okay", "what does it cost", "i see"]


def _convs(n: int, seed: int, prefix: str = "c") -> list[Conversation]:
    """Calls whose outcome depends on the rep (good reps close 80 %, others 20 %) and a
    numeric customer attribute, never on the words."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rep = f"rep-{int(rng.integers(0, 6))}"
        budget = float(rng.normal())
        good = rep in ("rep-0", "rep-1", "rep-2")
        y = int(rng.random() < (0.8 if good else 0.2) + 0.1 * np.sign(budget))
        turns = [Turn(role=Role.REP if k % 2 == 0 else Role.CUSTOMER,
                      text=str(rng.choice(TEXTS))) for k in range(int(rng.integers(3, 8)))]
        extra: dict[str, object] = {"customer": {"budget": budget, "segment": "smb"}}
        if i % 7 == 0:
            del extra["customer"]["budget"]  # type: ignore[index]  # missing numbers happen
        out.append(Conversation(id=f"{prefix}{i}", turns=turns,
                                outcome=Outcome.CONVERTED if y else Outcome.NOT_CONVERTED,
                                metadata=Metadata(rep_id=rep, channel="phone", extra=extra)))
    return out


def test_prior_reads_metadata_only() -> None:
    convs = _convs(300, 0)
    prior = ContextPrior().fit(convs)
    assert prior.categorical_ == ["metadata.rep_id"]  # constant fields add no column
    assert list(prior.numeric_) == ["metadata.extra.customer.budget"]
    assert prior.numeric_["metadata.extra.customer.budget"]  # a missing flag
    test = _convs(200, 1, "t")
    z = prior.logit_of([c.metadata for c in test])
    assert roc_auc_score([c.label for c in test], z) > 0.75
    # the column is the same on every turn, and the turns do not move it
    conv = test[0]
    col = prior.logits([conv])[0]
    assert col.shape == (len(conv.turns),) and np.all(col == col[0])
    other = conv.model_copy(update={"turns": conv.turns[:1] + [Turn(role=Role.CUSTOMER,
                                                                     text="yes, sign me up")]})
    assert prior.logits([other])[0][0] == col[0]


def test_unknown_levels_and_missing_fields_are_handled() -> None:
    prior = ContextPrior().fit(_convs(200, 2))
    z = prior.logit_of([Metadata(rep_id="a-new-rep"), Metadata()])
    assert np.all(np.isfinite(z))
    # an unseen rep with no attribute gets (about) the base rate's logit
    base = np.mean([c.label for c in _convs(200, 2)])
    assert abs(1 / (1 + np.exp(-z[1])) - base) < 0.15


def test_wrong_types_raise_a_data_error_naming_the_field() -> None:
    prior = ContextPrior().fit(_convs(200, 3))
    with pytest.raises(DataError, match=r"metadata\.extra\.customer\.budget"):
        prior.logit_of([Metadata(rep_id="rep-0", extra={"customer": {"budget": "high"}})])
    mixed = _convs(40, 4)
    mixed[5] = mixed[5].model_copy(update={"metadata": Metadata(
        rep_id="rep-0", extra={"customer": {"budget": "lots"}})})
    with pytest.raises(DataError, match=r"budget.*c5|c5.*budget"):
        ContextPrior().fit(mixed)


def test_cross_fit_is_out_of_fold() -> None:
    convs = _convs(200, 5)
    full, oof, extra = cross_fit(convs, n_splits=4, seed=0, extra=convs[:2])
    c = convs[10]
    assert oof[10].shape == (len(c.turns),) and np.all(oof[10] == oof[10][0])
    assert oof[10][0] != full.logits([c])[0][0]  # the agent's rows are not in-sample
    assert [len(z) for z in extra] == [len(x.turns) for x in convs[:2]]
    assert extra[0][0] != full.logits(convs[:1])[0][0]  # the fold model, not the full one


def test_own_outcome_does_not_reach_own_training_value() -> None:
    """With the folds fixed, flipping a call's outcome leaves its out-of-fold value as is."""
    from sklearn.model_selection import StratifiedKFold

    convs = _convs(200, 6)
    y = np.array([c.label for c in convs])
    tr, te = next(StratifiedKFold(4, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    i = int(te[0])
    a = ContextPrior().fit([convs[j] for j in tr]).logits([convs[i]])[0]
    flipped = convs[i].model_copy(update={"outcome": Outcome.NOT_CONVERTED if convs[i].label
                                          else Outcome.CONVERTED})
    b = ContextPrior().fit([convs[j] for j in tr]).logits([flipped])[0]
    assert np.array_equal(a, b)


def test_arrays_and_json_round_trip() -> None:
    convs = _convs(150, 7)
    prior = ContextPrior().fit(convs)
    params = json.loads(json.dumps(prior.params()))
    back = ContextPrior.from_arrays(params, prior.to_arrays())
    md = [c.metadata for c in convs[:20]] + [Metadata(rep_id="unseen")]
    assert np.allclose(prior.logit_of(md), back.logit_of(md))


def test_agent_uses_and_saves_the_context_column(blind_encode, tiny,
                                                tmp_path: Path) -> None:
    layout = ObsLayout(state_dim=2, window=2, turn_dim=1)
    train, test = _convs(240, 8), _convs(80, 9, prefix="t")
    pred = AgentPredictor(blind_encode, layout, tiny(use_ppo=False, retrieval=False),
                          context=True, adversarial_fraction=0.1).fit(train)
    assert pred.agent_.input_layout_.extra_dim == 1
    p = pred.predict_proba(test)
    y = np.array([c.label for c in test])
    assert roc_auc_score(y, p) > 0.7  # only the metadata can tell the classes apart
    # before a word is said, the prior answers
    empty = pred.predict_proba([test[0].prefix(0)])
    assert abs(empty[0] - 1 / (1 + np.exp(-pred.agent_.context_.logit_of(
        [test[0].metadata])[0]))) < 1e-9
    loaded = ConversionAgent.load(pred.agent_.save(tmp_path / "model"))
    assert loaded.context_ is not None
    rows = np.stack([append_context(loaded, [c], [blind_encode(c)])[0][-1] for c in test])
    assert np.allclose(loaded.predict_proba_rows(rows), p, atol=1e-5)
    assert not list(tmp_path.rglob("*.pkl"))
    doc = json.loads((tmp_path / "model" / "agent.json").read_text())
    assert doc["context"]["categorical"][0]["name"] == "metadata.rep_id"


def test_no_usable_metadata_means_no_column(blind_encode, tiny) -> None:
    layout = ObsLayout(state_dim=2, window=2, turn_dim=1)
    train = [c.model_copy(update={"metadata": Metadata(channel="phone")})
             for c in _convs(60, 10)]
    pred = AgentPredictor(blind_encode, layout, tiny(use_ppo=False, retrieval=False, ws_epochs=2),
                          context=True, adversarial_fraction=0.0).fit(train)
    assert pred.agent_.context_ is None
    assert pred.agent_.input_layout_.extra_dim == 0


def test_agent_saved_without_context_loads_unchanged(blind_encode, tiny,
                                                    tmp_path: Path) -> None:
    layout = ObsLayout(state_dim=2, window=2, turn_dim=1)
    pred = AgentPredictor(blind_encode, layout, tiny(use_ppo=False, retrieval=False, ws_epochs=2),
                          adversarial_fraction=0.0).fit(_convs(60, 11))
    path = pred.agent_.save(tmp_path / "old")
    doc = json.loads((path / "agent.json").read_text())
    del doc["context"]  # what artifacts written before the context prior look like
    (path / "agent.json").write_text(json.dumps(doc))
    loaded = ConversionAgent.load(path)
    assert loaded.context_ is None
    conv = _convs(3, 12)[0]
    rows = blind_encode(conv)
    assert np.array_equal(append_context(loaded, [conv], [rows])[0], rows)


def test_ablation_full_has_context_and_no_context_has_not(monkeypatch, tmp_path: Path) -> None:
    from salesrl.agent.ablation import agent_factories
    from salesrl.features import StateBuilder

    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path))
    factories = agent_factories("fast", variants=["full", "no_context", "no_lexical"],
                                builder=StateBuilder.from_env())
    assert factories["full"]().context and factories["no_lexical"]().context
    off = factories["no_context"]()
    assert not off.context and not off.config.context_prior


def test_registered_agent_reads_the_context(monkeypatch, tmp_path: Path) -> None:
    from salesrl.evaluation.predictor import make

    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path))
    pred = make("agent")
    assert pred.context and pred.lexical


def test_metadata_unrelated_to_the_outcome_are_not_informative() -> None:
    rng = np.random.default_rng(13)
    noise = [c.model_copy(update={"metadata": Metadata(
        rep_id=f"rep-{int(rng.integers(0, 8))}", extra={"score": float(rng.normal())})})
        for c in _convs(300, 13)]
    assert not ContextPrior().fit(noise).informative_
    assert ContextPrior().fit(_convs(300, 13)).informative_
