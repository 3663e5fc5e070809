"""The online reference environment passes gymnasium's checker and plays a whole call."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from salesrl.guidance.ab import run_arm
from salesrl.guidance.observation import OBS_DIM
from salesrl.guidance.online import BatchRepEnv, RepEnv
from salesrl.synth import Simulator


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


def _mean_episode_reward(env: BatchRepEnv, act: int | None, episodes: int) -> float:
    """Mean final reward over ``episodes`` finished calls, always playing ``act``."""
    env.reset()
    rewards: list[float] = []
    while len(rewards) < episodes:
        actions = np.full(env.num_envs, 0 if act is None else act)
        obs, reward, done, infos = env.step(actions)
        rewards.extend(reward[done].tolist())
        assert all("terminal_observation" in infos[k] for k in np.flatnonzero(done))
        assert not reward[~done].any()
    return float(np.mean(rewards))


def test_batch_env_without_adherence_is_the_control_arm() -> None:
    sim = Simulator()
    env = BatchRepEnv(256, adherence=0.0, simulator=sim, seed=0)
    mean = _mean_episode_reward(env, None, 6000)
    assert abs(mean - sim.conversion_rate()) < 0.015


def test_batch_env_matches_the_lockstep_arm_for_a_fixed_act() -> None:
    sim = Simulator()
    close = 10  # closing attempt on every turn: far below the control rate
    env = BatchRepEnv(256, adherence=1.0, simulator=sim, seed=1)
    mean = _mean_episode_reward(env, close, 6000)
    arm = run_arm(sim, np.random.default_rng(2), 20_000,
                  lambda obs, keys: np.full(len(obs), close), adherence=1.0)
    assert abs(mean - arm.rate) < 0.02
    assert mean < sim.conversion_rate() - 0.03


def test_batch_env_starts_finished_calls_afresh() -> None:
    env = BatchRepEnv(64, adherence=1.0, seed=3)
    obs = env.reset()
    assert obs.shape == (64, OBS_DIM) and obs.dtype == np.float32
    fresh = obs[0].copy()
    for _ in range(13):  # every call ends within 13 exchanges
        obs, _, done, infos = env.step(np.zeros(64, dtype=int))
        for k in np.flatnonzero(done):
            np.testing.assert_array_equal(obs[k], fresh)
            assert not np.array_equal(infos[k]["terminal_observation"], fresh)
    with pytest.raises(ValueError, match="adherence"):
        BatchRepEnv(4, adherence=-0.1)
    with pytest.raises(ValueError, match="num_envs"):
        BatchRepEnv(0)
