"""The meta-model of :class:`~.model.ConfidenceModel`: P(the base prediction is on the right
side of 0.5) from the signals, and its selection on validation folds.

A logistic regression (Cox, 1958) over standardised signals, optionally with their squares and
their products with the margin. With ``select`` the signal set, the interactions and the L2
strength are chosen among :func:`candidates` by the cross-fitted log loss on the validation
folds the model is fitted on (the base predictor's out-of-fold predictions): a model selection
inside the training conversations, never on the conversations it is assessed on (the
"learning to reject" meta-model of Corbière et al., TPAMI 2021, with its capacity picked by
cross-validation, Stone 1974).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from salesrl.confidence.signals import SIGNAL_GROUPS

__all__ = ["SELECT_C", "SELECT_GROUPS", "MetaSpec", "candidates", "cross_fit", "design",
           "select"]

#: signal sets tried by ``select`` (each intersected with the enabled groups); None = all
SELECT_GROUPS: tuple[tuple[str, ...] | None, ...] = (
    None, ("prediction", "trajectory", "ensemble", "similarity"), ("prediction", "trajectory"),
    ("prediction",))
#: L2 strengths tried by ``select``
SELECT_C: tuple[float, ...] = (0.01, 0.1, 1.0)


@dataclass(frozen=True)
class MetaSpec:
    """One meta-model: the signals it reads, whether with interactions, its ``C``."""

    names: tuple[str, ...]
    interactions: bool
    C: float


def candidates(enabled: Sequence[str], interactions: bool, C: float, select: bool
               ) -> list[MetaSpec]:
    """The given setting alone, or (``select``) every distinct set of :data:`SELECT_GROUPS`
    within the ``enabled`` signals x interactions on/off x :data:`SELECT_C`."""
    if not select:
        return [MetaSpec(tuple(enabled), interactions, C)]
    sets: list[tuple[str, ...]] = []
    for groups in SELECT_GROUPS:
        names = tuple(enabled) if groups is None else tuple(
            n for n in enabled if any(n in SIGNAL_GROUPS[g] for g in groups))
        if names and names not in sets:
            sets.append(names)
    return [MetaSpec(s, i, c) for s in sets for i in (True, False) for c in SELECT_C]


def design(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, names: Sequence[str],
           interactions: bool) -> np.ndarray:
    """Standardised signals (columns ``names``) and, with ``interactions``, their squares and
    their products with the margin."""
    z = (x - mean) / scale
    if not interactions:
        return z
    z = np.clip(z, -6.0, 6.0)
    cols = [z, z**2]
    if "margin" in names:
        j = list(names).index("margin")
        cols.append(z[:, j : j + 1] * np.delete(z, j, axis=1))
    return np.concatenate(cols, axis=1)


def _matrix(sig: dict[str, np.ndarray], names: Sequence[str]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.column_stack([sig[n] for n in names])
    # floor: a near-constant signal must not turn float32 noise into large z-scores
    return x, x.mean(axis=0), np.maximum(x.std(axis=0), 1e-2)


def fit(sig: dict[str, np.ndarray], spec: MetaSpec, correct: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray, LogisticRegression]:
    """(mean, scale, fitted logistic regression) of ``spec`` on all rows."""
    x, mean, scale = _matrix(sig, spec.names)
    lr = LogisticRegression(C=spec.C, max_iter=1000).fit(
        design(x, mean, scale, spec.names, spec.interactions), correct)
    return mean, scale, lr


def cross_fit(sig: dict[str, np.ndarray], spec: MetaSpec, correct: np.ndarray,
              folds: np.ndarray) -> np.ndarray:
    """Each fold's P(correct) from ``spec`` fitted on the other folds."""
    x, mean, scale = _matrix(sig, spec.names)
    z = design(x, mean, scale, spec.names, spec.interactions)
    out = np.zeros(len(correct))
    for f in np.unique(folds):
        test = folds == f
        if len(set(correct[~test].tolist())) < 2:
            out[test] = correct[~test].mean()
            continue
        lr = LogisticRegression(C=spec.C, max_iter=1000).fit(z[~test], correct[~test])
        out[test] = lr.predict_proba(z[test])[:, 1]
    return out


def select(sig: dict[str, np.ndarray], specs: Sequence[MetaSpec], correct: np.ndarray,
           folds: np.ndarray) -> tuple[MetaSpec, np.ndarray, list[float]]:
    """(the spec of least cross-fitted log loss, its cross-fitted output, every loss); ties
    go to the earlier spec."""
    best, best_cf, losses = specs[0], None, []
    for spec in specs:
        cf = cross_fit(sig, spec, correct, folds)
        loss = float(log_loss(correct, np.clip(cf, 1e-6, 1 - 1e-6), labels=[0, 1]))
        losses.append(loss)
        if best_cf is None or loss < min(losses[:-1]):
            best, best_cf = spec, cf
    assert best_cf is not None
    return best, best_cf, losses
