"""The constant forecaster: every prefix gets the training conversion rate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np

from salesrl.conversation import Conversation
from salesrl.evaluation.baselines._common import check_fitted, labels
from salesrl.evaluation.predictor import ConversionPredictor, register


@register("base_rate", "constant: the converted share of the training conversations")
class BaseRatePredictor(ConversionPredictor):
    """Climatology forecast, the reference of the Brier skill score (Brier, 1950)."""

    name = "base_rate"

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        self.rate_ = float(labels(conversations).mean())
        return self

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        check_fitted(self, "rate_")
        return np.full(len(prefixes), self.rate_, dtype=float)
