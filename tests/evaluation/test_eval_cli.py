from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import salesrl.cli.evaluate as evaluate_cmd
from salesrl.cli.app import app
from salesrl.conversation import write_jsonl


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    # A two-command shell around the real command, so "evaluate" is always a sub-command
    # whatever else is registered on salesrl.cli.app.app in this test session.
    shell = typer.Typer()
    shell.command("evaluate")(evaluate_cmd.evaluate)
    shell.command("noop")(lambda: None)
    return shell


@pytest.fixture
def data(tmp_path: Path, make_convs) -> Path:
    path = tmp_path / "tiny.jsonl"
    write_jsonl(make_convs(24, seed=20), path)
    return path


def test_registered_on_the_app() -> None:
    assert any(c.callback is evaluate_cmd.evaluate for c in app.registered_commands)


def test_evaluate_writes_every_output(cli: typer.Typer, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "evaluate", "--data", str(data), "--model", "base_rate", "--model", "tfidf",
        "--cv", "3", "--repeats", "1", "--max-turn", "3",
        "--json", str(out / "r.json"), "--markdown", str(out / "r.md"),
        "--plot", str(out / "r.png")])
    assert result.exit_code == 0, result.output
    assert "| model |" in result.output and "| tfidf |" in result.output
    report = json.loads((out / "r.json").read_text())
    assert set(report["models"]) == {"base_rate", "tfidf"}
    assert report["models"]["tfidf"]["prefix"]["1.0"]["auc"] is not None
    assert report["protocol"]["n_splits"] == 3 and report["data"]["n_conversations"] == 24
    assert "| base_rate |" in (out / "r.md").read_text()
    assert (out / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_model_all_and_test_file(cli: typer.Typer, data: Path, tmp_path: Path,
                                 make_convs) -> None:
    test = tmp_path / "test.jsonl"
    write_jsonl(make_convs(12, seed=21, prefix="t"), test)
    out = tmp_path / "all.json"
    result = CliRunner().invoke(cli, [
        "evaluate", "--data", str(data), "--test", str(test), "--model", "all",
        "--max-turn", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert {"base_rate", "tfidf", "tfidf_roles", "random_forest", "gbm"} <= set(report["models"])
    assert report["protocol"]["kind"] == "train_test"
    assert report["models"]["gbm"]["prefix"]["0.5"]["n"] == 12


def test_unknown_model_lists_choices(cli: typer.Typer, data: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", "--data", str(data), "--model", "bogus"])
    assert result.exit_code == 2
    assert "bogus" in result.output and "tfidf_roles" in result.output
    assert "Traceback" not in result.output


def test_bad_data_is_one_line(cli: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "turns": [], "outcome": "unknown"}\n')
    result = CliRunner().invoke(cli, ["evaluate", "--data", str(bad), "--model", "base_rate"])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(cli, ["evaluate", "--data", str(tmp_path / "no.jsonl"),
                                       "--model", "base_rate"])
    assert missing.exit_code == 2 and "file not found" in missing.output
