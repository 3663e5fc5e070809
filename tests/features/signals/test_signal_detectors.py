"""Act detectors: obvious cases fire, neutral text does not, scores are well-formed."""

from __future__ import annotations

import numpy as np
import pytest
from signal_cases import CUSTOMER_CASES, NEUTRAL_CUSTOMER, NEUTRAL_REP, REP_CASES, BagOfWords

from salesrl.conversation.acts import CustomerAct, RepAct
from salesrl.features.signals import (
    ALL_ACTS,
    CUSTOMER_ACTS,
    REP_ACTS,
    ActDetector,
    LexiconDetector,
    PrototypeDetector,
    fit_thresholds,
)
from salesrl.features.signals.detectors import noisy_or, prf

DETECTOR = ActDetector()


def test_vocabulary_matches_the_shared_act_enums():
    assert set(REP_ACTS) == {a.value for a in RepAct}
    assert set(CUSTOMER_ACTS) == {a.value for a in CustomerAct}
    assert set(REP_CASES) == set(REP_ACTS) and set(CUSTOMER_CASES) == set(CUSTOMER_ACTS)


@pytest.mark.parametrize(("role", "act", "text"), [
    *(("rep", a, t) for a, ts in REP_CASES.items() for t in ts),
    *(("customer", a, t) for a, ts in CUSTOMER_CASES.items() for t in ts),
])
def test_obvious_cases_are_detected(role, act, text):
    result = DETECTOR.detect(text, role)
    assert act in result.labels, (text, sorted(result.labels))
    assert result.get(act) >= 0.5


@pytest.mark.parametrize("text", NEUTRAL_REP)
def test_neutral_rep_text_fires_nothing(text):
    assert DETECTOR.detect(text, "rep").labels == frozenset()


@pytest.mark.parametrize("text", NEUTRAL_CUSTOMER)
def test_neutral_customer_text_fires_nothing(text):
    assert DETECTOR.detect(text, "customer").labels == frozenset()


@pytest.mark.parametrize(("text", "act"), [
    ("I wouldn't say it's too expensive.", "objection_price"),
    ("I don't think it sounds great, to be honest.", "interest"),
    ("We never said we'd go ahead.", "commitment"),
])
def test_negated_cues_do_not_fire(text, act):
    assert act not in DETECTOR.detect(text, "customer").labels


def test_negation_does_not_cross_a_clause_boundary():
    assert "objection_price" in DETECTOR.detect("No, it's too expensive.", "customer").labels


def test_scores_are_role_gated_and_in_unit_interval():
    rep_mask = np.isin(ALL_ACTS, REP_ACTS)
    text = "That's too expensive, can you do a discount? Let's schedule a demo."
    for role, own in (("rep", rep_mask), ("customer", ~rep_mask)):
        r = DETECTOR.detect(text, role)
        assert r.scores.shape == (len(ALL_ACTS),) and r.scores.dtype == np.float32
        assert np.all((r.scores >= 0) & (r.scores <= 1))
        assert np.all(r.scores[~own] == 0)
        assert r.scores[own].max() > 0.5
        assert all(a in np.asarray(ALL_ACTS)[own] for a in r.labels)


def test_spin_questions_are_damped_without_a_question():
    asked = LexiconDetector().score("What challenges do you have with the current tool?", "rep")
    stated = LexiconDetector().score("We talked about challenges with the current tool.", "rep")
    i = ALL_ACTS.index("problem_question")
    assert asked[i] >= 0.5 > stated[i] > 0


def test_custom_patterns_and_thresholds():
    lex = LexiconDetector(patterns={"discount": ((r"\bcheap\b", 0.6),)})
    det = ActDetector(lexicon=lex, thresholds={"discount": 0.7})
    assert det.score("cheap as chips", "rep")[ALL_ACTS.index("discount")] == pytest.approx(0.6)
    assert det.detect("cheap as chips", "rep").labels == frozenset()
    assert ActDetector(lexicon=lex).detect("cheap as chips", "rep").labels == {"discount"}


def test_noisy_or_and_prf():
    assert noisy_or([]) == 0.0
    assert noisy_or([0.5, 0.5]) == pytest.approx(0.75)
    p, r, f, n = prf(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))
    assert (p, r, f, n) == (0.5, 0.5, 0.5, 2)


def test_fit_thresholds_separates_scores():
    scores = np.array([[0.9, 0.1], [0.7, 0.2], [0.3, 0.3], [0.2, 0.1]])
    y = np.array([[1, 0], [1, 0], [0, 0], [0, 0]], dtype=bool)
    th = fit_thresholds(scores, y, acts=("a", "b"), default=0.5)
    assert 0.3 < th["a"] <= 0.7 and th["b"] == 0.5


def test_prototype_detector_scores_nearest_act():
    backend = BagOfWords()
    proto = PrototypeDetector(backend, prototypes={
        "discount": ("twenty percent off the first year",),
        "demo_offer": ("let me show you the product",),
        "stall": ("send me some info",),
    }, center=0.5, temperature=0.1).fit()
    emb = backend.embed(["twenty percent off the first year"])[0]
    s = proto.score(emb, "rep")
    assert s[ALL_ACTS.index("discount")] > 0.95 > s[ALL_ACTS.index("demo_offer")]
    assert s[ALL_ACTS.index("stall")] == 0  # customer act, rep turn
    assert s[ALL_ACTS.index("closing_attempt")] == 0  # no prototype
    with pytest.raises(ValueError, match="dim"):
        proto.score(np.ones(3), "rep")
    with pytest.raises(RuntimeError, match="fit"):
        PrototypeDetector(backend).score(emb, "rep")


def test_fused_detector_adds_prototype_evidence_only_with_an_embedding():
    backend = BagOfWords()
    proto = PrototypeDetector(backend, prototypes={"discount": ("knock a bit off for you",)},
                              center=0.5, temperature=0.1).fit()
    det = ActDetector(prototype=proto, prototype_weight=0.8)
    text = "I can knock a bit off for you."
    i = ALL_ACTS.index("discount")
    without = det.score(text, "rep")
    with_emb = det.score(text, "rep", backend.embed([text])[0])
    assert without[i] < 0.5 <= with_emb[i]
    assert "discount" in det.detect(text, "rep", backend.embed([text])[0]).labels


def test_default_prototypes_cover_every_act():
    proto = PrototypeDetector(BagOfWords()).fit()
    assert proto.has_act_.all()
    assert proto.prototypes_.shape[1] == BagOfWords.dim


def test_detector_config_round_trip():
    det = ActDetector(prototype_weight=0.3, thresholds={"discount": 0.6}, default_threshold=0.4)
    back = ActDetector.from_dict(det.to_dict())
    assert back.to_dict() == det.to_dict()
    np.testing.assert_array_equal(back.threshold_array(), det.threshold_array())


def test_persuasion_cues_are_opt_in():
    from salesrl.features.signals import lexicons as lx

    text = "Would you like to donate part of your payment to the charity?"
    assert "closing_attempt" not in DETECTOR.detect(text, "rep").labels
    merged = lx.with_persuasion_cues()
    assert merged["closing_attempt"][: len(lx.REP_PATTERNS[RepAct.CLOSING_ATTEMPT])] == \
        lx.REP_PATTERNS[RepAct.CLOSING_ATTEMPT]
    cues = ActDetector(lexicon=LexiconDetector(patterns=merged))
    assert "closing_attempt" in cues.detect(text, "rep").labels
    assert "commitment" in cues.detect("Yes, I'd like to donate.", "customer").labels
