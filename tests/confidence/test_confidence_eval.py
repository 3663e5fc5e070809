"""Selective-prediction metrics, the cross-validated evaluation and the CLI flag."""

from __future__ import annotations

import json

import numpy as np
import pytest
from confidence_helpers import inputs_of, make_conversations

from salesrl.confidence import BatchAssessment, ConfidenceModel
from salesrl.conversation import write_jsonl
from salesrl.evaluation.confidence_eval import (
    BaggedLogistic,
    evaluate_confidence,
    interval_metrics,
    risk_coverage,
    selective_metrics,
)


def test_risk_coverage_and_aurc() -> None:
    cov, risk, aurc = risk_coverage(np.array([0.9, 0.1, 0.8]), np.array([1, 0, 1]))
    np.testing.assert_allclose(cov, [1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(risk, [0, 0, 1 / 3])
    assert aurc == pytest.approx(1 / 9)


def test_selective_metrics_reward_a_useful_confidence() -> None:
    p = np.array([0.9, 0.8, 0.6, 0.4, 0.3, 0.55, 0.45, 0.2])
    y = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    correct = ((p >= 0.5) == (y == 1)).astype(float)
    good = selective_metrics(correct + 0.01 * np.arange(8), p, y)
    bad = selective_metrics(1 - correct, p, y)
    assert good["top50"]["accuracy"] == 1.0 and bad["top50"]["accuracy"] < 0.5
    assert good["aurc"] < bad["aurc"] and good["top100"] == bad["top100"]


def test_interval_metrics_count_the_outcome() -> None:
    a = BatchAssessment(np.array([0.9, 0.2, 0.5]), np.ones(3), np.array([0.6, 0.0, 0.0]),
                        np.array([1.0, 0.5, 1.0]), np.array([False, True, False]),
                        [None, "x", None], np.zeros(3), {})
    m = interval_metrics(a, np.array([1, 1, 0]), 0.9)
    assert m["coverage"] == pytest.approx(2 / 3)
    assert m["decisive_share"] == pytest.approx(2 / 3) and m["abstain_rate"] == pytest.approx(1 / 3)


def test_bagged_logistic_members(builder) -> None:
    inp = inputs_of(builder, make_conversations(30, seed=3))
    base = BaggedLogistic(n_members=3, C=1.0, state_dim=builder.state_dim).fit(
        inp.rows, inp.labels, inp.conv)
    m = base.predict_members(inp.rows)
    assert m.shape == (len(inp), 3) and np.all((m > 0) & (m < 1))
    assert m.std(axis=1).max() > 0


def test_cross_validated_evaluation(builder) -> None:
    inp = inputs_of(builder, make_conversations(80, seed=4))
    rep = evaluate_confidence(
        inp, base_factory=lambda: BaggedLogistic(n_members=3, C=1.0,
                                                 state_dim=builder.state_dim),
        confidence_factory=lambda: ConfidenceModel(state_dim=builder.state_dim, max_rows=400,
                                                   max_turns=200),
        n_splits=2, repeats=1, inner_folds=2)
    assert len(rep["folds"]) == 2
    assert 0.0 <= rep["aurc"]["mean"] <= 1.0
    assert abs(rep["interval"]["coverage"]["mean"] - 0.9) < 0.1
    assert len(rep["risk_coverage"]["risk"]) == len(rep["risk_coverage"]["coverage"])


def test_evaluate_cli_confidence_flag(tmp_path) -> None:
    from typer.testing import CliRunner

    from salesrl.cli.main import app

    data = tmp_path / "d.jsonl"
    write_jsonl(make_conversations(40, seed=5), data)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["evaluate", "--data", str(data), "--model", "base_rate",
                                   "--cv", "2", "--repeats", "1", "--max-turn", "3",
                                   "--confidence", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "interval coverage" in res.output
    section = json.loads(out.read_text())["confidence"]
    assert {"top50", "aurc", "interval", "risk_coverage"} <= set(section)
    res = CliRunner().invoke(app, ["evaluate", "--data", str(data), "--model", "base_rate",
                                   "--test", str(data), "--confidence"])
    assert res.exit_code != 0 and "--confidence" in res.output


def test_agent_rows_adapter(builder) -> None:
    from salesrl.evaluation.confidence_eval import AgentRows

    inp = inputs_of(builder, make_conversations(16, seed=6))
    base = AgentRows(builder.layout, "fast", use_ppo=False, ws_epochs=1, ensemble_size=2,
                     retrieval=False, adversarial_rate=0.0).fit(inp.rows, inp.labels, inp.conv)
    m, p = base.predict_members(inp.rows), base.predict_proba(inp.rows)
    assert m.shape == (len(inp), 2) and p.shape == (len(inp),)
    assert np.all((p > 0) & (p < 1))
