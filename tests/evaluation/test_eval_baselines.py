from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from salesrl.conversation import Conversation, Outcome, Turn
from salesrl.evaluation.baselines.engineered import (
    FEATURE_NAMES,
    conversation_features,
    feature_matrix,
)
from salesrl.evaluation.baselines.tfidf_roles import TfidfRolesPredictor
from salesrl.evaluation.predictor import available, make

BASELINES = ["base_rate", "gbm", "random_forest", "tfidf", "tfidf_roles", "tfidf_roles_context"]


def test_registry_lists_every_baseline() -> None:
    names = available()
    assert set(BASELINES) <= set(names)
    assert all(names[n] for n in BASELINES)  # each has a description
    assert make("tfidf") is not make("tfidf")
    with pytest.raises(KeyError, match="choose from"):
        make("nope")


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_fits_and_predicts(name: str, make_convs) -> None:
    train = make_convs(40, seed=10, timing=True)
    test = make_convs(30, seed=11, timing=True, prefix="t")
    model = make(name)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict_proba([test[0].prefix(1)])
    assert model.fit(train) is model
    full = model.predict_proba(test)
    early = model.predict_proba([c.prefix(1) for c in test])
    assert full.shape == early.shape == (30,)
    assert np.all((full >= 0) & (full <= 1)) and np.all((early >= 0) & (early <= 1))
    assert model.predict_proba([]).shape == (0,)
    y = np.array([c.label for c in test])
    if name == "base_rate":
        assert np.allclose(full, np.mean([c.label for c in train]))
    else:  # the keen / reluctant customer lines are learnable
        assert roc_auc_score(y, full) > 0.8


def _with_reps(convs: list[Conversation], seed: int) -> list[Conversation]:
    """The calls with a rep id that says a lot about the outcome (the closer wins 85 %)."""
    rng = np.random.default_rng(seed)
    return [c.model_copy(update={"metadata": c.metadata.model_copy(update={
        "rep_id": "closer" if (c.label == 1) == (rng.random() < 0.85) else "other"})})
        for c in convs]


def test_tfidf_roles_context_reads_the_metadata_prior(make_convs) -> None:
    train = _with_reps(make_convs(200, seed=20), 0)
    test = _with_reps(make_convs(120, seed=21, prefix="t"), 1)
    y = np.array([c.label for c in test])
    first = [c.prefix(1) for c in test]  # a rep's greeting: the text alone says nothing
    plain = make("tfidf_roles").fit(train)
    ctx = make("tfidf_roles_context").fit(train)
    assert ctx.prior_ is not None
    assert roc_auc_score(y, ctx.predict_proba(first)) > roc_auc_score(
        y, plain.predict_proba(first)) + 0.2
    # without usable metadata it is tfidf_roles
    bare = make("tfidf_roles_context").fit(make_convs(200, seed=20))
    assert bare.prior_ is None
    np.testing.assert_allclose(bare.predict_proba(test), plain.predict_proba(test), atol=1e-6)


def test_init_does_no_work() -> None:
    model = TfidfRolesPredictor(C=0.5, last_turns=2)
    assert model.C == 0.5 and model.last_turns == 2
    assert not [k for k in vars(model) if k.endswith("_")]


def _conv(turns: list[Turn]) -> Conversation:
    return Conversation(id="x", turns=turns, outcome=Outcome.CONVERTED)


def test_engineered_features_by_hand() -> None:
    conv = _conv([
        Turn(role="rep", text="Hello! Is $20 a month ok?", start=0.0, end=3.0),
        Turn(role="customer", text="Great, I love it!", start=5.0, end=6.0),
        Turn(role="rep", text="Shall we start? Two seats?", start=6.5, end=8.0),
    ])
    f = dict(zip(FEATURE_NAMES, conversation_features(conv), strict=True))
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert f["n_turns"] == 3 and f["rep_turns"] == 2 and f["customer_turns"] == 1
    assert f["rep_questions"] == 3 and f["customer_questions"] == 0
    assert f["rep_exclamations"] == 1 and f["customer_exclamations"] == 1
    assert f["rep_numbers"] == 1 and f["rep_prices"] == 1
    assert f["customer_words"] == 4 and f["last_turn_words"] == 5
    assert f["customer_sentiment_mean"] > 0.5
    assert f["has_timing"] == 1 and f["gap_mean"] == pytest.approx(1.25)
    assert f["gap_last"] == pytest.approx(0.5) and f["duration"] == pytest.approx(8.0)
    untimed = _conv([Turn(role="rep", text="Hi")])
    g = dict(zip(FEATURE_NAMES, conversation_features(untimed), strict=True))
    assert g["has_timing"] == 0 and g["gap_mean"] == -1 and g["customer_turns"] == 0


def test_engineered_features_use_the_prefix_only(make_convs) -> None:
    conv = make_convs(1, seed=12, min_turns=8)[0]
    k = 4
    changed = conv.model_copy(update={"turns": [
        *conv.turns[:k], *[Turn(role=t.role, text="Terrible!!! $5 $6 ???") for t in conv.turns[k:]]
    ]})
    assert np.array_equal(feature_matrix([conv.prefix(k)]), feature_matrix([changed.prefix(k)]))
    assert not np.array_equal(feature_matrix([conv]), feature_matrix([changed]))
