"""Text normalisation and the cheap surface statistics every signal needs, computed once a turn."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

from salesrl.features.signals.lexicons import IMPERATIVE_QUESTIONS, QUESTION_OPENINGS
from salesrl.features.signals.prefilter import RegexSet

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_QMARKS = re.compile(r"\?+")
_IMPERATIVE = RegexSet([IMPERATIVE_QUESTIONS])  # its prefilter skips most searches
_AUX = frozenset({"do", "does", "did", "is", "are", "was", "were", "can", "could", "would",
                  "will", "should", "have", "has", "may", "shall"})
_SUBJECTS = frozenset({"you", "we", "i", "they", "it", "there", "your", "that", "this", "he",
                       "she", "the", "anyone", "anybody", "someone", "our", "my"})
_OPENINGS = frozenset(QUESTION_OPENINGS)

#: distinct texts remembered by each per-text cache of the signals (a service sees the same
#: greetings, acknowledgements and stock phrases again and again)
TEXT_CACHE_SIZE = 4096


class TextStats(NamedTuple):
    """Surface statistics of one utterance; ``norm`` is the lower-cased, cleaned text."""

    norm: str
    n_words: int
    n_chars: int
    n_question_marks: int
    n_question_openings: int
    imperative_question: bool

    @property
    def n_questions(self) -> int:
        """Questions in the turn: '?'-marked ones, or unmarked interrogatives when none is."""
        return self.n_question_marks or self.n_question_openings

    @property
    def is_question(self) -> bool:
        """True if the turn asks something, including "Tell me about ..." imperatives."""
        return self.n_questions > 0 or self.imperative_question


def normalise(text: str) -> str:
    """Lower-case, straighten apostrophes and collapse whitespace."""
    # str.split() splits on exactly the characters re's \s matches (checked over all of
    # Unicode in the tests), so this equals _SPACE.sub(" ", ...).strip(), faster
    return " ".join(text.translate(_APOSTROPHES).lower().split())


def _is_interrogative(words: list[str]) -> bool:
    if not words:
        return False
    if words[0] in _AUX:  # "do you ...?" asks, "do it." orders
        return len(words) > 1 and words[1] in _SUBJECTS and words[:2] != ["do", "it"]
    return words[0] in _OPENINGS


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def analyse(text: str) -> TextStats:
    """Compute :class:`TextStats`. Unmarked questions are counted only in a turn with no '?'
    at all: a transcript that punctuates questions is trusted to punctuate all of them.
    Cached for the last :data:`TEXT_CACHE_SIZE` distinct texts (the result is immutable)."""
    norm = normalise(text)
    marks = len(_QMARKS.findall(norm))
    openings = 0
    if not marks:
        for sentence in _SENTENCE_END.split(norm):
            openings += _is_interrogative([m.group() for m in islice(_WORD.finditer(sentence), 2)])
    return TextStats(
        norm=norm,
        n_words=len(_WORD.findall(norm)),
        n_chars=len(text.strip()),
        n_question_marks=marks,
        n_question_openings=openings,
        imperative_question=bool(_IMPERATIVE.candidates(norm))
        and _IMPERATIVE.searchers[0].search(norm) is not None,
    )
