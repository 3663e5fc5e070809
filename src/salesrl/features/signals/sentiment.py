"""VADER sentiment (Hutto & Gilbert, 2014, ICWSM), the ``vaderSentiment`` 3.3.2 rules, faster.

:class:`FastVader` subclasses the library's ``SentimentIntensityAnalyzer`` and returns exactly
its ``polarity_scores`` (checked against the library on a large sample in the tests). Written
here because the library spends most of its time on work that changes no value:

* the per-character emoji replacement loop is skipped when the text holds no emoji character
  (it would copy the text unchanged; an ASCII text, the usual case, holds none);
* each word is lower-cased once (the library lower-cases the whole turn again for every
  sentiment word in its negation and idiom checks: quadratic in the turn length);
* a text with no word in the VADER lexicon scores all zeros without the per-word rules (every
  per-word valence is 0 there, so the library's sums are 0);
* the per-word rules (``sentiment_valence``, ``scalar_inc_dec``, ``_negation_check``,
  ``_special_idioms_check``, ``_least_check``) run inline on the lower-cased words, in the
  library's order and with its arithmetic, and only for words in the lexicon; the idiom check
  stops early when none of the neighbouring words belongs to any multi-word idiom.

The contrastive "but" rule is the library's own code; :meth:`FastVader.scores` returns the
four scores as a tuple, without the dict.
"""

from __future__ import annotations

import math
import string
from functools import lru_cache

from vaderSentiment import vaderSentiment as _v

from salesrl.features.signals.text import TEXT_CACHE_SIZE

__all__ = ["FastVader", "polarity", "vader"]

_PUNCT = string.punctuation
_NEGATE = frozenset(_v.NEGATE)
_BOOSTER = _v.BOOSTER_DICT
_SPECIAL = _v.SPECIAL_CASES
_N_SCALAR = _v.N_SCALAR
_C_INCR = _v.C_INCR
_NO_OR = ("or", "nor")
# words of the multi-word idioms and boosters that _special_idioms_check looks up
_IDIOM_WORDS = frozenset(w for key in (*_SPECIAL, *_BOOSTER) if " " in key
                         for w in key.split(" "))
_but_check = _v.SentimentIntensityAnalyzer._but_check
_normalize = _v.normalize


def _negated(low: str) -> bool:
    """``vaderSentiment.negated([word])`` of one lower-cased word."""
    return low in _NEGATE or "n't" in low


def _negation_check(valence: float, low: list[str], start_i: int, i: int) -> float:
    """The library's ``_negation_check`` on the lower-cased words."""
    if start_i == 0:
        if _negated(low[i - 1]):
            valence = valence * _N_SCALAR
    elif start_i == 1:
        if low[i - 2] == "never" and (low[i - 1] == "so" or low[i - 1] == "this"):
            valence = valence * 1.25
        elif low[i - 2] == "without" and low[i - 1] == "doubt":
            pass
        elif _negated(low[i - 2]):
            valence = valence * _N_SCALAR
    else:
        if (low[i - 3] == "never" and (low[i - 2] == "so" or low[i - 2] == "this")) or (
                low[i - 1] == "so" or low[i - 1] == "this"):
            valence = valence * 1.25
        elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
            pass
        elif _negated(low[i - 3]):
            valence = valence * _N_SCALAR
    return valence


def _special_idioms_check(valence: float, low: list[str], i: int) -> float:
    """The library's ``_special_idioms_check`` (called with ``i >= 3``) on the lower-cased
    words; the caller skips it when none of the words it reads (``i - 3`` to ``i + 2``) is in a
    multi-word idiom or booster, as every phrase it looks up then misses."""
    n = len(low)
    w0, w1, w2, w3 = low[i], low[i - 1], low[i - 2], low[i - 3]
    onezero = f"{w1} {w0}"
    twoonezero = f"{w2} {w1} {w0}"
    twoone = f"{w2} {w1}"
    threetwoone = f"{w3} {w2} {w1}"
    threetwo = f"{w3} {w2}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in _SPECIAL:
            valence = _SPECIAL[seq]
            break
    if n - 1 > i:
        zeroone = f"{w0} {low[i + 1]}"
        if zeroone in _SPECIAL:
            valence = _SPECIAL[zeroone]
    if n - 1 > i + 1:
        zeroonetwo = f"{w0} {low[i + 1]} {low[i + 2]}"
        if zeroonetwo in _SPECIAL:
            valence = _SPECIAL[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in _BOOSTER:
            valence = valence + _BOOSTER[n_gram]
    return valence


def _valence(lexicon: dict[str, float], words: list[str], low: list[str], i: int,
             cap_diff: bool) -> float:
    """The library's ``sentiment_valence`` of word ``i``, which is in the lexicon."""
    word = low[i]
    valence = lexicon[word]
    if word == "no" and i != len(low) - 1 and low[i + 1] in lexicon:
        valence = 0.0
    if (i > 0 and low[i - 1] == "no") or (i > 1 and low[i - 2] == "no") or (
            i > 2 and low[i - 3] == "no" and low[i - 1] in _NO_OR):
        valence = lexicon[word] * _N_SCALAR
    if cap_diff and words[i].isupper():
        if valence > 0:
            valence += _C_INCR
        else:
            valence -= _C_INCR
    for start_i in range(min(i, 3)):  # the library's ``i > start_i``
        k = i - start_i - 1
        before = low[k]
        if before in lexicon:
            continue
        if before in _BOOSTER:  # scalar_inc_dec
            s = _BOOSTER[before]
            if valence < 0:
                s *= -1
            if words[k].isupper() and cap_diff:
                if valence > 0:
                    s += _C_INCR
                else:
                    s -= _C_INCR
            if start_i == 1 and s != 0:
                s = s * 0.95
            if start_i == 2 and s != 0:
                s = s * 0.9
            valence = valence + s
        else:
            valence = valence + 0.0  # what adding the 0.0 of a non-booster does (-0.0 -> 0.0)
        if start_i == 0:  # _negation_check, inline for the word just before
            if before in _NEGATE or "n't" in before:
                valence = valence * _N_SCALAR
        else:
            valence = _negation_check(valence, low, start_i, i)
            if start_i == 2 and not _IDIOM_WORDS.isdisjoint(low[i - 3 : i + 3]):
                valence = _special_idioms_check(valence, low, i)
    # _least_check
    if i > 1 and low[i - 1] not in lexicon and low[i - 1] == "least":
        if low[i - 2] != "at" and low[i - 2] != "very":
            valence = valence * _N_SCALAR
    elif i > 0 and low[i - 1] not in lexicon and low[i - 1] == "least":
        valence = valence * _N_SCALAR
    return valence


def _score_valence(sentiments: list[float], text: str) -> tuple[float, float, float, float]:
    """The library's ``score_valence`` as (neg, neu, pos, compound), inline."""
    if not sentiments:
        return 0.0, 0.0, 0.0, 0.0
    sum_s = float(sum(sentiments))
    ep_count = min(text.count("!"), 4)  # _punctuation_emphasis
    qm_count = text.count("?")
    qm_amplifier = 0.0 if qm_count <= 1 else qm_count * 0.18 if qm_count <= 3 else 0.96
    punct_emph_amplifier = ep_count * 0.292 + qm_amplifier
    if sum_s > 0:
        sum_s += punct_emph_amplifier
    elif sum_s < 0:
        sum_s -= punct_emph_amplifier
    compound = _normalize(sum_s)
    pos_sum, neg_sum, neu_count = 0.0, 0.0, 0  # _sift_sentiment_scores
    for s in sentiments:
        if s > 0:
            pos_sum += float(s) + 1
        elif s < 0:
            neg_sum += float(s) - 1
        elif s == 0:
            neu_count += 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct_emph_amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct_emph_amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return (round(math.fabs(neg_sum / total), 3), round(math.fabs(neu_count / total), 3),
            round(math.fabs(pos_sum / total), 3), round(compound, 4))


class FastVader(_v.SentimentIntensityAnalyzer):
    """``SentimentIntensityAnalyzer`` with identical scores and less work per call."""

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)
        # ASCII text holds no emoji character (str.isascii is O(1)) unless one is ASCII
        self._ascii_safe = not any(c.isascii() for c in self._emoji_chars)

    def scores(self, text: str) -> tuple[float, float, float, float]:
        """``polarity_scores(text)`` as the tuple (neg, neu, pos, compound)."""
        if not (text.isascii() and self._ascii_safe) and not self._emoji_chars.isdisjoint(text):
            s = super().polarity_scores(text)
            return s["neg"], s["neu"], s["pos"], s["compound"]
        text = text.strip()
        # SentiText: whitespace tokens, punctuation stripped unless that leaves <= 2 characters
        words = [s if len(s := w.strip(_PUNCT)) > 2 else w for w in text.split()]
        low = [w.lower() for w in words]
        lexicon = self.lexicon
        if lexicon.keys().isdisjoint(low):  # every valence is 0: neutral, or nothing at all
            return (0.0, 1.0, 0.0, 0.0) if words else (0.0, 0.0, 0.0, 0.0)
        n_upper = sum(map(str.isupper, words))
        cap_diff = 0 < len(words) - n_upper < len(words)  # allcap_differential
        # every word scores 0 but the lexicon words that are not boosters nor "kind" of "kind of"
        sentiments: list[float] = [0] * len(words)
        last = len(words) - 1
        for i in [i for i, word in enumerate(low) if word in lexicon]:
            word = low[i]
            if word not in _BOOSTER and not (i < last and word == "kind" and low[i + 1] == "of"):
                sentiments[i] = _valence(lexicon, words, low, i, cap_diff)
        if "but" in low:
            sentiments = _but_check(words, sentiments)
        return _score_valence(sentiments, text)

    def polarity_scores(self, text: str) -> dict[str, float]:
        """The library's ``polarity_scores`` (see the module docstring for the shortcuts)."""
        neg, neu, pos, compound = self.scores(text)
        return {"neg": neg, "neu": neu, "pos": pos, "compound": compound}


@lru_cache(maxsize=1)
def vader() -> FastVader:
    """The shared analyser (loading the lexicon takes ~0.1 s)."""
    return FastVader()


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def polarity(text: str) -> tuple[float, float, float]:
    """VADER (compound, pos, neg) of raw text (case and punctuation matter to VADER); cached
    for the last :data:`~salesrl.features.signals.text.TEXT_CACHE_SIZE` distinct texts."""
    neg, _, pos, compound = vader().scores(text)
    return float(compound), float(pos), float(neg)
