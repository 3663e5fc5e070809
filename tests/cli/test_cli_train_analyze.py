"""``salesrl train`` and ``salesrl analyze`` through typer's CliRunner (hashing backend)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from salesrl.cli.main import app
from salesrl.conversation import write_jsonl
from salesrl.synth import generate

CALL = """Rep: Hi Sam, thanks for taking the time today.
Customer: Sure. We mostly use spreadsheets
and it takes forever.
Rep: I can offer 20% off the first year.
Customer: OK, let's do it. Send me the contract.
"""


def test_train_writes_an_artifact_that_loads(trained: tuple[Path, Path]) -> None:
    from salesrl.agent.api import load

    model_dir, _ = trained
    names = {p.name for p in model_dir.iterdir()}
    assert {"agent.json", "weights.safetensors", "state.json", "model_card.json"} <= names
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["preset"] == "fast" and card["seed"] == 1
    assert card["data"]["conversations"] == 40 and card["data"]["source"] == "train.jsonl"
    assert card["embedding"]["backend"] == "hashing" and card["seconds"]["training"] > 0
    assert card["confidence"]["folds"] == 2 and card["seconds"]["confidence"] > 0
    assert {"confidence", "guide"} <= names
    assert json.loads((model_dir / "agent.json").read_text())["embedding"]["backend"] == \
        "hashing"
    agent = load(model_dir)
    assert agent.agent.config_.ensemble_size == 1 and agent.agent.config_.seed == 1


def test_train_rejects_bad_data_and_settings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "turns": [], "outcome": "converted"}\n{"id": 1}\n')
    result = CliRunner().invoke(app, ["train", "--data", str(bad), "--out", str(tmp_path / "m"),
                                      "--embedding", "hashing"])
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["train", "--data", str(bad), "--out", str(tmp_path / "m"),
                                      "--set", "ensemble_size=0"])
    assert result.exit_code == 2 and "ensemble_size must be >= 1" in result.output
    assert not (tmp_path / "m").exists()


def test_analyze_plain_text(trained: tuple[Path, Path], tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text(CALL, encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(path), "--model", str(trained[0])])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "call: P(sale) after each turn" in out and "conf." in out and "next move" in out
    assert "customer" in out and "%" in out and "pt" in out and "—" in out
    assert "Next move:" in out  # the advice after the call (lift, or "rare situation")


def test_analyze_json_output_matches_the_api(trained: tuple[Path, Path],
                                             tmp_path: Path) -> None:
    from salesrl.agent.api import load

    path = tmp_path / "call.txt"
    path.write_text(CALL, encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(path), "--model", str(trained[0]),
                                      "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    turns = doc["conversations"][0]["turns"]
    assert [t["role"] for t in turns] == ["rep", "customer", "rep", "customer"]
    assert turns[1]["text"].endswith("and it takes forever.")
    assert turns[0]["change"] is None
    assert doc["confidence_module"] and doc["guide"]
    for t in turns:  # every turn: confidence, interval, abstention and the next move
        assert 0 <= t["confidence"] <= 1 and t["interval"][0] <= t["probability"]
        assert t["next_move"]["act"] and t["next_move"]["expected_lift"] >= 0
        assert isinstance(t["abstain"], bool)
    assert all("turning_point" in t for t in turns)
    for t in turns:  # a turning point, where there is one, carries its move and cause
        assert t["turning_point"] is None or set(t["turning_point"]) == {"delta", "cause"}
    from salesrl.conversation.plaintext import parse_plaintext

    expected = load(trained[0]).predict(parse_plaintext(CALL))
    np.testing.assert_allclose([t["probability"] for t in turns], expected, rtol=1e-6)


def test_analyze_json_and_jsonl_files(trained: tuple[Path, Path], tmp_path: Path) -> None:
    convs = generate(3, 11)
    many = tmp_path / "many.jsonl"
    write_jsonl(convs, many)
    result = CliRunner().invoke(app, ["analyze", str(many), "--model", str(trained[0]),
                                      "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [c["id"] for c in doc["conversations"]] == [c.id for c in convs]
    assert [len(c["turns"]) for c in doc["conversations"]] == [len(c.turns) for c in convs]
    one = tmp_path / "one.json"
    one.write_text(convs[0].model_dump_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(one), "--model", str(trained[0])])
    assert result.exit_code == 0, result.output
    assert f"{convs[0].id}: P(sale)" in result.output


def test_analyze_reports_bad_input(trained: tuple[Path, Path], tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text("Rep: hi\nBoss: no budget\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(path), "--model", str(trained[0])])
    assert result.exit_code == 2
    assert "call.txt:2: unknown speaker 'Boss'" in result.output
    broken = tmp_path / "x.json"
    broken.write_text('{"id": "a", "turns": [{"role": "rep"}]}', encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(broken), "--model", str(trained[0])])
    assert result.exit_code == 2 and "turns[0].text" in result.output
    good = tmp_path / "good.txt"
    good.write_text(CALL, encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(good), "--model", str(tmp_path / "no")])
    assert result.exit_code == 2 and "no model directory" in result.output


def test_analyze_reads_standard_input(trained: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(app, ["analyze", "-", "--model", str(trained[0]), "--json"],
                                input=CALL)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["conversations"][0]["id"] == "stdin"
    assert len(doc["conversations"][0]["turns"]) == 4


def test_analyze_sizes_the_thread_pools_for_turn_by_turn_work(
        trained: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        thread_pools: object) -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    torch = thread_pools
    path = tmp_path / "call.txt"
    path.write_text(CALL)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    threadpool_limits(2)
    torch.set_num_threads(2)
    result = CliRunner().invoke(app, ["analyze", str(path), "--model", str(trained[0])])
    assert result.exit_code == 0, result.output
    assert torch.get_num_threads() == 1
    assert {pool["num_threads"] for pool in threadpool_info()} == {1}
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's choice is kept
    torch.set_num_threads(2)
    assert CliRunner().invoke(app, ["analyze", str(path), "--model", str(trained[0])]
                              ).exit_code == 0
    assert torch.get_num_threads() == 2
