"""A tiny model trained once through ``salesrl train`` (hashing backend) for the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesrl.cli.main import app
from salesrl.conversation import write_jsonl
from salesrl.synth import generate

TINY = ["--set", "ensemble_size=1", "--set", "ppo_steps=256", "--set", "n_steps=128",
        "--set", "ppo_epochs=1", "--set", "critic_prefit_epochs=1", "--set", "ws_epochs=3",
        "--set", "retrieval_max_rows=500"]


def _env(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    mp.setenv("SALESRL_CACHE_DIR", str(root / "cache"))
    mp.setenv("COLUMNS", "160")


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model dir, training data) from one ``salesrl train`` run."""
    root = tmp_path_factory.mktemp("cli")
    data = root / "train.jsonl"
    write_jsonl(generate(40, 5), data)
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, root)
        result = CliRunner().invoke(app, ["train", "--data", str(data), "--out",
                                          str(root / "model"), "--preset", "fast",
                                          "--embedding", "hashing", "--seed", "1",
                                          "--confidence-folds", "2", "--guide-steps", "200",
                                          *TINY])
    assert result.exit_code == 0, result.output
    assert "Trained on 40 conversations" in result.output
    return root / "model", data


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _env(monkeypatch, tmp_path)
