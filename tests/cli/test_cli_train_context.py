"""``salesrl train --context``: the saved agent carries the metadata prior."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesrl.cli.main import app
from salesrl.conversation import write_jsonl
from salesrl.synth import generate

TINY = ["--set", "ensemble_size=1", "--set", "ppo_steps=256", "--set", "n_steps=128",
        "--set", "ppo_epochs=1", "--set", "critic_prefit_epochs=1", "--set", "ws_epochs=2",
        "--set", "retrieval_max_rows=500"]


def test_train_context_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "train.jsonl"
    # two reps, one who closes far more often: metadata worth a column
    calls = [c.model_copy(update={"metadata": c.metadata.model_copy(update={
        "rep_id": "closer" if (c.label == 1) != (i % 10 == 0) else "other"})})
        for i, c in enumerate(generate(60, 7))]
    write_jsonl(calls, data)
    out = tmp_path / "model"
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(out),
                                      "--embedding", "hashing", "--preset", "fast",
                                      "--context", "--confidence-folds", "0", "--no-guide",
                                      *TINY])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "agent.json").read_text())
    assert doc["train_config"]["context_prior"] is True
    names = [f["name"] for f in doc["context"]["categorical"]]
    assert "metadata.rep_id" in names
    card = json.loads((out / "model_card.json").read_text())
    assert card["context"] is True and card["lexical"] is False
