"""The online reference: an agent that plays the rep against the simulated customer.

:class:`RepEnv` is a gymnasium environment: the observation is the act summary of
:mod:`~salesrl.guidance.observation` (exactly what the offline advisor sees), the action is a
rep act, the reward is the conversion at the end. With ``adherence < 1`` the rep follows the
agent only with that probability and otherwise says what the simulator's own rep would, so
the agent is trained for the same deployment as the advisor in the simulated A/B test. PPO
(Schulman et al., 2017) from stable-baselines3 learns it by interacting with the simulator:
the ceiling the offline advisor, which only sees logs, is compared with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from salesrl.guidance.observation import N_REP, OBS_DIM, REP_ACTS, ActHistory
from salesrl.synth.customer import CustomerSimulator
from salesrl.synth.latent import CUSTOMER_ACTS, R
from salesrl.synth.simulate import Simulator

_CUST_INDEX = {a: i for i, a in enumerate(CUSTOMER_ACTS)}


class RepEnv(gym.Env):
    """One simulated call per episode; the agent chooses the rep's act each exchange.

    ``reward="outcome"`` pays the drawn 0/1 conversion; ``"expected"`` pays the close
    probability of the final hidden state instead (same expectation, less variance).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, adherence: float = 1.0, reward: str = "expected",
                 simulator: Simulator | None = None) -> None:
        if not 0.0 <= adherence <= 1.0:
            raise ValueError(f"adherence must be in [0, 1], got {adherence}")
        if reward not in ("outcome", "expected"):
            raise ValueError(f"reward must be 'outcome' or 'expected', got {reward!r}")
        self.adherence = adherence
        self.reward_kind = reward
        self.simulator = simulator or Simulator()
        self.observation_space = gym.spaces.Box(0.0, 1.0, (OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(N_REP)
        self._customer = CustomerSimulator(self.simulator)
        self._history = ActHistory(1)
        self._row = np.zeros(1, dtype=int)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._customer.reset(self.np_random)
        self._history = ActHistory(1)
        return self._history.observe()[0], {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        customer = self._customer
        act = REP_ACTS[int(action)]
        if self.adherence < 1.0 and self.np_random.random() >= self.adherence:
            act = self.simulator.policy.act(self.np_random, customer.hidden.skill,
                                            customer.last_act, customer.exchange)
        cust, done = customer.step(act)
        self._history.update(self._row, np.array([R[act]]), np.array([_CUST_INDEX[cust]]))
        reward = 0.0
        if done:
            reward = (customer.close_probability() if self.reward_kind == "expected"
                      else float(customer.outcome()))
        return self._history.observe()[0], float(reward), bool(done), False, {"act": act.value}


def train_ppo(adherence: float = 1.0, total_timesteps: int = 100_000, seed: int = 0,
              n_envs: int = 4, on_step: Callable[[int], None] | None = None) -> Any:
    """Train SB3 PPO on :class:`RepEnv` (DummyVecEnv of ``n_envs``); returns the PPO model."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    sim = Simulator()
    env = DummyVecEnv([lambda: RepEnv(adherence, simulator=sim) for _ in range(n_envs)])
    env.seed(seed)

    class _Progress(BaseCallback):
        def _on_step(self) -> bool:
            if on_step is not None:
                on_step(self.num_timesteps)
            return True

    model = PPO("MlpPolicy", env, n_steps=512, batch_size=512, n_epochs=5, gamma=1.0,
                gae_lambda=0.95, ent_coef=0.01, learning_rate=1e-3, seed=seed, device="cpu",
                policy_kwargs={"net_arch": [64, 64]}, verbose=0)
    model.learn(total_timesteps=total_timesteps, callback=_Progress())
    return model


def ppo_chooser(model: Any) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Batched greedy acts of a trained PPO model, as a ``chooser(obs, keys)``."""

    def choose(obs: np.ndarray, keys: np.ndarray) -> np.ndarray:
        acts, _ = model.predict(obs, deterministic=True)
        return np.asarray(acts, dtype=int)

    return choose
