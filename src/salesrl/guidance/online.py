"""The online reference: an agent that plays the rep against the simulated customer.

:class:`RepEnv` is a gymnasium environment: the observation is the act summary of
:mod:`~salesrl.guidance.observation` (exactly what the offline advisor sees), the action is a
rep act, the reward is the conversion at the end. With ``adherence < 1`` the rep follows the
agent only with that probability and otherwise says what the simulator's own rep would, so
the agent is trained for the same deployment as the advisor in the simulated A/B test. PPO
(Schulman et al., 2017) from stable-baselines3 learns it by interacting with the simulator:
the ceiling the offline advisor, which only sees logs, is compared with. Training runs on
:class:`BatchRepEnv`, the same environment for many calls at once, so PPO gets the million or
more steps it needs to converge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from salesrl._quiet import import_gym_quietly, silence_sb3_logger
from salesrl.guidance.observation import N_REP, OBS_DIM, REP_ACTS, ActHistory
from salesrl.synth.customer import CustomerSimulator
from salesrl.synth.latent import CUSTOMER_ACTS, SKILL, START, R, categorical
from salesrl.synth.simulate import Simulator

import_gym_quietly()  # before stable-baselines3 imports gym and prints its notice
from stable_baselines3.common.vec_env import VecEnv  # noqa: E402

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


class BatchRepEnv(VecEnv):
    """:class:`RepEnv` for ``num_envs`` calls at once, as a stable-baselines3 ``VecEnv``.

    The same customer model, adherence and ``"expected"`` reward as :class:`RepEnv`, drawn
    with numpy over all calls (as :class:`~salesrl.synth.lockstep.LockstepCalls` does), so
    PPO gets millions of steps in minutes instead of one Python call per step. A finished
    call is replaced by a new one at once (SB3's auto-reset; the last observation is in
    ``info["terminal_observation"]``). Written by hand because SB3's vectorised envs step
    one gymnasium env per call and the simulator's batch runner plays only the default reps.
    """

    def __init__(self, num_envs: int = 64, adherence: float = 1.0,
                 simulator: Simulator | None = None, seed: int = 0) -> None:
        if not 0.0 <= adherence <= 1.0:
            raise ValueError(f"adherence must be in [0, 1], got {adherence}")
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.adherence = adherence
        self.simulator = simulator or Simulator()
        self.rng = np.random.default_rng(seed)
        space = gym.spaces.Box(0.0, 1.0, (OBS_DIM,), dtype=np.float32)
        self.render_mode = None
        super().__init__(num_envs, space, gym.spaces.Discrete(N_REP))
        self._history = ActHistory(num_envs)
        self.static = np.zeros(num_envs, dtype=int)
        self.level = np.zeros(num_envs, dtype=int)
        self.previous = np.full(num_envs, START)
        self._actions = np.zeros(num_envs, dtype=int)
        self._new_calls(np.arange(num_envs))

    def _new_calls(self, rows: np.ndarray) -> None:
        sim, rng = self.simulator, self.rng
        rep_id = rng.integers(0, sim.n_reps, rows.size)
        p_static = sim.model.attribute_prior[None, :] * sim.skill_profiles[rep_id][:, SKILL]
        self.static[rows] = categorical(p_static, rng.random(rows.size))
        self.level[rows] = categorical(sim.model.initial_level[self.static[rows]],
                                       rng.random(rows.size))
        self.previous[rows] = START
        self._history.clear(rows)

    def reset(self) -> np.ndarray:
        if self._seeds[0] is not None:
            self.rng = np.random.default_rng(self._seeds[0])
        self._reset_seeds()
        self._new_calls(np.arange(self.num_envs))
        return self._history.observe()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=int).reshape(-1)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        sim, rng, model = self.simulator, self.rng, self.simulator.model
        n = self.num_envs
        rows = np.arange(n)
        exchange = np.minimum(self._history.exchange, model.max_exchanges - 1)
        s, prev = self.static, self.previous
        rep = self._actions
        if self.adherence < 1.0:
            own = categorical(sim.policy_table[SKILL[s], prev, exchange], rng.random(n))
            rep = np.where(rng.random(n) < self.adherence, rep, own)
        u = rng.random((3, n))
        d = categorical(model.transition[prev, rep, s, self.level], u[0])
        cust = categorical(model.emission[rep, s, d], u[1])
        done = u[2] < model.hazard[exchange, cust]
        self.level, self.previous = d, cust
        self._history.update(rows, rep, cust)
        reward = np.where(done, model.close[s, d, cust], 0.0).astype(np.float32)
        obs = self._history.observe()
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        ended = np.flatnonzero(done)
        for k in ended:
            infos[k]["terminal_observation"] = obs[k].copy()
        if ended.size:
            self._new_calls(ended)
            obs[ended] = self._history.observe(ended)
        return obs, reward, done, infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None,
                   **kwargs: Any) -> list[Any]:
        raise NotImplementedError("BatchRepEnv has no per-env methods")

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))


def train_ppo(adherence: float = 1.0, total_timesteps: int = 1_500_000, seed: int = 0,
              n_envs: int = 64, on_step: Callable[[int], None] | None = None,
              **ppo_kwargs: Any) -> Any:
    """Train SB3 PPO on :class:`BatchRepEnv` (``n_envs`` calls at once); returns the model.

    ``ppo_kwargs`` override the PPO settings below (e.g. ``n_steps``, ``ent_coef``).
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    env = BatchRepEnv(n_envs, adherence, Simulator(), seed=seed)

    class _Progress(BaseCallback):
        def _on_step(self) -> bool:
            if on_step is not None:
                on_step(self.num_timesteps)
            return True

    settings: dict[str, Any] = {
        "n_steps": 128, "batch_size": 1024, "n_epochs": 5, "gamma": 1.0, "gae_lambda": 0.95,
        "ent_coef": 0.01, "learning_rate": 1e-3, "policy_kwargs": {"net_arch": [64, 64]}}
    settings.update(ppo_kwargs)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **settings)
    silence_sb3_logger(model)
    model.learn(total_timesteps=total_timesteps, callback=_Progress())
    return model


def ppo_chooser(model: Any) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Batched greedy acts of a trained PPO model, as a ``chooser(obs, keys)``."""

    def choose(obs: np.ndarray, keys: np.ndarray) -> np.ndarray:
        acts, _ = model.predict(obs, deterministic=True)
        return np.asarray(acts, dtype=int)

    return choose
