"""TF-IDF of the speaker-tagged conversation + logistic regression, fitted on full dialogues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from salesrl.conversation import Conversation
from salesrl.evaluation.baselines._common import check_fitted, labels, tagged
from salesrl.evaluation.predictor import ConversionPredictor, register


@register("tfidf", "TF-IDF 1-2 grams of the speaker-tagged turns + logistic regression (C=1)")
class TfidfPredictor(ConversionPredictor):
    """Bag of n-grams over one document ``"rep: ... customer: ..."`` (Salton & Buckley, 1988),
    logistic regression on top; the text baseline of the PersuasionForGood reference table.
    Trained on full conversations only."""

    name = "tfidf"

    def __init__(self, C: float = 1.0, ngram_range: tuple[int, int] = (1, 2),
                 min_df: int = 1, max_iter: int = 1000) -> None:
        self.C = C
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_iter = max_iter

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        y = labels(conversations)
        self.pipeline_ = Pipeline([
            ("tfidf", TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df)),
            ("lr", LogisticRegression(C=self.C, max_iter=self.max_iter)),
        ])
        self.pipeline_.fit([tagged(c.turns) for c in conversations], y)
        return self

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        check_fitted(self, "pipeline_")
        if len(prefixes) == 0:
            return np.zeros(0)
        return self.pipeline_.predict_proba([tagged(p.turns) for p in prefixes])[:, 1]
