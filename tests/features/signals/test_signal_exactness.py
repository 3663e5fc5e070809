"""The fast signal code gives exactly the values of the plain code it replaced.

Every comparison is bit-for-bit (``==`` on floats, ``tobytes`` on arrays) over the several
hundred varied turns of :mod:`signal_reference`, whose slow reference implementations are the
code before the per-turn speed work or the plain form of what the fast code shortcuts.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import signal_reference as ref
from signal_cases import BagOfWords
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from salesrl.conversation import Role
from salesrl.features.signals import (
    ActDetector,
    LexiconDetector,
    PrototypeDetector,
    SignalTracker,
    analyse,
    clear_text_caches,
    conversation_signals,
)
from salesrl.features.signals import lexicons as lx
from salesrl.features.signals.prefilter import RegexSet, fast_form
from salesrl.features.signals.sentiment import FastVader
from salesrl.features.signals.text import normalise
from salesrl.features.signals.turn import numbers, turn_features

ROLES = (Role.REP, Role.CUSTOMER)
ALL_PATTERNS = [p for table in (lx.REP_PATTERNS, lx.CUSTOMER_PATTERNS, lx.PERSUASION_PATTERNS)
                for pats in table.values() for p, _ in pats]
ALL_PATTERNS += [*lx.HEDGES, *lx.MONEY, *lx.URGENCY, lx.NUMBER, lx.NUMBER_DIGITS,
                 lx.NUMBER_WORDS, lx.IMPERATIVE_QUESTIONS]


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return ref.varied_texts()


@pytest.fixture(scope="module")
def norms(texts) -> list[str]:
    return [normalise(t) for t in texts]


@pytest.fixture(scope="module")
def detector() -> ActDetector:
    return ActDetector(prototype=PrototypeDetector(BagOfWords()).fit())


def test_inputs_are_varied(texts):
    assert len(texts) >= 300 and len(set(texts)) >= 250


def test_fast_vader_equals_the_library(texts):
    lib, fast = SentimentIntensityAnalyzer(), FastVader()
    for text in texts:
        expected = lib.polarity_scores(text)
        assert fast.polarity_scores(text) == expected, text
        neg, neu, pos, compound = fast.scores(text)
        assert (neg, neu, pos, compound) == tuple(expected[k] for k in
                                                  ("neg", "neu", "pos", "compound"))


def test_fast_form_rewrites_only_what_it_can():
    assert fast_form(r"\bprice\b") == r"p(?<!\wp)rice\b"
    assert fast_form(r"\b(demo|trial)s?\b") == r"(d(?<!\wd)emo|t(?<!\wt)rial)s?\b"
    assert fast_form(r"(?<![\w.])\d+") == r"(?<![\w.])\d+"  # the \d is quantified
    assert fast_form(r"(?<![\w.])\d[\d,]*") == r"\d(?<![\w.]\d)[\d,]*"
    assert fast_form(r"\bfoo|^bar|\b\dk") == r"f(?<!\wf)oo|^bar|\d(?<!\w\d)k"
    for unchanged in (r"\bs?ome", r"\b(good)?bye\b", r"\b(?:a|b)", r"\b(a|b?c)", r"^(hi|hey)\b",
                      r"(?<!what )\bwe\b", r"\bA", r"\b[a-z]x", r"\b(a|)x",
                      r"(?x)\bfoo # a|\bb"):
        assert fast_form(unchanged) == unchanged
    assert fast_form(r"\b(a[(|]b|c)") == r"(a(?<!\wa)[(|]b|c(?<!\wc))"


def test_fast_forms_match_exactly_where_the_patterns_do(norms):
    rng = np.random.default_rng(0)
    vocab = sorted({w for p in ALL_PATTERNS for w in re.findall(r"[a-z0-9']+", p)})
    seps = [" ", " ", "", "-", "_", ", ", ".", "é", "'", "1"]
    mixes = ["".join(str(rng.choice(vocab)) + str(rng.choice(seps))
                     for _ in range(rng.integers(1, 10))) for _ in range(300)]
    rewritten = [(re.compile(p), re.compile(fast_form(p))) for p in ALL_PATTERNS
                 if fast_form(p) != p]
    assert len(rewritten) > 0.9 * len(ALL_PATTERNS)
    matched = 0
    for text in [*norms, *mixes]:
        for slow, fast in rewritten:
            expected = [m.regs for m in slow.finditer(text)]
            assert [m.regs for m in fast.finditer(text)] == expected, (slow.pattern, text)
            matched += bool(expected)
    assert matched > 500  # the texts exercise the patterns
    regex_set = RegexSet(ALL_PATTERNS[:20])
    assert [p.pattern for p in regex_set.searchers] == [fast_form(p) for p in ALL_PATTERNS[:20]]


def test_numbers_count_the_number_pattern(norms):
    number = re.compile(lx.NUMBER)
    extra = ["1,one", "5s one_two", "two-thirds 3rd", "٣ hundred", "1.5m, 2,000.5k half",
             "x1 one1 .5 a.5 10th-one", "onetwo one_ one"]
    counted = 0
    for text in [*norms, *extra]:
        assert numbers(text) == len(number.findall(text)), text
        counted += numbers(text)
    assert counted > 50


def test_negation_scan_equals_the_regex_scan(norms):
    detector = LexiconDetector()
    for text in norms:
        for start in range(0, len(text) + 1, 7):
            assert detector._negated(text, start) == ref.negated(text, start), (text, start)


@pytest.mark.parametrize("role", ROLES)
def test_lexicon_scores_equal_a_full_scan(texts, role):
    clear_text_caches()
    default, custom = LexiconDetector(), LexiconDetector(patterns=dict(lx.PERSUASION_PATTERNS))
    for text in texts:
        stats = ref.text_stats(text)
        assert analyse(text) == stats
        expected = ref.lexicon_score(stats, role)
        for _ in range(2):  # computed, then from the cache
            assert default.score(text, role).tobytes() == expected.tobytes(), text
        assert custom.score(stats, role).tobytes() == ref.lexicon_score(
            stats, role, dict(lx.PERSUASION_PATTERNS)).tobytes(), text


def test_a_caller_cannot_change_cached_scores():
    detector = LexiconDetector()
    first = detector.score("That's too expensive for us.", Role.CUSTOMER)
    first[:] = 7.0
    again = detector.score("That's too expensive for us.", Role.CUSTOMER)
    assert again.max() <= 1.0 and again.flags.writeable


@pytest.mark.parametrize("thresholds", [None, {"interest": 0.0, "objection_price": -1.0,
                                              "commitment": math.nan, "discount": 0.95}])
def test_detect_equals_the_plain_threshold_test(texts, detector, thresholds):
    backend = BagOfWords()
    with_protos = ActDetector(prototype=detector.prototype, thresholds=thresholds,
                              default_threshold=0.4)
    plain = ActDetector(thresholds=thresholds)
    embeddings = backend.embed(texts)
    for text, emb in zip(texts, embeddings, strict=True):
        for role in ROLES:
            for det, e in ((with_protos, emb), (plain, None)):
                got, expected = det.detect(text, role, e), ref.detect(det, text, role, e)
                assert got.scores.tobytes() == expected.scores.tobytes(), text
                assert got.labels == expected.labels, text
        p = detector.prototype.score(emb, Role.CUSTOMER)
        assert p.tobytes() == ref.prototype_score(detector.prototype, emb, "customer").tobytes()


def test_cutoffs_follow_threshold_changes():
    det = ActDetector()
    text = "Sounds great, I'm interested."
    assert "interest" in det.detect(text, "customer").labels
    det.thresholds = {"interest": 1.5}
    assert "interest" not in det.detect(text, "customer").labels
    det.thresholds["interest"] = 0.1  # changed in place
    assert "interest" in det.detect(text, "customer").labels
    det.default_threshold = 2.0
    assert det.detect(text, "customer").labels == frozenset({"interest"})


def test_turn_features_equal_the_plain_ones():
    clear_text_caches()
    for turns in ref.varied_turns():
        prev_end = None
        for turn in turns:
            stats = ref.text_stats(turn.text)
            assert turn_features(turn, prev_end) == ref.turn_features(turn, prev_end, stats)
            prev_end = turn.end


@pytest.mark.parametrize("prototypes", [False, True])
def test_tracker_rows_equal_the_reference_tracker(detector, prototypes):
    det = detector if prototypes else ActDetector()
    backend = BagOfWords()
    n = 0
    for cold in (True, False):  # per-text caches empty, then full
        if cold:
            clear_text_caches()
        for turns in ref.varied_turns():
            emb = backend.embed([t.text for t in turns]) if prototypes else None
            rows = conversation_signals(turns, detector=det, embeddings=emb, ewma_alpha=0.4)
            tracker, reference = SignalTracker(det, 0.4), ref.ReferenceTracker(det, 0.4)
            for i, turn in enumerate(turns):
                e = None if emb is None else emb[i]
                expected = reference.update(turn, e)
                assert tracker.update(turn, e).tobytes() == expected.tobytes(), turn.text
                assert rows[i].tobytes() == expected.tobytes()
                assert tracker.last_acts_.labels == reference.last_acts_.labels
                n += 1
            assert tracker.to_dict() == reference.to_dict()
    assert n >= 600
