"""SignalTracker: incremental == fold, prefix-only, persistence, engagement and objections."""

from __future__ import annotations

import json

import numpy as np
import pytest
from signal_cases import BagOfWords

from salesrl.conversation import Conversation, Role, Turn
from salesrl.features.signals import (
    FEATURE_NAMES,
    ActDetector,
    PrototypeDetector,
    SignalTracker,
    conversation_signals,
)

R, C = Role.REP, Role.CUSTOMER


def turns(timed: bool = True) -> list[Turn]:
    lines = [
        (R, "Hi Sam, thanks for taking the time today. How are you?"),
        (C, "Good thanks."),
        (R, "What tools does your team use for reporting right now?"),
        (C, "Mostly spreadsheets, honestly it takes forever."),
        (R, "How does that delay affect your month-end close?"),
        (C, "That sounds useful but it's too expensive for us, maybe next year."),
        (R, "I understand. I can offer 20% off the first year."),
        (R, "Companies like yours usually see it pay for itself in three months."),
        (C, "Interesting. How long does setup take?"),
        (R, "About two weeks. Shall we get started with a pilot?"),
        (C, "I need to check with my boss first."),
        (R, "Of course, let's schedule a call with her next week."),
        (C, "OK, let's do it."),
    ]
    out, t = [], 0.0
    for role, text in lines:
        if timed:
            dur = 0.3 * len(text.split())
            out.append(Turn(role=role, text=text, start=t + 1.0, end=t + 1.0 + dur))
            t += 1.0 + dur
        else:
            out.append(Turn(role=role, text=text))
    return out


def col(m: np.ndarray, name: str) -> np.ndarray:
    return m[..., FEATURE_NAMES.index(name)]


def test_feature_names_are_unique_and_sized():
    t = SignalTracker()
    v = t.update(turns()[0])
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES) == t.n_features == v.shape[0]
    assert v.dtype == np.float32
    assert t.feature_names == FEATURE_NAMES


@pytest.mark.parametrize("timed", [True, False])
def test_incremental_equals_fold_and_vectors_are_finite(timed):
    conv = turns(timed)
    m = conversation_signals(conv)
    assert m.shape == (len(conv), len(FEATURE_NAMES))
    assert np.isfinite(m).all()
    tracker = SignalTracker()
    for i, t in enumerate(conv):
        np.testing.assert_array_equal(tracker.update(t), m[i])
        # from scratch on the prefix gives the same last row
        np.testing.assert_array_equal(conversation_signals(conv[: i + 1])[-1], m[i])


def test_state_never_depends_on_later_turns():
    conv = turns()
    other = conv[:6] + [Turn(role=C, text="No thanks, we're not interested.", start=999.0,
                             end=1000.0)]
    a, b = conversation_signals(conv), conversation_signals(other)
    np.testing.assert_array_equal(a[:6], b[:6])
    assert not np.array_equal(a[6], b[6])


def test_to_dict_from_dict_round_trip_through_json():
    conv = turns()
    full = conversation_signals(conv)
    t = SignalTracker(ewma_alpha=0.4)
    for turn in conv[:5]:
        t.update(turn)
    blob = json.dumps(t.to_dict())
    restored = SignalTracker.from_dict(json.loads(blob))
    fresh = SignalTracker(ewma_alpha=0.4)
    expected = [fresh.update(x) for x in conv][5:]
    for turn, row in zip(conv[5:], expected, strict=True):
        np.testing.assert_array_equal(restored.update(turn), row)
    assert restored.n_turns == len(conv)
    assert not np.array_equal(full[5:], np.stack(expected))  # the alpha mattered


def test_from_dict_rejects_bad_state():
    d = SignalTracker().to_dict()
    with pytest.raises(ValueError, match="version"):
        SignalTracker.from_dict({**d, "version": 99})
    bad = json.loads(json.dumps(d))
    del bad["state"]["momentum"]
    with pytest.raises(ValueError, match="momentum"):
        SignalTracker.from_dict(bad)


def test_missing_timestamps_are_zero_with_indicators():
    m = conversation_signals(turns(timed=False))
    for name in ("turn_has_time", "turn_duration_s", "turn_has_gap", "turn_gap_s", "elapsed_s",
                 "customer_latency_last", "customer_latency_mean", "switches_per_min"):
        assert (col(m, name) == 0).all(), name
    timed = conversation_signals(turns(timed=True))
    assert (col(timed, "turn_has_time") == 1).all()
    assert col(timed, "turn_has_gap")[0] == 0 and (col(timed, "turn_has_gap")[1:] == 1).all()
    np.testing.assert_allclose(col(timed, "customer_latency_last")[1:], 1.0)
    assert col(timed, "switches_per_min")[-1] > 0
    mixed = turns(timed=True)[:3] + turns(timed=False)[3:5] + turns(timed=True)[5:]
    assert np.isfinite(conversation_signals(mixed)).all()


def test_engagement_signals():
    m = conversation_signals(turns())
    last = m[-1]
    conv = turns()
    rep_words = sum(len(t.text.split()) for t in conv if t.role is R)
    cust_words = sum(len(t.text.split()) for t in conv if t.role is C)
    assert col(last, "talk_listen_ratio") == pytest.approx(rep_words / cust_words, rel=0.1)
    assert col(last, "longest_rep_monologue_turns") == 2
    assert col(last, "rep_monologue_turns") == 0
    assert col(m[7], "rep_monologue_turns") == 2
    assert col(last, "speaker_switches") == 11
    assert col(last, "switches_per_turn") == pytest.approx(11 / 12)
    assert col(last, "customer_questions_total") == 1
    assert col(last, "n_customer_turns") == 6 and col(last, "n_turns") == 13
    assert col(m[5], "customer_words_slope") > 0  # customer answers got longer


def test_detected_acts_and_counts():
    m = conversation_signals(turns())
    assert col(m[2], "act_situation_question") >= 0.5
    assert col(m[4], "act_implication_question") >= 0.5
    assert col(m[6], "act_discount") >= 0.5
    assert col(m[-1], "act_commitment") >= 0.5
    assert col(m[-1], "count_commitment") == 1
    assert col(m[-1], "count_discount") == 1
    assert col(m[-1], "customer_momentum_ewma") > col(m[5], "customer_momentum_ewma")


def test_objection_resolution_tracking():
    m = conversation_signals(turns())
    # turn 5: price + timing objections raised
    assert col(m[5], "objections_raised_total") == 2 and col(m[5], "objections_open") == 2
    assert col(m[5], "open_objection_price") == 1
    # turn 6: discount addresses price (and timing); turn 8: customer moves on -> resolved
    assert col(m[6], "objections_addressed") >= 1
    assert col(m[8], "open_objection_price") == 0
    assert col(m[8], "objections_resolved") >= 1
    # turn 10: authority raised; turn 11: next step addresses it; turn 12: resolved
    assert col(m[10], "open_objection_authority") == 1
    assert col(m[12], "open_objection_authority") == 0
    assert col(m[12], "objections_open") == 0
    assert col(m[12], "objection_resolution_rate") == 1.0


def test_repeated_objection_is_not_resolved():
    conv = [
        Turn(role=C, text="It's too expensive."),
        Turn(role=R, text="I understand, I can offer a discount."),
        Turn(role=C, text="Still too expensive for us, honestly."),
    ]
    last = conversation_signals(conv)[-1]
    assert col(last, "objections_repeated_total") == 1
    assert col(last, "open_objection_price") == 1
    assert col(last, "objections_resolved_total") == 0


def test_prototype_embeddings_flow_through_the_tracker():
    backend = BagOfWords()
    proto = PrototypeDetector(backend, center=0.5, temperature=0.1).fit()
    det = ActDetector(prototype=proto, prototype_weight=0.5)
    conv = turns()
    emb = backend.embed([t.text for t in conv])
    with_emb = conversation_signals(conv, detector=det, embeddings=emb)
    lexicon_only = conversation_signals(conv)
    assert np.isfinite(with_emb).all() and not np.array_equal(with_emb, lexicon_only)
    t = SignalTracker(detector=det)
    for i in range(4):
        t.update(conv[i], emb[i])
    restored = SignalTracker.from_dict(json.loads(json.dumps(t.to_dict())), prototype=proto)
    for i in range(4, len(conv)):
        np.testing.assert_array_equal(restored.update(conv[i], emb[i]), with_emb[i])
    with pytest.raises(ValueError, match="embeddings"):
        conversation_signals(conv, detector=det, embeddings=emb[:3])


def test_empty_and_whole_conversations():
    assert conversation_signals([]).shape == (0, len(FEATURE_NAMES))
    conv = Conversation(id="x", turns=turns(), outcome="converted")
    np.testing.assert_array_equal(conversation_signals(conv), conversation_signals(turns()))
