"""Shared toy data and fitted agents for the agent tests (fitted once per session)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from salesrl.agent import ConversionAgent, Episodes, ObsLayout, TrainConfig
from salesrl.agent.toy import make_toy_episodes
from salesrl.conversation import Conversation, Role


def tiny_config(**overrides: object) -> TrainConfig:
    """The ``fast`` preset shrunk for tests: one member, 512 PPO steps."""
    base: dict[str, object] = dict(ensemble_size=1, ppo_steps=512, n_envs=2, n_steps=128,
                                   ppo_batch_size=64, ppo_epochs=2, critic_prefit_epochs=2,
                                   ws_epochs=15)
    base.update(overrides)
    return TrainConfig.preset("fast", **base)


@pytest.fixture(scope="session")
def tiny() -> Callable[..., TrainConfig]:
    """:func:`tiny_config` for tests that build their own configuration."""
    return tiny_config


def blind_rows(conv: Conversation) -> np.ndarray:
    """A stand-in tracker that knows nothing about the words: turn index and role only
    (``ObsLayout(state_dim=2, window=2, turn_dim=1)``), so only an extra column can help."""
    t = np.arange(len(conv.turns), dtype=np.float32)[:, None]
    rep = np.array([[t.role == Role.REP] for t in conv.turns], dtype=np.float32)
    return ObsLayout.pack(np.concatenate([t, rep], axis=1), rep, window=2)


@pytest.fixture(scope="session")
def blind_encode() -> Callable[[Conversation], np.ndarray]:
    """:func:`blind_rows` for tests of the lexical and context columns."""
    return blind_rows


@pytest.fixture(scope="session")
def toy_train() -> Episodes:
    return make_toy_episodes(300, seed=0)[0]


@pytest.fixture(scope="session")
def toy_test() -> tuple[Episodes, list[np.ndarray]]:
    return make_toy_episodes(150, seed=1)


@pytest.fixture(scope="session")
def warm_agent(toy_train: Episodes) -> ConversionAgent:
    """Warm start only (no PPO)."""
    return ConversionAgent(tiny_config(use_ppo=False)).fit(toy_train)


@pytest.fixture(scope="session")
def ppo_agent(toy_train: Episodes) -> ConversionAgent:
    """The same warm start (same seed), then a short conservative PPO run."""
    return ConversionAgent(tiny_config(use_ppo=True)).fit(toy_train)


@pytest.fixture(scope="session")
def ensemble_agent(toy_train: Episodes) -> ConversionAgent:
    """Three bootstrap members, warm start only, with retrieval features."""
    return ConversionAgent(tiny_config(use_ppo=False, ensemble_size=3, ws_epochs=6,
                                       calibration="none"),
                           embedding_backend="toy-backend", embedding_dim=3).fit(toy_train)
