"""``salesrl ablate``: variants on the same folds, on tiny data with the hashing backend."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import salesrl.cli.ablate as ablate_cmd
from salesrl.agent.ablation import VARIANTS, _column_maps, agent_factories
from salesrl.agent.predictor import preset_for
from salesrl.conversation import Conversation, Outcome, Role, Turn, write_jsonl
from salesrl.features.tracker import StateBuilder


@pytest.fixture(autouse=True)
def _hashing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path / "cache"))


def _convs(n: int) -> list[Conversation]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        y = int(rng.random() < 0.5)
        turns = [Turn(role=Role.REP if k % 2 == 0 else Role.CUSTOMER,
                      text=("can I help" if k % 2 == 0 else
                            ("yes great deal" if y else "no too expensive")))
                 for k in range(int(rng.integers(3, 7)))]
        out.append(Conversation(id=f"c{i}", turns=turns,
                                outcome=Outcome.CONVERTED if y else Outcome.NOT_CONVERTED))
    return out


def test_column_maps_drop_what_they_say() -> None:
    b = StateBuilder.from_env()
    maps = _column_maps(b.state_names, b.layout, b.embedding_dim)
    row = b.encode(_convs(1)[0])
    sig, sig_layout = maps["no_embeddings"]
    assert sig(row).shape[1] == sig_layout.obs_dim == b.state_dim - 3 * b.embedding_dim
    last, last_layout = maps["no_sequence"]
    n_turn_sig = sum(n.startswith("sig_turn_") for n in b.state_names)
    assert last(row).shape[1] == last_layout.obs_dim == b.turn_dim + n_turn_sig
    # the last window slot is the current turn's vector: the same whatever came before
    conv = _convs(1)[0]
    assert np.allclose(last(b.encode(conv))[-1], last(b.encode(conv.prefix(len(conv.turns))))[-1])


def test_every_variant_has_a_factory() -> None:
    factories = agent_factories("fast", builder=StateBuilder.from_env())
    assert list(factories) == list(VARIANTS)
    pred = factories["no_ensemble"]()
    assert pred.config.ensemble_size == 1 and pred.lexical
    assert not factories["no_lexical"]().lexical
    assert factories["supervised_only"]().config.use_ppo is False
    assert factories["no_retrieval"]().config.retrieval is False
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        agent_factories("fast", overrides={"nope": 1}, builder=StateBuilder.from_env())


def test_ablate_cli_runs_variants_on_the_same_folds(tmp_path: Path) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(_convs(30), data)
    shell = typer.Typer()
    shell.command("ablate")(ablate_cmd.ablate)
    shell.command("noop")(lambda: None)
    out = tmp_path / "abl.json"
    chosen = ["full", "no_sequence", "state_lr"]
    args = ["ablate", "--data", str(data), "--folds", "2", "--json", str(out),
            *[a for v in chosen for a in ("--variant", v)],
            "--set", "ensemble_size=2", "--set", "ppo_steps=128", "--set", "n_steps=64",
            "--set", "ppo_batch_size=64", "--set", "ws_epochs=3", "--set", "n_envs=1",
            "--set", "ppo_epochs=1", "--set", "critic_prefit_epochs=1"]
    result = CliRunner().invoke(shell, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert list(report["models"]) == chosen
    assert report["protocol"]["n_splits"] == 2
    assert report["protocol"]["preset"] == preset_for(30) == "small"  # as the registered agent
    for entry in report["models"].values():
        assert entry["prefix"]["1.0"]["auc"] is not None
    assert "Ablations" in result.output and "variant(s)" in result.output


@pytest.mark.parametrize(("option", "value", "named"), [("--variant", "nope", "nope"),
                                                      ("--preset", "huge", "large")])
def test_ablate_cli_rejects_unknown_variant_or_preset(tmp_path: Path, option: str, value: str,
                                                       named: str) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(_convs(10), data)
    shell = typer.Typer()
    shell.command("ablate")(ablate_cmd.ablate)
    shell.command("noop")(lambda: None)
    result = CliRunner().invoke(shell, ["ablate", "--data", str(data), option, value])
    assert result.exit_code != 0
    assert value in result.output and named in result.output
    assert "Traceback" not in result.output
