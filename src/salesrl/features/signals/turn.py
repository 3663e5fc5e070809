"""Per-turn surface features: length, timing, questions, sentiment, hedges, numbers and prices.

Sentiment is VADER (Hutto & Gilbert, 2014; :mod:`.sentiment` runs it faster with identical
scores): the normalised ``compound`` score in [-1, 1] and the
``pos`` / ``neg`` proportions. Hedge cues follow Lakoff (1973) and Hyland (1998); the money and
urgency lexicons are ours (:mod:`salesrl.features.signals.lexicons`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from salesrl.conversation.schema import Role, Turn
from salesrl.features.signals import lexicons as lx
from salesrl.features.signals.prefilter import RegexSet, fast_form, words
from salesrl.features.signals.sentiment import polarity
from salesrl.features.signals.text import TEXT_CACHE_SIZE, TextStats, analyse

TURN_FEATURE_NAMES: tuple[str, ...] = (
    "turn_is_rep",
    "turn_words",
    "turn_chars",
    "turn_has_time",  # 1 when start and end are both known
    "turn_duration_s",  # end - start, 0 when unknown
    "turn_has_gap",  # 1 when this turn's start and the previous turn's end are known
    "turn_gap_s",  # silence before the turn (clipped at 0), 0 when unknown
    "turn_questions",
    "turn_sentiment",  # VADER compound
    "turn_sentiment_pos",
    "turn_sentiment_neg",
    "turn_hedges",
    "turn_numbers",
    "turn_money",
    "turn_urgency",
)

# one prefiltered set for the cue lexicons and the number pattern, sliced per lexicon
_CUES = RegexSet([*lx.HEDGES, *lx.MONEY, *lx.URGENCY, lx.NUMBER])
_KIND = (0,) * len(lx.HEDGES) + (1,) * len(lx.MONEY) + (2,) * len(lx.URGENCY) + (3,)
_NUMBER = len(_CUES) - 1
# NUMBER's two alternatives never overlap (digits with a suffix that is no number word, and
# whole words of letters), so its matches are theirs added; words only when one is present
_NUMBER_DIGITS = re.compile(fast_form(lx.NUMBER_DIGITS))
_NUMBER_WORDS = re.compile(fast_form(lx.NUMBER_WORDS))
_NUMBER_WORD_SET = frozenset(lx.NUMBER_WORD_LIST)


def sentiment(text: str) -> tuple[float, float, float]:
    """VADER (compound, pos, neg) of raw text (case and punctuation matter to VADER)."""
    return polarity(text)


def numbers(norm: str) -> int:
    """Matches of :data:`~salesrl.features.signals.lexicons.NUMBER` in ``norm`` (the same
    count as its ``findall``, tested)."""
    n = len(_NUMBER_DIGITS.findall(norm))
    if not words(norm).isdisjoint(_NUMBER_WORD_SET):
        n += len(_NUMBER_WORDS.findall(norm))
    return n


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _counts(norm: str) -> tuple[int, int, int, int]:
    """Matches of the hedge, money and urgency lexicons and of the number pattern (each
    pattern's ``findall`` count, summed per lexicon); cached per text."""
    totals = [0, 0, 0, 0]
    searchers = _CUES.searchers
    for i in _CUES.candidates(norm):
        n = numbers(norm) if i == _NUMBER else len(searchers[i].findall(norm))
        if n:
            totals[_KIND[i]] += n
    return totals[0], totals[1], totals[2], totals[3]


def turn_values(turn: Turn, prev_end: float | None = None,
                stats: TextStats | None = None) -> tuple[float, ...]:
    """:func:`turn_features` as a tuple in :data:`TURN_FEATURE_NAMES` order (no dict)."""
    st = stats if stats is not None else analyse(turn.text)
    start, end = turn.start, turn.end
    has_time = start is not None and end is not None
    duration = float(end - start) if has_time else 0.0  # type: ignore[operator]
    has_gap = start is not None and prev_end is not None
    gap = max(0.0, float(start) - float(prev_end)) if has_gap else 0.0  # type: ignore[arg-type]
    compound, pos, neg = polarity(turn.text)
    hedges, money, urgency, n_numbers = _counts(st.norm)
    return (
        float(turn.role is Role.REP), float(st.n_words), float(st.n_chars), float(has_time),
        duration, float(has_gap), gap, float(st.n_questions), compound, pos, neg,
        float(hedges), float(n_numbers), float(money), float(urgency),
    )


def turn_features(turn: Turn, prev_end: float | None = None,
                  stats: TextStats | None = None) -> dict[str, float]:
    """Features of one turn, keyed by :data:`TURN_FEATURE_NAMES` (in that order).

    ``prev_end`` is the end time of the previous turn, if known. ``stats`` may be passed when
    :func:`salesrl.features.signals.text.analyse` was already run on ``turn.text``.
    """
    return dict(zip(TURN_FEATURE_NAMES, turn_values(turn, prev_end, stats), strict=True))
