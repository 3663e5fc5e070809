"""Per-turn conversation signals computed incrementally from the prefix only.

``SignalTracker.update(turn, embedding=None)`` returns a fixed-length float32 vector
(``FEATURE_NAMES``) per turn: surface features (length, timing, questions, VADER sentiment,
hedges, numbers and prices), act scores for every ``RepAct`` / ``CustomerAct`` from lexicon
detectors optionally fused with embedding prototypes, and running engagement, technique and
objection-resolution signals. ``conversation_signals`` folds ``update`` over a whole prefix.
The text-only parts are cached per text (:data:`~salesrl.features.signals.text.TEXT_CACHE_SIZE`
distinct texts); ``clear_text_caches`` empties those caches.
"""

from salesrl.features.signals.detectors import (
    ALL_ACTS,
    CUSTOMER_ACTS,
    REP_ACTS,
    ActDetector,
    ActScores,
    LexiconDetector,
    PrototypeDetector,
    fit_thresholds,
)
from salesrl.features.signals.text import TextStats, analyse
from salesrl.features.signals.tracker import (
    FEATURE_NAMES,
    SignalTracker,
    conversation_signals,
)
from salesrl.features.signals.turn import TURN_FEATURE_NAMES, turn_features

__all__ = [
    "ALL_ACTS", "CUSTOMER_ACTS", "FEATURE_NAMES", "REP_ACTS", "TURN_FEATURE_NAMES",
    "ActDetector", "ActScores", "LexiconDetector", "PrototypeDetector", "SignalTracker",
    "TextStats", "analyse", "clear_text_caches", "conversation_signals", "fit_thresholds",
    "turn_features",
]


def clear_text_caches() -> None:
    """Empty the per-text caches (text statistics, VADER, cue counts, default lexicon scores):
    for benchmarks that must time uncached work, and to free their memory."""
    from salesrl.features.signals import detectors, sentiment, text, turn

    for cached in (text.analyse, sentiment.polarity, turn._counts, detectors._default_scores):
        cached.cache_clear()
