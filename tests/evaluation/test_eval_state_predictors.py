"""The state-builder models: ``state_lr`` and ``agent`` plug into the registry and protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from salesrl.agent import TrainConfig
from salesrl.agent.predictor import AgentPredictor
from salesrl.conversation import Turn
from salesrl.evaluation.baselines.state_lr import StateLRPredictor, default_builder
from salesrl.evaluation.predictor import ConversionPredictor, available, make
from salesrl.evaluation.protocol import evaluate
from salesrl.features import BACKEND_ENV, CACHE_DIR_ENV, StateBuilder


@pytest.fixture(autouse=True)
def hashing_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv(BACKEND_ENV, "hashing")
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_registered_and_built_from_the_environment(hashing_env: Path) -> None:
    names = available()
    assert {"state_lr", "agent"} <= set(names) and names["state_lr"] and names["agent"]
    lr = make("state_lr")
    assert isinstance(lr, StateLRPredictor) and not [k for k in vars(lr) if k.endswith("_")]
    builder = default_builder()
    assert builder.backend_name == "hashing" and builder is default_builder()
    assert builder.config.cache_path == str(hashing_env / "embeddings.sqlite")
    agent = make("agent")
    assert isinstance(agent, AgentPredictor) and isinstance(agent, ConversionPredictor)
    assert agent.layout == builder.layout and agent.embedding_backend == "hashing"
    assert agent.config == TrainConfig.preset("fast")


def test_state_lr_in_the_protocol(make_convs, hashing_env: Path) -> None:
    convs = make_convs(30, seed=3)
    result = evaluate(["state_lr"], convs, n_splits=2, repeats=1, max_turn=2)
    assert (hashing_env / "embeddings.sqlite").is_file()  # embeddings persisted for later folds
    y, p_full = [], []
    for fold in result.folds:
        for label, n, preds in zip(fold.labels, fold.n_turns, fold.predictions["state_lr"],
                                   strict=True):
            assert all(0.0 <= v <= 1.0 for v in preds.values()) and {1, 2} <= set(preds)
            y.append(label)
            p_full.append(preds[int(n)])
    assert roc_auc_score(y, p_full) > 0.8  # keen vs reluctant customers are learnable


def test_state_lr_reads_the_state_part_of_prefixes_only(make_convs) -> None:
    train = make_convs(30, seed=4)
    model = make("state_lr").fit(train)
    builder = model.builder_
    assert model.model_.coef_.shape == (1, builder.state_dim)
    assert model.C_ in model.Cs and len(model.cv_log_loss_) == len(model.Cs)
    conv = make_convs(1, seed=5, min_turns=8)[0]
    changed = conv.model_copy(update={"turns": [
        *conv.turns[:3], *[Turn(role=t.role, text="No!! too expensive") for t in conv.turns[3:]]]})
    p = model.predict_proba([conv.prefix(3), changed.prefix(3), conv, changed])
    assert p[0] == p[1] and p[2] != p[3]
    alone = model.predict_proba([conv.prefix(3)])
    np.testing.assert_allclose(alone, p[:1], rtol=1e-6)


def test_agent_in_the_protocol(make_convs) -> None:
    tiny = TrainConfig.preset("fast", ensemble_size=1, ppo_steps=256, n_steps=64,
                              ppo_batch_size=64, ppo_epochs=1, critic_prefit_epochs=1,
                              ws_epochs=5)

    def factory() -> ConversionPredictor:
        model = make("agent")
        model.config = tiny  # the registered model, shrunk for a test
        return model

    convs = make_convs(24, seed=6, max_turns=8)
    result = evaluate({"agent": factory}, convs, n_splits=2, repeats=1, max_turn=2)
    for fold in result.folds:
        preds = fold.predictions["agent"]
        assert len(preds) == len(fold.ids)
        assert all(0.0 <= v <= 1.0 for d in preds for v in d.values())
        assert fold.fit_seconds["agent"] > 0


def test_builder_override_is_used(make_convs) -> None:
    builder = StateBuilder(backend="hashing", window=0, prototypes=False)
    model = StateLRPredictor(builder=builder, Cs=(0.1,)).fit(make_convs(20, seed=7))
    assert model.builder_ is builder and model.C_ == 0.1 and model.cv_log_loss_ == {}
