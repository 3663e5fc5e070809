from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from salesrl.conversation import Conversation
from salesrl.evaluation.protocol import evaluate
from salesrl.evaluation.report import (
    build_report,
    data_summary,
    markdown_table,
    write_json,
    write_markdown,
    write_plot,
)


@pytest.fixture(scope="module")
def report(annotated_convs: list[Conversation]) -> dict:
    result = evaluate(["base_rate", "tfidf"], annotated_convs, n_splits=3, repeats=2,
                      max_turn=6)
    return build_report(result, data=data_summary(annotated_convs, "tiny.jsonl"))


def test_json_contract(report: dict, tmp_path: Path) -> None:
    path = write_json(report, tmp_path / "out.json")
    data = json.loads(path.read_text())
    assert set(data) == {"models", "references", "protocol", "data"}
    for model in ("base_rate", "tfidf"):
        prefix = data["models"][model]["prefix"]
        assert list(prefix) == ["0.25", "0.5", "0.75", "1.0"]
        for cell in prefix.values():
            for key in ("auc", "brier", "brier_skill", "log_loss", "ece", "accuracy",
                        "auc_std", "n"):
                assert key in cell
            assert cell["n"] == 40
        assert "1" in data["models"][model]["turn"]
    assert set(data["references"]) == {"oracle", "bayes"}
    assert data["protocol"]["kind"] == "cross_validation"
    assert data["protocol"]["repeats"] == 2 and data["protocol"]["n_splits"] == 3
    assert data["data"]["n_conversations"] == 40 and data["data"]["path"] == "tiny.jsonl"
    # base rate is constant: AUC exactly 0.5
    assert data["models"]["base_rate"]["prefix"]["1.0"]["auc"] == pytest.approx(0.5)


def test_nan_is_written_as_null(report: dict, tmp_path: Path) -> None:
    report = copy.deepcopy(report)
    report["models"]["base_rate"]["prefix"]["0.25"]["auc"] = float("nan")
    text = write_json(report, tmp_path / "nan.json").read_text()
    assert "NaN" not in text
    assert json.loads(text)["models"]["base_rate"]["prefix"]["0.25"]["auc"] is None


def test_markdown_table(report: dict, tmp_path: Path) -> None:
    table = markdown_table(report)
    lines = table.strip().splitlines()
    assert lines[0].startswith("| model | 25 % AUC / Brier | 50 % AUC / Brier")
    assert "ECE" in lines[0]
    assert len(lines) == 2 + 2 + 2  # header, rule, two models, two references
    assert lines[2].startswith("| base_rate | 0.500 / ")
    assert any(line.startswith("| *oracle* (reference)") for line in lines)
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    text = write_markdown(report, tmp_path / "t.md").read_text()
    assert "Protocol:" in text and "3-fold" in text


def test_plot(report: dict, tmp_path: Path) -> None:
    path = write_plot(report, tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5000
