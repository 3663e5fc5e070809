"""VADER sentiment (Hutto & Gilbert, 2014, ICWSM), the ``vaderSentiment`` 3.3.2 rules, faster.

:class:`FastVader` subclasses the library's ``SentimentIntensityAnalyzer`` and returns exactly
its ``polarity_scores`` (checked on a large sample in the tests), with three shortcuts that
change no value, written here because the library spends most of its time on them:

* the per-character emoji replacement loop is skipped when the text holds no emoji character
  (it would copy the text unchanged);
* a text with no word in the VADER lexicon scores all zeros without the per-word rules (every
  per-word valence is 0 there, so the library's sums are 0);
* the negation and idiom checks, which lower-case the whole turn again for every sentiment
  word (quadratic in the turn length), read only the few neighbouring words they need, and
  the idiom check stops early when none of those words belongs to any multi-word idiom;
* words outside the lexicon get their 0 valence without a call to ``sentiment_valence``.
"""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment import vaderSentiment as _v

__all__ = ["FastVader", "polarity", "vader"]

_NEGATE = frozenset(_v.NEGATE)
# words of the multi-word idioms and boosters that _special_idioms_check looks up
_IDIOM_WORDS = frozenset(w for key in (*_v.SPECIAL_CASES, *_v.BOOSTER_DICT) if " " in key
                         for w in key.split(" "))


def _negated_word(word: str) -> bool:
    """``vaderSentiment.negated([word])`` for one word, without rebuilding the NEGATE list."""
    w = str(word).lower()
    return w in _NEGATE or "n't" in w


class FastVader(_v.SentimentIntensityAnalyzer):
    """``SentimentIntensityAnalyzer`` with identical scores and less work per call."""

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        """The library's ``polarity_scores`` (see the module docstring for the shortcuts)."""
        if not self._emoji_chars.isdisjoint(text):
            return super().polarity_scores(text)
        text = text.strip()
        sentitext = _v.SentiText(text)
        words = sentitext.words_and_emoticons
        lowered = [w.lower() for w in words]
        lexicon = self.lexicon
        if lexicon.keys().isdisjoint(lowered):
            return self.score_valence([0] * len(words), text)
        # the library's loop, verbatim but for the lower-casing done once above
        sentiments: list[float] = []
        last = len(words) - 1
        for i, item in enumerate(words):
            low = lowered[i]
            modifier = low in _v.BOOSTER_DICT or (
                i < last and low == "kind" and lowered[i + 1] == "of")
            if modifier or low not in lexicon:  # (sentiment_valence appends 0 for the latter)
                sentiments.append(0)
            else:
                sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)

    @staticmethod
    def _negation_check(valence: float, words_and_emoticons: list[str], start_i: int,
                        i: int) -> float:
        """The library's check, lower-casing only the three words before ``i``."""
        def low(k: int) -> str:
            return str(words_and_emoticons[k]).lower()

        if start_i == 0 and _negated_word(words_and_emoticons[i - 1]):
            valence = valence * _v.N_SCALAR
        if start_i == 1:
            if low(i - 2) == "never" and low(i - 1) in ("so", "this"):
                valence = valence * 1.25
            elif low(i - 2) == "without" and low(i - 1) == "doubt":
                pass
            elif _negated_word(words_and_emoticons[i - 2]):
                valence = valence * _v.N_SCALAR
        if start_i == 2:
            if (low(i - 3) == "never" and low(i - 2) in ("so", "this")) or low(i - 1) in (
                    "so", "this"):
                valence = valence * 1.25
            elif low(i - 3) == "without" and (low(i - 2) == "doubt" or low(i - 1) == "doubt"):
                pass
            elif _negated_word(words_and_emoticons[i - 3]):
                valence = valence * _v.N_SCALAR
        return valence

    @staticmethod
    def _special_idioms_check(valence: float, words_and_emoticons: list[str], i: int) -> float:
        """The library's check, lower-casing only the words around ``i``."""
        n = len(words_and_emoticons)

        def low(k: int) -> str:
            return str(words_and_emoticons[k]).lower()

        w0, w1, w2, w3 = low(i), low(i - 1), low(i - 2), low(i - 3)
        near = [w0, w1, w2, w3] + [low(k) for k in (i + 1, i + 2) if k < n]
        if _IDIOM_WORDS.isdisjoint(near):  # every phrase below needs all its words: none here
            return valence
        onezero = f"{w1} {w0}"
        twoonezero = f"{w2} {w1} {w0}"
        twoone = f"{w2} {w1}"
        threetwoone = f"{w3} {w2} {w1}"
        threetwo = f"{w3} {w2}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in _v.SPECIAL_CASES:
                valence = _v.SPECIAL_CASES[seq]
                break
        if n - 1 > i:
            zeroone = f"{w0} {low(i + 1)}"
            if zeroone in _v.SPECIAL_CASES:
                valence = _v.SPECIAL_CASES[zeroone]
        if n - 1 > i + 1:
            zeroonetwo = f"{w0} {low(i + 1)} {low(i + 2)}"
            if zeroonetwo in _v.SPECIAL_CASES:
                valence = _v.SPECIAL_CASES[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in _v.BOOSTER_DICT:
                valence = valence + _v.BOOSTER_DICT[n_gram]
        return valence


@lru_cache(maxsize=1)
def vader() -> FastVader:
    """The shared analyser (loading the lexicon takes ~0.1 s)."""
    return FastVader()


def polarity(text: str) -> tuple[float, float, float]:
    """VADER (compound, pos, neg) of raw text (case and punctuation matter to VADER)."""
    s = vader().polarity_scores(text)
    return float(s["compound"]), float(s["pos"]), float(s["neg"])
