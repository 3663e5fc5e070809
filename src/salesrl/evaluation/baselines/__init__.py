"""Baseline conversion predictors; importing this package registers each of them."""

from salesrl.evaluation.baselines import (
    agent,
    base_rate,
    engineered,
    state_lr,
    tfidf,
    tfidf_roles,
)

__all__ = ["agent", "base_rate", "engineered", "state_lr", "tfidf", "tfidf_roles"]
