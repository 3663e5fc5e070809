"""Baseline conversion predictors; importing this package registers each of them."""

from salesrl.evaluation.baselines import base_rate, engineered, tfidf, tfidf_roles

__all__ = ["base_rate", "engineered", "tfidf", "tfidf_roles"]
