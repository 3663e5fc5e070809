"""Small-data levers: PCA compression, the linear base (residual training), conversation
weighting, the residual replay env, and their round trip through the artifact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from salesrl.agent import ConversionAgent, Episodes, ObsLayout, TrainConfig
from salesrl.agent.compress import RowCompressor
from salesrl.agent.env import ConversationReplayEnv
from salesrl.agent.linear import LinearBase
from salesrl.agent.toy import make_toy_episodes


def with_evidence(eps: Episodes, truth: list[np.ndarray], seed: int) -> Episodes:
    """The toy episodes plus one extra column: a noisy logit of the Bayes posterior (a
    stand-in for the lexical evidence the predictor appends)."""
    rng = np.random.default_rng(seed)
    layout = eps.layout.with_extra(1)
    obs = []
    for o, p in zip(eps.obs, truth, strict=True):
        z = np.log(p / (1 - p)) + rng.normal(0, 1.0, len(p))
        obs.append(np.concatenate([o, z[:, None].astype(np.float32)], axis=1))
    return Episodes(obs, eps.labels, eps.groups, eps.ids, layout)


@pytest.fixture(scope="module")
def toy_extra() -> tuple[Episodes, Episodes]:
    tr, tr_truth = make_toy_episodes(240, seed=3)
    te, te_truth = make_toy_episodes(120, seed=4)
    return with_evidence(tr, tr_truth, 0), with_evidence(te, te_truth, 1)


def test_old_configs_load_with_the_levers_off() -> None:
    old = TrainConfig.preset("fast").to_dict()
    for key in ("linear_base", "linear_Cs", "compress_dim", "compress_turn_dim",
                "conversation_weight"):
        old.pop(key)
    cfg = TrainConfig.from_dict(old)
    assert not cfg.linear_base and not cfg.conversation_weight
    assert cfg.compress_dim == 0 and cfg.compress_turn_dim == 0
    with pytest.raises(ValueError, match="compress_dim"):
        TrainConfig(compress_dim=-1).validate()
    with pytest.raises(ValueError, match="linear_Cs"):
        TrainConfig(linear_base=True, linear_Cs=()).validate()
    assert TrainConfig.preset("small").linear_base and not TrainConfig.preset("fast").linear_base


def test_compressor_projects_state_and_turns_and_keeps_padding(toy_extra) -> None:
    eps = toy_extra[0]
    rows = np.concatenate(eps.obs)
    comp = RowCompressor(state_dim=3, turn_dim=2).fit(rows, eps.layout)
    assert comp.out_layout_ == ObsLayout(3, eps.layout.window, 2, 1)
    out = comp.transform(rows)
    assert out.shape == (len(rows), comp.out_layout_.obs_dim)
    _, win, mask, extra = comp.out_layout_.split(out)
    assert np.all(win[mask < 0.5] == 0)  # padded slots stay zero
    np.testing.assert_array_equal(extra, eps.layout.split(rows)[3])  # extras untouched
    back = RowCompressor.from_arrays(comp.params(), comp.to_arrays())
    np.testing.assert_allclose(back.transform(rows), out)
    with pytest.raises(ValueError, match="width"):
        comp.transform(rows[:, :-1])


def test_linear_base_is_out_of_fold_and_informative(toy_extra) -> None:
    tr, te = toy_extra
    lin = LinearBase(Cs=(0.01, 1.0)).fit(tr.obs, tr.labels, tr.layout)
    assert lin.C_ in (0.01, 1.0) and len(lin.oof_) == len(tr)
    in_sample = [lin.logits(o) for o in tr.obs]
    assert not np.allclose(np.concatenate(lin.oof_), np.concatenate(in_sample))
    last = np.array([lin.logits(o)[-1] for o in te.obs])
    assert roc_auc_score(te.labels, last) > 0.8
    back = LinearBase.from_arrays(lin.params(), lin.to_arrays())
    np.testing.assert_allclose(back.logits(te.obs[0]), lin.logits(te.obs[0]))


def test_env_offset_column_makes_the_action_a_residual(toy_extra) -> None:
    eps = toy_extra[0]
    col = eps.layout.obs_dim - 1
    env = ConversationReplayEnv(eps, offset_col=col)
    plain = ConversationReplayEnv(eps)
    obs, _ = env.reset(options={"episode_index": 0})
    plain.reset(options={"episode_index": 0})
    _, _, _, _, info = env.step(np.array([0.0]))
    _, _, _, _, info_plain = plain.step(np.array([0.0]))
    assert info["p"] == pytest.approx(1 / (1 + np.exp(-obs[col])), rel=1e-5)
    assert info_plain["p"] == 0.5


def test_agent_with_every_lever_trains_saves_and_loads(tiny, toy_extra, tmp_path: Path) -> None:
    tr, te = toy_extra
    cfg = tiny(linear_base=True, linear_Cs=(0.1,), compress_dim=3, compress_turn_dim=2,
               conversation_weight=True, bootstrap=False, ensemble_size=2, ws_epochs=4,
               ppo_steps=256)
    agent = ConversionAgent(cfg).fit(tr)
    assert agent.linear_ is not None and agent.compressor_ is not None
    assert len(agent.linear_.oof_) == len(tr)  # the base saw train and validation split
    assert agent.layout_.state_dim == 3 and agent.layout_.turn_dim == 2
    x = np.concatenate(te.obs)
    p = agent.predict_proba_rows(x)
    last = np.array([agent.predict_proba_rows(o)[-1] for o in te.obs])
    assert roc_auc_score(te.labels, last) > 0.8
    back = ConversionAgent.load(agent.save(tmp_path / "a"))
    np.testing.assert_allclose(back.predict_proba_rows(x), p, rtol=1e-6)
    # with every member's residual zeroed the agent predicts the calibrated base
    with torch.no_grad():
        for m in back.members_:
            for prm in m.action_net.parameters():
                prm.zero_()
    base = back.linear_.logits(x)
    want = back.calibrator_.apply(np.full(len(x), 0.0) + back.offsets_.mean() + base,
                                  x[:, -1:])
    np.testing.assert_allclose(back.predict_logit_rows(x), want, rtol=1e-5, atol=1e-6)


def test_conversation_weight_changes_the_warm_start(tiny, toy_extra) -> None:
    tr = toy_extra[0]
    kw = dict(use_ppo=False, retrieval=False, adversarial_rate=0.0, ws_epochs=3,
              calibration="none", adaptive_lr=False, balance=False)
    a = ConversionAgent(tiny(**kw)).fit(tr)
    b = ConversionAgent(tiny(conversation_weight=True, **kw)).fit(tr)
    x = np.concatenate(tr.obs[:5])
    assert not np.allclose(a.predict_proba_rows(x), b.predict_proba_rows(x))
