from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from salesrl.conversation import Conversation
from salesrl.evaluation.metrics import binary_metrics, expected_calibration_error, summarize
from salesrl.evaluation.protocol import EvaluationResult, FoldResult, evaluate, prefix_length


def _ece_loop(y: np.ndarray, p: np.ndarray, n_bins: int = 15) -> float:
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        m = (p > lo) & (p <= hi) if b else (p >= lo) & (p <= hi)
        if m.any():
            total += m.sum() / len(y) * abs(y[m].mean() - p[m].mean())
    return total


def test_ece_by_hand() -> None:
    assert expected_calibration_error([0, 1], [0.2, 0.8]) == pytest.approx(0.2)
    assert expected_calibration_error([0, 1, 0, 1], [0.5] * 4) == pytest.approx(0.0)
    assert expected_calibration_error([1, 0], [1.0, 0.0]) == pytest.approx(0.0)
    assert expected_calibration_error([0, 0], [1.0, 1.0]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    p = rng.random(300)
    y = (rng.random(300) < p ** 2).astype(int)
    assert expected_calibration_error(y, p) == pytest.approx(_ece_loop(y, p))
    assert expected_calibration_error(y, p) > 0.05


def test_binary_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 50)
    p = np.clip(0.3 * y + 0.7 * rng.random(50), 0, 1)
    m = binary_metrics(y, p, base_rate=0.4)
    assert m["auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert m["log_loss"] == pytest.approx(log_loss(y, p))
    assert m["brier_skill"] == pytest.approx(1 - m["brier"] / np.mean((0.4 - y) ** 2))
    assert m["accuracy"] == pytest.approx(np.mean((p >= 0.5) == y))


def test_binary_metrics_edges() -> None:
    y = np.array([0, 1, 1, 0])
    perfect = binary_metrics(y, y.astype(float), base_rate=0.5)
    assert perfect["auc"] == 1.0 and perfect["accuracy"] == 1.0
    assert perfect["brier_skill"] == pytest.approx(1.0)
    assert math.isfinite(perfect["log_loss"]) and perfect["log_loss"] < 1e-4
    wrong = binary_metrics(y, 1.0 - y, base_rate=0.5)
    assert math.isfinite(wrong["log_loss"])  # clipped, not infinite
    constant = binary_metrics(y, np.full(4, 0.5), base_rate=0.5)
    assert constant["brier_skill"] == pytest.approx(0.0)
    assert math.isnan(binary_metrics([1, 1], [0.2, 0.9], base_rate=0.5)["auc"])


def _fold(repeat: int, fold: int, labels: list[int], probs: list[float]) -> FoldResult:
    f = FoldResult(repeat=repeat, fold=fold, base_rate=0.5, ids=[str(i) for i in labels],
                   labels=np.array(labels), n_turns=np.ones(len(labels), dtype=int))
    f.predictions["m"] = [{1: p} for p in probs]
    f.fit_seconds["m"] = f.predict_seconds["m"] = 0.0
    return f


def test_metrics_are_averaged_per_fold_not_pooled() -> None:
    # fold A ranks perfectly with low scores, fold B perfectly with high scores:
    # per-fold AUC is 1 and 1, the pooled AUC is not.
    a = _fold(0, 0, [0, 1, 0, 1], [0.1, 0.2, 0.1, 0.2])
    b = _fold(0, 1, [0, 1, 0, 1], [0.8, 0.9, 0.8, 0.9])
    result = EvaluationResult(models=["m"], references=[], folds=[a, b], fractions=(1.0,),
                              max_turn=1, protocol={})
    pooled = roc_auc_score([0, 1, 0, 1] * 2, [0.1, 0.2, 0.1, 0.2, 0.8, 0.9, 0.8, 0.9])
    cell = summarize(result)["models"]["m"]["prefix"]["1.0"]
    assert pooled < 1.0 and cell["auc"] == pytest.approx(1.0)
    assert cell["auc_std"] == pytest.approx(0.0)
    briers = [brier_score_loss(f.labels, [d[1] for d in f.predictions["m"]]) for f in (a, b)]
    assert cell["brier"] == pytest.approx(np.mean(briers))
    assert cell["brier_std"] == pytest.approx(np.std(briers, ddof=1))
    assert cell["n"] == 8 and cell["n_folds"] == 2
    assert summarize(result)["models"]["m"]["turn"]["1"]["auc"] == pytest.approx(1.0)


def test_references_come_from_the_original_last_turn(
        annotated_convs: list[Conversation]) -> None:
    result = evaluate(["base_rate"], annotated_convs, n_splits=4, repeats=1, max_turn=4)
    assert result.references == ["oracle", "bayes"]
    by_id = {c.id: c for c in annotated_convs}
    for fold in result.folds:
        for cid, preds in zip(fold.ids, fold.predictions["bayes"], strict=True):
            conv = by_id[cid]
            for k, v in preds.items():
                assert v == conv.turns[k - 1].annotations.bayes
            assert prefix_length(len(conv), 0.5) in preds
    summary = summarize(result)
    assert set(summary["references"]) == {"oracle", "bayes"}
    oracle = summary["references"]["oracle"]["prefix"]["0.25"]
    assert oracle["auc"] == pytest.approx(1.0)  # the oracle knows the outcome here
    base = summary["models"]["base_rate"]["prefix"]["0.25"]
    assert base["auc"] == pytest.approx(0.5) and oracle["brier"] < base["brier"]
    assert set(summary["models"]["base_rate"]["turn"]) == {"1", "2", "3", "4"}


def test_no_references_without_annotations(convs: list[Conversation]) -> None:
    result = evaluate(["base_rate"], convs, n_splits=2, repeats=1)
    assert result.references == []
    assert summarize(result)["references"] == {}
