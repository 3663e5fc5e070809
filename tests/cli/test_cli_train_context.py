"""``salesrl train --context``: the saved agent carries the metadata prior; the default
``--preset auto`` trains the recipe ``salesrl evaluate --model agent`` measures."""

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


@pytest.mark.parametrize(("flags", "preset", "columns"), [
    ([], "small", True),                              # auto: the measured recipe
    (["--no-lexical", "--no-context"], "small", False),  # auto, columns turned off
    (["--preset", "fast"], "fast", False),            # a named preset: columns only if asked
])
def test_train_default_is_the_measured_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              flags: list[str], preset: str,
                                              columns: bool) -> None:
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path / "cache"))
    data, out = tmp_path / "train.jsonl", tmp_path / "model"
    write_jsonl(generate(40, 5), data)
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(out),
                                      "--embedding", "hashing", "--confidence-folds", "0",
                                      "--no-guide", *flags, *TINY])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "model_card.json").read_text())
    assert card["preset"] == preset and card["lexical"] is columns
    assert card["preset_requested"] == ("auto" if not flags or flags[0] != "--preset" else preset)
    doc = json.loads((out / "agent.json").read_text())
    assert doc["train_config"]["context_prior"] is columns
    assert f"lexical column {'on' if columns else 'off'}" in result.output
