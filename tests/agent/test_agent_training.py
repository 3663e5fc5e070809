"""The recipe: warm start, conservative PPO, adaptive lr, curriculum, adversarial mixing,
ensemble, balancing, retrieval and calibration inside ConversionAgent."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss, roc_auc_score

from salesrl.agent import ConversionAgent, Episodes, TrainConfig
from salesrl.agent.training import DifficultyLR, difficulty_weights, warm_start


def _rows(eps: Episodes) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate(eps.obs), np.repeat(eps.labels, eps.lengths)


def test_warm_start_learns_the_toy_task(warm_agent: ConversionAgent,
                                        toy_test: tuple[Episodes, list]) -> None:
    x, y = _rows(toy_test[0])
    p = warm_agent.predict_proba_rows(x)
    assert p.shape == (len(x),) and np.all((p > 0) & (p < 1))
    assert roc_auc_score(y, p) > 0.8
    assert log_loss(y, p) < log_loss(y, np.full(len(y), y.mean()))
    h = warm_agent.history_[0]
    assert "ppo" not in h and h["warm_start"]["epochs"] >= 2


def test_short_ppo_runs_and_does_not_destroy_the_warm_start(
        warm_agent: ConversionAgent, ppo_agent: ConversionAgent,
        toy_test: tuple[Episodes, list]) -> None:
    h = ppo_agent.history_[0]
    ppo = h["ppo"]
    assert ppo["ppo_timesteps"] >= 512 and len(ppo["approx_kl"]) >= 1
    assert len(set(ppo["lr_trace"])) > 1  # the difficulty-driven schedule moved
    # identical warm start (same seed), so the comparison isolates PPO
    assert h["val_loss_before_ppo"] == pytest.approx(
        warm_agent.history_[0]["warm_start"]["best_val_loss"], abs=1e-6)
    x, y = _rows(toy_test[0])
    p_warm = warm_agent.predict_proba_rows(x)
    p_ppo = ppo_agent.predict_proba_rows(x)
    assert not np.allclose(p_warm, p_ppo, atol=1e-7)  # PPO changed the weights
    assert np.isfinite(p_ppo).all()
    assert log_loss(y, p_ppo) < 1.05 * log_loss(y, p_warm) + 0.01
    assert roc_auc_score(y, p_ppo) > 0.8
    assert np.all(np.isfinite(ppo["mean_reward"]))


def test_ppo_from_scratch_runs(toy_train: Episodes, tiny: Callable) -> None:
    agent = ConversionAgent(tiny(warm_start=False, retrieval=False)).fit(toy_train)
    p = agent.predict_proba_rows(np.concatenate(toy_train.obs[:5]))
    assert np.isfinite(p).all() and agent.history_[0]["ppo"]["ppo_timesteps"] >= 256


def test_difficulty_lr_schedule_rule() -> None:
    lr = DifficultyLR(1e-4, alpha=1.0, clip=(0.5, 2.0), halflife=1.0)
    assert lr(1.0) == pytest.approx(1e-4)  # no reference yet
    lr.update(np.full(50, 0.1))
    lr.freeze_reference()
    assert lr(0.9) == pytest.approx(1e-4)
    lr.update(np.full(50, 0.15))
    assert lr(0.8) == pytest.approx(1.5e-4, rel=1e-3)  # harder -> larger steps
    lr.update(np.full(50, 1.0))
    assert lr(0.7) == pytest.approx(2e-4)  # clipped
    lr.update(np.full(50, 0.01))
    assert lr(0.6) == pytest.approx(0.5e-4)
    off = DifficultyLR(1e-4, enabled=False)
    off.update(np.ones(5))
    off.freeze_reference()
    off.update(np.zeros(5))
    assert off(0.5) == pytest.approx(1e-4)


def test_difficulty_weights_favour_hard_conversations() -> None:
    diff = np.array([0.05, 0.2, np.nan, 0.1])
    w = difficulty_weights(diff, np.array([0, 1, 2, 3]), alpha=1.0, clip=(0.5, 2.0))
    assert w.mean() == pytest.approx(1.0)
    mean_d = (0.05 + 0.2 + 0.1) / 3
    assert w[1] > w[3] > w[0]
    assert w[1] / w[0] == pytest.approx((0.2 / mean_d) / 0.5)  # 0.05 / mean_d clipped to 0.5
    assert w[2] / w[3] == pytest.approx(1 / (0.1 / mean_d))  # unseen: weight 1 before norm
    flat = difficulty_weights(np.full(4, np.nan), np.arange(4), 1.0, (0.5, 2.0))
    np.testing.assert_allclose(flat, 1.0)


def test_curriculum_grows_the_warm_start_pool(warm_agent: ConversionAgent,
                                              toy_train: Episodes) -> None:
    pool = warm_agent.history_[0]["warm_start"]["pool"]
    assert pool[0] < 0.5 * pool[-1]
    assert pool == sorted(pool)


def test_adversarial_episodes_are_used_by_the_warm_start(toy_train: Episodes,
                                                        tiny: Callable) -> None:
    flipped = Episodes(toy_train.obs, 1 - toy_train.labels, toy_train.groups,
                       [f"adv{i}" for i in range(len(toy_train))], toy_train.layout)
    x, y = _rows(toy_train)
    aucs = {}
    for rate in (0.0, 0.5):
        cfg = tiny(adversarial_rate=rate, curriculum=False, ws_epochs=5, retrieval=False)
        actor = cfg.make_actor(toy_train.layout)
        actor.encoder.fit_normaliser(x)
        warm_start(actor, toy_train, None, cfg, adversarial=flipped, seed=0)
        with torch.no_grad():
            aucs[rate] = roc_auc_score(y, actor(torch.from_numpy(x)).numpy())
    assert aucs[0.0] > 0.85
    assert abs(aucs[0.5] - 0.5) < 0.15  # half the rows now say the opposite


def test_balanced_training_stays_calibrated_in_the_large(
        warm_agent: ConversionAgent, toy_test: tuple[Episodes, list]) -> None:
    x, y = _rows(toy_test[0])
    assert warm_agent.config_.balance and warm_agent.offsets_[0] < -0.2  # positives are rarer
    assert warm_agent.predict_proba_rows(x).mean() == pytest.approx(y.mean(), abs=0.06)


def test_ensemble_members_spread_and_combine(ensemble_agent: ConversionAgent,
                                             toy_test: tuple[Episodes, list]) -> None:
    x, _ = _rows(toy_test[0])
    m = ensemble_agent.predict_members(x)
    assert m.shape == (len(x), 3)
    assert m.std(1).mean() > 1e-3  # bootstrap + seeds give different members
    logit = np.log(m / (1 - m)).mean(1)
    np.testing.assert_allclose(ensemble_agent.predict_proba_rows(x), 1 / (1 + np.exp(-logit)),
                               rtol=1e-6)
    seeds = {h["seed"] for h in ensemble_agent.history_}
    assert len(seeds) == 3
    ensemble_agent.config_.ensemble_combine = "prob"
    try:
        np.testing.assert_allclose(ensemble_agent.predict_proba_rows(x), m.mean(1), rtol=1e-5)
    finally:
        ensemble_agent.config_.ensemble_combine = "logit"


def test_retrieval_is_ablatable(warm_agent: ConversionAgent, toy_train: Episodes,
                               tiny: Callable) -> None:
    assert warm_agent.layout_.extra_dim == 3 and warm_agent.retrieval_ is not None
    off = ConversionAgent(tiny(use_ppo=False, retrieval=False, ws_epochs=2)).fit(
        toy_train)
    assert off.layout_.extra_dim == 0 and off.retrieval_ is None


def test_calibration_is_chosen_on_validation(warm_agent: ConversionAgent) -> None:
    cal = warm_agent.calibrator_
    assert set(cal.cv_brier) == {"none", "temperature", "platt"}
    assert cal.method == min(cal.cv_brier, key=cal.cv_brier.get)


def test_config_presets_roundtrip_and_validation() -> None:
    fast, default = TrainConfig.preset("fast"), TrainConfig.preset("default")
    assert fast.ensemble_size < default.ensemble_size and fast.ppo_steps < default.ppo_steps
    assert TrainConfig.from_dict(fast.to_dict()) == fast
    assert TrainConfig.preset("fast", clip_range=0.05).clip_range == 0.05
    with pytest.raises(ValueError, match="preset"):
        TrainConfig.preset("huge")
    for bad in (dict(warm_start=False, use_ppo=False), dict(ensemble_size=0),
                dict(adversarial_rate=1.5)):
        with pytest.raises(ValueError):
            TrainConfig(**bad).validate()  # type: ignore[arg-type]
