"""FastVader returns exactly vaderSentiment's scores."""

from __future__ import annotations

import pytest
from signal_cases import CUSTOMER_CASES, NEUTRAL_CUSTOMER, NEUTRAL_REP, REP_CASES
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from salesrl.features.signals.sentiment import FastVader, polarity

TRICKY = [
    "", "   ", "I LOVE it but the price is NOT good", "never so happy", "without doubt great",
    "kind of good", "no good", "not bad at all", "the shit is the bomb", "yeah right",
    "at least it's fine", "least good", "I am very VERY happy!!!", "\U0001F600 great \U0001F44D",
    "no no no", "it isn't great, but it isn't terrible either??", "Sort of ok", "kind of", "but",
    "BUT GOOD but bad", "nor good or bad", "no or nor good", "This is never this bad",
    ":) :( ;)", "The meeting is on Tuesday.", "hardly helpful", "Great!!!!!", "what?!?!",
    "I don't think it's a problem", "uber cool, totally awesome", "somewhat disappointed",
]


@pytest.fixture(scope="module")
def analysers() -> tuple[SentimentIntensityAnalyzer, FastVader]:
    return SentimentIntensityAnalyzer(), FastVader()


def test_identical_scores(analysers):
    lib, fast = analysers
    texts = TRICKY + [t for ts in (*REP_CASES.values(), *CUSTOMER_CASES.values()) for t in ts]
    texts += list(NEUTRAL_REP) + list(NEUTRAL_CUSTOMER)
    for text in texts:
        assert fast.polarity_scores(text) == lib.polarity_scores(text), text


def test_polarity_signs():
    assert polarity("This is great, I love it!")[0] > 0.5
    assert polarity("This is terrible.")[0] < 0
    assert polarity("The meeting is on Tuesday.") == (0.0, 0.0, 0.0)
