"""The regex prefilter: derived requirements are necessary, so filtering never changes a result."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from signal_cases import CUSTOMER_CASES, NEUTRAL_CUSTOMER, NEUTRAL_REP, REP_CASES

from salesrl.conversation import Role
from salesrl.features.signals import ALL_ACTS, LexiconDetector, analyse
from salesrl.features.signals import lexicons as lx
from salesrl.features.signals import prefilter as pf
from salesrl.features.signals.detectors import ACT_INDEX, noisy_or, role_mask
from salesrl.features.signals.prefilter import RegexSet, requirements, words

ALL_PATTERNS = [p for pats in (*lx.REP_PATTERNS.values(), *lx.CUSTOMER_PATTERNS.values(),
                               *lx.PERSUASION_PATTERNS.values()) for p, _ in pats]
ALL_PATTERNS += [*lx.HEDGES, *lx.MONEY, *lx.URGENCY, lx.NUMBER, lx.IMPERATIVE_QUESTIONS]

EDGE_CASES = [
    "", " ", "non-price terms", "a follow-up call", "it's $1,500/month, 20k a year", "5k seats",
    "we can't afford it", "i don't know. maybe", "that's too expensive!", "price-wise fine",
    "café prix", "twenty-one users", "no", "no.", "nope", "no, thanks", "so...what's the cost?",
    "tell me about your team", "x-what crm", "the price.", "price's fine", "prices go up friday",
    "hi", "hello there", "i'm in", "we're in!", "approved", "de-risk", "o'clock", "3rd quarter",
]


def _corpus(n: int, seed: int) -> list[str]:
    """Random texts stitched from the lexicons' own words and separators: many near-matches."""
    rng = random.Random(seed)
    vocab = sorted({w for p in ALL_PATTERNS for w in re.findall(r"[a-z0-9']+", p) if len(w) > 1})
    seps = [" ", " ", " ", "-", "'", ", ", ". ", "? ", "/", "$", " 12 ", "n't "]
    texts = []
    for _ in range(n):
        parts = [rng.choice(vocab) for _ in range(rng.randint(1, 14))]
        texts.append("".join(p + rng.choice(seps) for p in parts).strip())
    return texts


def _texts() -> list[str]:
    cases = [t for ts in (*REP_CASES.values(), *CUSTOMER_CASES.values()) for t in ts]
    raw = cases + list(NEUTRAL_REP) + list(NEUTRAL_CUSTOMER) + EDGE_CASES + _corpus(400, 3)
    return [analyse(t).norm for t in raw]


def test_requirements_of_simple_patterns():
    assert ("w", frozenset({"price"})) in requirements(r"\bprice\b")[0]
    assert requirements(r"(?i)price") == ()  # flags are not analysed: always searched
    assert requirements(r"[a-z]+") == ()
    assert requirements(r"\d+") == (frozenset({("c", "digit")}),)
    # "tool" may begin "tools": only "what", delimited by \b and the space, is a whole word
    assert requirements(r"\bwhat tool")[0] == frozenset({("w", frozenset({"what"}))})
    assert requirements(r"what tool")[0] == frozenset({("s", "what tool")})


def test_candidates_are_selective():
    rs = RegexSet([r"\bprice\b", r"\bdemo\b", r"\bhow are you\b", r"[a-z]+"])
    assert rs.candidates("a demo today") == {1, 3}
    assert rs.candidates("how are you") == {2, 3}
    assert rs.candidates("how is it") == {3}
    # word pairs count only between words delimited inside the pattern: "a" may begin "apple"
    assert RegexSet([r"\ba b a"]).candidates("a b apple") == {0}
    assert RegexSet([r"\bbook the demo\b"]).candidates("the demo book") == set()


def test_every_match_is_a_candidate():
    rs = RegexSet(ALL_PATTERNS)
    texts = _texts()
    missed = [(rs.patterns[i].pattern, t) for t in texts for i in range(len(rs))
              if rs.patterns[i].search(t) and i not in rs.candidates(t)]
    assert missed == []
    kept = np.mean([len(rs.candidates(t)) for t in texts]) / len(rs)
    assert kept < 0.2  # and it does filter


def test_words_are_alphanumeric_runs_and_their_pairs():
    assert words("non-price, it's 20k!") == {"non", "price", "it", "s", "20k", "non price",
                                            "price it", "it s", "s 20k"}


def _full_scan(det: LexiconDetector, text: str, role: Role) -> np.ndarray:
    """The detector's scores without the prefilter: every pattern of the role searched."""
    stats = analyse(text)
    mask = role_mask(role)
    out = np.zeros(len(ALL_ACTS))
    question = ACT_INDEX["question"]
    for act, pats in {**lx.REP_PATTERNS, **lx.CUSTOMER_PATTERNS}.items():
        idx = ACT_INDEX[str(act)]
        if not mask[idx]:
            continue
        weights = [w for p, w in pats if det._matches(re.compile(p), stats.norm)]
        if idx == question:
            if stats.n_question_marks:
                weights.append(lx.QUESTION_MARK_WEIGHT)
            elif stats.n_question_openings:
                weights.append(lx.QUESTION_OPENING_WEIGHT)
        s = noisy_or(weights)
        if ALL_ACTS[idx] in lx.QUESTION_GATED and not stats.is_question:
            s *= lx.QUESTION_GATE_FACTOR
        out[idx] = s
    return out


@pytest.mark.parametrize("role", [Role.REP, Role.CUSTOMER])
def test_lexicon_scores_equal_a_full_scan(role):
    det = LexiconDetector()
    raw = [t for ts in (*REP_CASES.values(), *CUSTOMER_CASES.values()) for t in ts]
    for text in raw + EDGE_CASES + _corpus(150, 4):
        np.testing.assert_array_equal(det.score(text, role), _full_scan(det, text, role),
                                      err_msg=text)


def test_group_structure_skips_escapes_and_classes():
    # _close and _split_top read one scan of the pattern's groups (prefilter._structure)
    assert pf._split_top(r"a(b|c)|d\|e|[|)]f") == ["a(b|c)", r"d\|e", "[|)]f"]
    assert pf._split_top(r"(a|b") is None  # unbalanced
    assert pf._split_top(r"a|[bc") is None  # unclosed class
    assert pf._close(r"(a[)]\)(b))c", 0) == 10
    assert pf._close(r"(a[)", 0) is None
    assert pf._close(r"(ab", 0) is None


def test_bounded_repeats_expand_to_every_count():
    assert pf._seq_exact(list(pf._sre.parse(r"(ab){1,2}c"))) == {"abc", "ababc"}
    assert pf._seq_exact(list(pf._sre.parse(r"x?y"))) == {"y", "xy"}
    assert len(pf._seq_exact(list(pf._sre.parse(r"[ab]{3}[cd]{3}")))) == 64  # 8 x 8
    assert pf._seq_exact(list(pf._sre.parse(r"[ab]{3}[cd]{3}[ef]"))) is None  # > _MAX_SET
