"""Networks: layout, masked window encoder, SB3 features extractor and weight transfer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from salesrl.agent import ObsLayout
from salesrl.agent.networks import PolicyNet, ValueNet, extract_from_sb3, load_into_sb3


def test_layout_pack_and_split_roundtrip() -> None:
    lay = ObsLayout(state_dim=2, window=3, turn_dim=2)
    state = np.arange(8, dtype=np.float32).reshape(4, 2)
    turns = 10 + np.arange(8, dtype=np.float32).reshape(4, 2)
    rows = ObsLayout.pack(state, turns, window=3)
    assert rows.shape == (4, lay.obs_dim) == (4, 2 + 6 + 3)
    s, w, m, e = lay.split(rows)
    assert e.shape == (4, 0)
    np.testing.assert_array_equal(s, state)
    # row 0: only turn 0, in the newest (last) slot; row 3: turns 1..3
    np.testing.assert_array_equal(m[0], [0, 0, 1])
    np.testing.assert_array_equal(w[0, 2], turns[0])
    np.testing.assert_array_equal(w[3], turns[1:4])
    np.testing.assert_array_equal(m[3], [1, 1, 1])
    with pytest.raises(ValueError):
        ObsLayout(state_dim=0)


def test_masked_slots_are_ignored_wherever_they_are() -> None:
    torch.manual_seed(0)
    lay = ObsLayout(state_dim=3, window=4, turn_dim=2, extra_dim=1)
    net = PolicyNet(lay, (8,), 6, dropout=0.0, pi_arch=(8,)).eval()
    x = torch.randn(5, lay.obs_dim)
    d, k, e = 3, 4, 2
    x[:, d + k * e : d + k * e + k] = torch.tensor([0.0, 1.0, 0.0, 1.0])
    garbage = x.clone()
    garbage[:, d : d + e] = 99.0  # slot 0, masked
    garbage[:, d + 2 * e : d + 3 * e] = -7.0  # slot 2, masked
    with torch.no_grad():
        a, b = net(x), net(garbage)
        assert a.shape == (5,)
        torch.testing.assert_close(a, b)
        real = x.clone()
        real[:, d + e : d + 2 * e] += 1.0  # slot 1 is real: output must move
        assert not torch.allclose(net(real), a)


def test_policy_without_window_or_state() -> None:
    only_state = PolicyNet(ObsLayout(state_dim=4), (8,), 0)
    assert only_state(torch.zeros(2, 4)).shape == (2,)
    only_window = PolicyNet(ObsLayout(state_dim=0, window=2, turn_dim=3), (8,), 4)
    assert only_window(torch.zeros(2, 2 * 3 + 2)).shape == (2,)


def test_sb3_features_extractor_and_weight_transfer() -> None:
    import gymnasium as gym
    from stable_baselines3.common.policies import ActorCriticPolicy

    from salesrl.agent.networks import SalesFeaturesExtractor

    torch.manual_seed(0)
    lay = ObsLayout(state_dim=3, window=2, turn_dim=2)
    obs_space = gym.spaces.Box(-np.inf, np.inf, (lay.obs_dim,), np.float32)
    act_space = gym.spaces.Box(-8, 8, (1,), np.float32)
    policy = ActorCriticPolicy(
        obs_space, act_space, lambda _: 1e-4,
        features_extractor_class=SalesFeaturesExtractor,
        features_extractor_kwargs=dict(layout=lay.to_dict(), state_hidden=(8,), gru_hidden=4,
                                       dropout=0.0),
        share_features_extractor=False, net_arch=dict(pi=[8], vf=[8]),
        activation_fn=torch.nn.Tanh, log_std_init=-2.0)
    actor = PolicyNet(lay, (8,), 4, 0.0, (8,), log_std_init=-1.0).eval()
    critic = ValueNet(lay, (8,), 4, 0.0, (8,)).eval()
    with torch.no_grad():
        actor.encoder.in_mean.fill_(0.5)  # buffers travel too
    load_into_sb3(policy, actor, critic)
    policy.eval()
    x = torch.randn(7, lay.obs_dim)
    with torch.no_grad():
        act, _ = policy.predict(x.numpy(), deterministic=True)
        np.testing.assert_allclose(act[:, 0], actor(x).clamp(-8, 8).numpy(), atol=1e-5)
        np.testing.assert_allclose(policy.predict_values(x).squeeze(-1).numpy(),
                                   critic(x).numpy(), atol=1e-5)
        assert float(policy.log_std) == pytest.approx(-1.0)
    fresh = PolicyNet(lay, (8,), 4, 0.0, (8,)).eval()
    extract_from_sb3(policy, fresh)
    with torch.no_grad():
        torch.testing.assert_close(fresh(x), actor(x))
