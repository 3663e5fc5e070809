"""Scores of probabilistic conversion forecasts, per prefix fraction and per absolute turn.

ROC AUC, Brier score (Brier, 1950), Brier skill score against the constant training base rate,
log loss, expected calibration error with 15 equal-width bins (Naeini et al., AAAI 2015; Guo et
al., ICML 2017) and accuracy at 0.5. Each metric is computed per fold, then averaged (mean and
standard deviation) across the folds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

from salesrl.evaluation.protocol import EvaluationResult, FoldResult, prefix_length

METRICS: tuple[str, ...] = ("auc", "brier", "brier_skill", "log_loss", "ece", "accuracy")
ECE_BINS = 15
EPS = 1e-6  # log loss clips probabilities to [EPS, 1 - EPS]


def expected_calibration_error(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray,
                               n_bins: int = ECE_BINS) -> float:
    """Weighted mean |observed rate - mean forecast| over equal-width probability bins.

    Written by hand because scikit-learn has no ECE (``calibration_curve`` gives the per-bin
    points but neither the bin weights nor the weighted gap).
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return math.nan
    # Bin b holds (b/n, (b+1)/n]; p = 0 goes to the first bin and p = 1 to the last.
    bins = np.clip(np.ceil(p * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, weights=y, minlength=n_bins)
                 - np.bincount(bins, weights=p, minlength=n_bins))
    # sum_b (n_b / N) * |mean_y_b - mean_p_b| = sum_b |sum_y_b - sum_p_b| / N
    return float(gap[count > 0].sum() / len(y))


def binary_metrics(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray,
                   base_rate: float) -> dict[str, float]:
    """Every metric of one set of forecasts ``p`` for outcomes ``y``.

    ``base_rate`` is the training conversion rate: the Brier skill score is
    ``1 - Brier / Brier(constant base_rate)``. AUC is NaN when ``y`` has a single class.
    """
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return {m: math.nan for m in METRICS}
    two_classes = len(np.unique(y)) == 2
    brier = float(brier_score_loss(y, p, pos_label=1))
    ref = float(np.mean((base_rate - y) ** 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll = float(log_loss(y, np.clip(p, EPS, 1 - EPS), labels=[0, 1]))
    return {
        "auc": float(roc_auc_score(y, p)) if two_classes else math.nan,
        "brier": brier,
        "brier_skill": 1.0 - brier / ref if ref > 0 else math.nan,
        "log_loss": ll,
        "ece": expected_calibration_error(y, p),
        "accuracy": float(accuracy_score(y, (p >= 0.5).astype(int))),
    }


def _fold_cells(fold: FoldResult, source: str, fractions: Sequence[float], max_turn: int
                ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]],
                           dict[str, int], dict[str, int]]:
    preds = fold.predictions[source]
    prefix, turn, n_prefix, n_turn = {}, {}, {}, {}
    for f in fractions:
        p = [preds[i][prefix_length(int(n), f)] for i, n in enumerate(fold.n_turns)]
        prefix[_key(f)] = binary_metrics(fold.labels, p, fold.base_rate)
        n_prefix[_key(f)] = len(p)
    for t in range(1, max_turn + 1):
        idx = np.flatnonzero(fold.n_turns >= t)
        if len(idx) == 0:
            break
        p = [preds[i][t] for i in idx]
        turn[str(t)] = binary_metrics(fold.labels[idx], p, fold.base_rate)
        n_turn[str(t)] = len(idx)
    return prefix, turn, n_prefix, n_turn


def _key(fraction: float) -> str:
    return str(float(fraction))  # "0.25", "0.5", "0.75", "1.0"


def _aggregate(per_fold: list[dict[str, float]], n_total: int, repeats: int
               ) -> dict[str, float | int | None]:
    out: dict[str, float | int | None] = {}
    for m in METRICS:
        vals = np.array([d[m] for d in per_fold], dtype=float)
        vals = vals[np.isfinite(vals)]
        out[m] = float(vals.mean()) if len(vals) else None
        out[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else (0.0 if len(vals) else None)
    # conversations scored per repeat (each test conversation counted once per repeat)
    out["n"] = int(round(n_total / max(repeats, 1)))
    out["n_folds"] = len(per_fold)
    return out


def summarize_source(result: EvaluationResult, source: str) -> dict[str, dict]:
    """``{"prefix": {"0.25": {...}}, "turn": {"1": {...}}}`` for one model or reference."""
    repeats = len({f.repeat for f in result.folds})
    cells: dict[str, dict[str, list[dict[str, float]]]] = {"prefix": {}, "turn": {}}
    counts: dict[str, dict[str, int]] = {"prefix": {}, "turn": {}}
    for fold in result.folds:
        prefix, turn, n_prefix, n_turn = _fold_cells(fold, source, result.fractions,
                                                     result.max_turn)
        for kind, values, ns in (("prefix", prefix, n_prefix), ("turn", turn, n_turn)):
            for key, metrics in values.items():
                cells[kind].setdefault(key, []).append(metrics)
                counts[kind][key] = counts[kind].get(key, 0) + ns[key]
    out: dict[str, dict] = {}
    for kind in ("prefix", "turn"):
        keys = sorted(cells[kind], key=float)
        out[kind] = {k: _aggregate(cells[kind][k], counts[kind][k], repeats) for k in keys}
    return out


def summarize(result: EvaluationResult) -> dict[str, dict]:
    """Aggregated metrics: ``{"models": {name: ...}, "references": {name: ...}}``."""
    models = {}
    for name in result.models:
        models[name] = summarize_source(result, name)
        models[name]["fit_seconds"] = float(sum(f.fit_seconds[name] for f in result.folds))
        models[name]["predict_seconds"] = float(sum(f.predict_seconds[name]
                                                    for f in result.folds))
    refs = {name: summarize_source(result, name) for name in result.references}
    return {"models": models, "references": refs}
