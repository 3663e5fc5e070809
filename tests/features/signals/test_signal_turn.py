"""Per-turn surface features."""

from __future__ import annotations

import pytest

from salesrl.conversation import Role, Turn
from salesrl.features.signals import TURN_FEATURE_NAMES, analyse, turn_features


def feats(text, role=Role.CUSTOMER, start=None, end=None, prev_end=None):
    return turn_features(Turn(role=role, text=text, start=start, end=end), prev_end)


def test_names_and_order():
    f = feats("hello")
    assert tuple(f) == TURN_FEATURE_NAMES


def test_lengths_questions_and_role():
    f = feats("What does it cost? And is there a trial?", role=Role.REP)
    assert f["turn_is_rep"] == 1.0
    assert f["turn_words"] == 9
    assert f["turn_questions"] == 2


def test_unpunctuated_questions_are_counted_only_without_question_marks():
    assert analyse("do you have a minute. how big is the team").n_questions == 2
    assert analyse("Do it now. We will").n_questions == 0
    assert analyse("How big is it? do you have time").n_questions == 1


def test_missing_timestamps_give_zero_and_indicators():
    f = feats("Fine.")
    assert (f["turn_has_time"], f["turn_duration_s"], f["turn_has_gap"], f["turn_gap_s"]) == (
        0.0, 0.0, 0.0, 0.0)
    f = feats("Fine.", start=12.0, end=14.5, prev_end=10.0)
    assert (f["turn_has_time"], f["turn_duration_s"], f["turn_has_gap"], f["turn_gap_s"]) == (
        1.0, 2.5, 1.0, 2.0)
    f = feats("Fine.", start=9.0, end=14.5, prev_end=10.0)  # overlap: clipped gap
    assert f["turn_gap_s"] == 0.0 and f["turn_has_gap"] == 1.0


def test_sentiment_signs():
    assert feats("This is great, I love it!")["turn_sentiment"] > 0.5
    assert feats("This is terrible and a waste of money.")["turn_sentiment"] < -0.3
    f = feats("The meeting is on Tuesday.")
    assert f["turn_sentiment"] == pytest.approx(0.0)
    assert f["turn_sentiment_pos"] == f["turn_sentiment_neg"] == 0.0


def test_hedges_numbers_money_urgency():
    f = feats("Maybe, I guess. I'm not sure we have 20k for it, that's $1,500 per month.")
    assert f["turn_hedges"] == 3
    assert f["turn_numbers"] >= 2
    assert f["turn_money"] >= 3
    assert feats("The price goes up at the end of the month, it's a limited-time offer.",
                 role=Role.REP)["turn_urgency"] >= 2
    g = feats("We met at the office.")
    assert (g["turn_hedges"], g["turn_numbers"], g["turn_money"], g["turn_urgency"]) == (0, 0, 0, 0)


def test_normalise_equals_the_regex_whitespace_collapse():
    import random
    import sys

    from salesrl.features.signals.text import _APOSTROPHES, _SPACE, normalise

    every = [chr(c) for c in range(sys.maxunicode + 1)]
    # str.split() (used by normalise) and re's \s agree on what whitespace is
    assert [c for c in every if c.isspace()] == [c for c in every if _SPACE.fullmatch(c)]
    spaces = [c for c in every if c.isspace()]
    rng = random.Random(0)
    for _ in range(500):
        text = "".join(rng.choice([*spaces, "A", "b", "\u2019", ".", "?"]) for _ in range(12))
        assert normalise(text) == _SPACE.sub(" ", text.translate(_APOSTROPHES).lower()).strip()
