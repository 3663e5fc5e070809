"""The online reference environment passes gymnasium's checker and plays a whole call."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from salesrl.guidance.online import RepEnv


def test_env_checker_passes() -> None:
    check_env(RepEnv(), skip_render_check=True)
    check_env(RepEnv(adherence=0.5, reward="outcome"), skip_render_check=True)


def test_an_episode_ends_with_a_reward_in_unit_interval() -> None:
    env = RepEnv()
    obs, _ = env.reset(seed=1)
    total, done, steps = 0.0, False, 0
    while not done:
        obs, reward, done, truncated, info = env.step(int(np.argmax(obs[:12])) % 12)
        total += reward
        steps += 1
        assert not truncated
    assert 1 <= steps <= 13
    assert 0.0 <= total <= 1.0


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="adherence"):
        RepEnv(adherence=1.5)
    with pytest.raises(ValueError, match="reward"):
        RepEnv(reward="dollars")
