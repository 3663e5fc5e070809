"""Tree ensembles on engineered conversation features, computed from the prefix alone.

Hand-made, model-free features of the kind used as non-neural baselines in conversational
forecasting (Chang & Danescu-Niculescu-Mizil, EMNLP 2019): turn counts per role, words per role,
mean and last turn length, question and exclamation marks, VADER sentiment (Hutto & Gilbert,
ICWSM 2014) mean and last per role, numbers and prices mentioned, and response gaps when turns
carry timestamps. Both models are trained on prefixes of the training conversations at several
fractions so that they learn what a partial conversation looks like.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Self

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.ensemble import RandomForestClassifier

from salesrl.conversation import Conversation, Turn
from salesrl.evaluation.baselines._common import check_fitted, labels, training_prefixes
from salesrl.evaluation.predictor import ConversionPredictor, register

TRAIN_FRACTIONS: tuple[float, ...] = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0)
ROLES = ("rep", "customer")
MISSING = -1.0  # value of a timing feature when the turns carry no timestamps

_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PRICE = re.compile(r"[$€£]\s?\d|\d\s?(?:dollars?|cents?|usd|eur|euros?|k\b|%)", re.IGNORECASE)

_PER_ROLE = ("turns", "words", "words_mean", "words_last", "questions", "exclamations",
             "numbers", "prices", "sentiment_mean", "sentiment_last", "sentiment_min")
FEATURE_NAMES: tuple[str, ...] = (
    "n_turns", "words", "last_turn_words", "last_role_customer", "customer_word_share",
    *(f"{r}_{f}" for r in ROLES for f in _PER_ROLE),
    "has_timing", "gap_mean", "gap_last", "duration",
)


@lru_cache(maxsize=1)
def _analyzer() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=200_000)
def _turn_stats(text: str) -> tuple[float, float, float, float, float, float]:
    """(words, questions, exclamations, numbers, prices, VADER compound) of one turn."""
    return (
        float(len(_WORD.findall(text))),
        float(text.count("?")),
        float(text.count("!")),
        float(len(_NUMBER.findall(text))),
        float(len(_PRICE.findall(text))),
        float(_analyzer().polarity_scores(text)["compound"]),  # type: ignore[attr-defined]
    )


def _timing(turns: Sequence[Turn]) -> list[float]:
    if not turns or any(t.start is None or t.end is None for t in turns):
        return [0.0, MISSING, MISSING, MISSING]
    gaps = [max(0.0, b.start - a.end) for a, b in zip(turns, turns[1:], strict=False)
            if a.role != b.role]  # type: ignore[operator]
    return [1.0, float(np.mean(gaps)) if gaps else MISSING, gaps[-1] if gaps else MISSING,
            float(turns[-1].end - turns[0].start)]  # type: ignore[operator]


def conversation_features(conv: Conversation) -> np.ndarray:
    """The feature vector of one conversation (or prefix), in :data:`FEATURE_NAMES` order."""
    stats = [_turn_stats(t.text) for t in conv.turns]
    total_words = sum(s[0] for s in stats)
    last = conv.turns[-1] if conv.turns else None
    row = [float(len(conv.turns)), total_words, stats[-1][0] if stats else 0.0,
           float(last is not None and last.role.value == "customer")]
    customer_words = sum(s[0] for s, t in zip(stats, conv.turns, strict=True)
                         if t.role.value == "customer")
    row.append(customer_words / total_words if total_words else 0.5)
    for role in ROLES:
        mine = [s for s, t in zip(stats, conv.turns, strict=True) if t.role.value == role]
        if mine:
            arr = np.array(mine)
            row += [float(len(mine)), arr[:, 0].sum(), arr[:, 0].mean(), arr[-1, 0],
                    arr[:, 1].sum(), arr[:, 2].sum(), arr[:, 3].sum(), arr[:, 4].sum(),
                    arr[:, 5].mean(), arr[-1, 5], arr[:, 5].min()]
        else:
            row += [0.0] * len(_PER_ROLE)
    row += _timing(conv.turns)
    return np.array(row, dtype=float)


def feature_matrix(conversations: Sequence[Conversation]) -> np.ndarray:
    """One row of :func:`conversation_features` per conversation."""
    if not conversations:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.vstack([conversation_features(c) for c in conversations])


class _EngineeredPredictor(ConversionPredictor):
    """Shared fit / predict: features of training prefixes -> a probabilistic classifier."""

    train_fractions: Sequence[float]

    def _make_model(self) -> object:
        raise NotImplementedError

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        labels(conversations)
        prefixes, y, _ = training_prefixes(conversations, self.train_fractions)
        self.model_ = self._make_model()
        self.model_.fit(feature_matrix(prefixes), y)  # type: ignore[attr-defined]
        return self

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        check_fitted(self, "model_")
        if len(prefixes) == 0:
            return np.zeros(0)
        return self.model_.predict_proba(feature_matrix(prefixes))[:, 1]  # type: ignore[attr-defined]


@register("random_forest", "random forest on engineered prefix features (turns, words, "
          "questions, VADER sentiment, numbers, timing)")
class RandomForestPredictor(_EngineeredPredictor):
    """Random forest (Breiman, 2001) on :data:`FEATURE_NAMES`."""

    name = "random_forest"

    def __init__(self, n_estimators: int = 200, min_samples_leaf: int = 20,
                 max_features: str | float = "sqrt",
                 train_fractions: Sequence[float] = TRAIN_FRACTIONS,
                 random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.train_fractions = train_fractions
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _make_model(self) -> RandomForestClassifier:
        return RandomForestClassifier(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features, random_state=self.random_state, n_jobs=self.n_jobs)


@register("gbm", "LightGBM gradient boosting on engineered prefix features (turns, words, "
          "questions, VADER sentiment, numbers, timing)")
class GBMPredictor(_EngineeredPredictor):
    """Gradient-boosted trees, LightGBM (Ke et al., NeurIPS 2017), on :data:`FEATURE_NAMES`."""

    name = "gbm"

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.02,
                 num_leaves: int = 7, min_child_samples: int = 80,
                 subsample: float = 0.8, colsample_bytree: float = 0.8,
                 train_fractions: Sequence[float] = TRAIN_FRACTIONS,
                 random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.train_fractions = train_fractions
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _make_model(self) -> LGBMClassifier:
        return LGBMClassifier(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
            subsample=self.subsample, subsample_freq=1, colsample_bytree=self.colsample_bytree,
            random_state=self.random_state, n_jobs=self.n_jobs, verbose=-1)
