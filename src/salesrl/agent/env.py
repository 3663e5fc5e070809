"""The replay environment: labelled conversations replayed turn by turn.

One episode is one conversation, one step is one turn. After turn ``t`` the agent sees row
``t`` of the conversation's precomputed state sequence (nothing later, never the outcome) and
answers with a logit; ``p = sigmoid(logit)`` is scored against the final outcome with a
*proper* scoring rule, so the action that maximises expected reward is the true probability
(Gneiting & Raftery, "Strictly proper scoring rules, prediction, and estimation", JASA 2007).

The action never changes what comes next (this is a replayed, contextual-bandit-like MDP), so
rewards after turn ``t`` carry no credit for the action at ``t``: training uses ``gamma = 0``
by default (see :class:`salesrl.agent.training.TrainConfig`).

Episode sampling implements three pieces of the SalesRLAgent recipe: a curriculum from short
to long conversations (:class:`CurriculumSchedule`), sampling weights that balance outcome and
industry (:func:`balance_weights`), and adversarial counter-examples mixed in at a given rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from salesrl.agent.config import ScoringRule
from salesrl.agent.data import Episodes

_P_EPS = 1e-6


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def score(p: np.ndarray | float, y: np.ndarray | float, rule: ScoringRule = "log",
          base_rate: float = 0.5) -> np.ndarray:
    """A strictly proper scoring rule (higher is better) of estimate ``p`` for outcome ``y``.

    * ``log``: ``y log p + (1 - y) log(1 - p)`` (Good 1952);
    * ``log_normalised``: the log score minus the log score of the constant ``base_rate``,
      in bits; 0 = no better than the base rate. An affine map of ``log`` whose offset does
      not depend on ``p``, so it stays proper;
    * ``brier``: ``1 - (p - y)^2`` (Brier 1950).
    """
    p = np.clip(np.asarray(p, dtype=np.float64), _P_EPS, 1 - _P_EPS)
    y = np.asarray(y, dtype=np.float64)
    if rule == "brier":
        return 1.0 - (p - y) ** 2
    log = y * np.log(p) + (1 - y) * np.log1p(-p)
    if rule == "log":
        return log
    if rule == "log_normalised":
        b = min(max(base_rate, _P_EPS), 1 - _P_EPS)
        ref = y * math.log(b) + (1 - y) * math.log1p(-b)
        return (log - ref) / math.log(2.0)
    raise ValueError(f"unknown scoring rule {rule!r}; choose log, log_normalised or brier")


@dataclass(frozen=True)
class CurriculumSchedule:
    """Curriculum from short to long conversations (Bengio et al., ICML 2009).

    The longest conversation allowed grows linearly from ``start_len`` to ``end_len`` over the
    first ``ramp`` fraction of training, then stays at ``end_len`` (``None`` = no limit).
    ``mode="filter"`` samples only conversations at most that long (falling back to the
    shortest ``min_pool`` fraction when too few qualify); ``mode="truncate"`` samples any
    conversation but replays only its first turns. Filtering can shift the outcome mix when
    length and outcome are related; truncation never does.
    """

    start_len: int = 4
    end_len: int | None = None
    ramp: float = 0.5
    mode: Literal["filter", "truncate"] = "filter"
    min_pool: float = 0.1

    def max_len(self, progress: float, longest: int) -> int:
        """The length limit at ``progress`` in [0, 1] of training."""
        end = longest if self.end_len is None else self.end_len
        start = min(self.start_len, end)
        frac = 1.0 if self.ramp <= 0 else min(max(progress / self.ramp, 0.0), 1.0)
        return int(round(start + frac * (end - start)))

    def eligible(self, lengths: np.ndarray, progress: float) -> np.ndarray:
        """Boolean mask of the conversations that may be sampled at ``progress``."""
        lengths = np.asarray(lengths)
        if self.mode == "truncate":
            return np.ones(len(lengths), dtype=bool)
        limit = self.max_len(progress, int(lengths.max()))
        ok = lengths <= limit
        need = max(1, int(math.ceil(self.min_pool * len(lengths))))
        if ok.sum() < need:
            ok = lengths <= np.sort(lengths)[need - 1]
        return ok

    def truncation(self, progress: float, longest: int) -> int | None:
        """Turns to replay per conversation (``truncate`` mode), else ``None``."""
        return self.max_len(progress, longest) if self.mode == "truncate" else None


def _balance_parts(labels: np.ndarray, groups: np.ndarray | None, by_outcome: bool,
                   by_group: bool, power: float, iters: int = 200
                   ) -> tuple[np.ndarray, float, float]:
    """Raking (iterative proportional fitting, Deming & Stephan 1940): per-row group factor
    ``a`` and outcome factors ``c0, c1`` such that ``a(g) c(y)`` gives every industry and
    both outcomes the same total mass; then both raised to ``power``."""
    labels = np.asarray(labels).astype(int)
    groups = np.asarray(groups if groups is not None else ["all"] * len(labels), dtype=object)
    _, inv = np.unique(groups.astype(str), return_inverse=True)
    n_g = int(inv.max()) + 1 if len(inv) else 0
    ag = np.ones(n_g)
    c = np.ones(2)
    both = by_outcome and (labels == 1).any() and (labels == 0).any()
    for _ in range(iters):
        if by_group:
            mass_g = np.bincount(inv, weights=c[labels], minlength=n_g)
            ag = 1.0 / np.maximum(mass_g, 1e-300)
        if both:
            mass_y = np.bincount(labels, weights=ag[inv], minlength=2)
            new_c = 1.0 / mass_y
            if np.allclose(new_c, c, rtol=1e-12, atol=0):
                break
            c = new_c
        else:
            break
    ag, c = ag**power, c**power
    return ag[inv], float(c[0]), float(c[1])


def balance_weights(labels: np.ndarray, groups: np.ndarray | None = None, *,
                    by_outcome: bool = True, by_group: bool = True,
                    power: float = 1.0) -> np.ndarray:
    """Sampling weights (mean 1) that balance industries and outcomes.

    ``w_i = (a(g_i) c(y_i)) ** power`` with the factors found by raking so that every industry
    and both outcomes carry the same total mass (``power=1`` = fully balanced, ``0`` = natural
    frequencies). Because the weight is a product of a group factor and an outcome factor,
    each industry keeps its own outcome odds up to the common factor ``c(1) / c(0)``: the
    shift of every predicted logit is one constant, undone by :func:`balance_logit_offset`.
    """
    a, c0, c1 = _balance_parts(labels, groups, by_outcome, by_group, power)
    w = a * np.where(np.asarray(labels).astype(int) == 1, c1, c0)
    return w / w.mean()


def balance_logit_offset(labels: np.ndarray, groups: np.ndarray | None = None, *,
                         by_outcome: bool = True, by_group: bool = True,
                         power: float = 1.0) -> float:
    """``log(c(0) / c(1))``: add it to the logit of a model trained under
    :func:`balance_weights` to undo the prior shift (Saerens et al., Neural Computation 2002).

    Exact under label shift: sampling with ``a(g) c(y)`` multiplies the posterior odds
    ``P(y=1 | x, g) / P(y=0 | x, g)`` by ``c(1) / c(0)`` for every ``x`` and ``g``.
    """
    _, c0, c1 = _balance_parts(labels, groups, by_outcome, by_group, power)
    return float(math.log(c0 / c1))


class ConversationReplayEnv(gym.Env):
    """Replays labelled conversations; reward = proper score of the estimate vs the outcome.

    Observation: row ``t`` of the conversation's state sequence (``Box(obs_dim)``, float32).
    Action: a logit in ``[-action_bound, action_bound]``; ``p = sigmoid(logit)`` (with
    ``offset_col``, ``p = sigmoid(logit + row[offset_col])``: the action is a residual).
    Reward at every turn: ``score(p, y, rule)``; the episode ends after the last turn.

    ``info`` carries ``p`` and ``sq_err`` (the Brier term) so that a training callback can
    track how hard recent episodes are; the policy never sees ``info``.
    ``reset(options={"episode_index": i})`` replays main episode ``i`` (for inspection);
    otherwise episodes are drawn with :meth:`sampling_probs` or from the adversarial pool.
    """

    metadata = {"render_modes": []}

    def __init__(self, episodes: Episodes, *, reward: ScoringRule = "log",
                 action_bound: float = 8.0, weights: np.ndarray | None = None,
                 curriculum: CurriculumSchedule | None = None,
                 adversarial: Episodes | None = None, adversarial_rate: float = 0.0,
                 base_rate: float | None = None, offset_col: int | None = None) -> None:
        super().__init__()
        if len(episodes) == 0:
            raise ValueError("ConversationReplayEnv needs at least one episode")
        if not 0.0 <= adversarial_rate <= 1.0:
            raise ValueError("adversarial_rate must be in [0, 1]")
        if adversarial is not None and len(adversarial) and (
                adversarial.obs_dim != episodes.obs_dim):
            raise ValueError("adversarial episodes have a different obs_dim")
        score(0.5, 1, reward)  # validates the rule name
        self.episodes = episodes
        self.reward_rule: ScoringRule = reward
        self.action_bound = float(action_bound)
        self.weights = (np.ones(len(episodes)) if weights is None
                        else np.asarray(weights, dtype=np.float64))
        if len(self.weights) != len(episodes) or (self.weights < 0).any():
            raise ValueError("weights must be non-negative, one per episode")
        self.curriculum = curriculum
        self.adversarial = adversarial if adversarial is not None and len(adversarial) else None
        self.adversarial_rate = adversarial_rate if self.adversarial is not None else 0.0
        self.base_rate = (float(episodes.labels.mean()) if base_rate is None
                          else float(base_rate))
        # residual actions: the estimate is sigmoid(action + row[offset_col])
        self.offset_col = offset_col
        self._lengths = episodes.lengths
        self._progress = 0.0
        obs_dim = episodes.obs_dim
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)
        self.action_space = spaces.Box(-self.action_bound, self.action_bound, shape=(1,),
                                       dtype=np.float32)
        self._obs: np.ndarray = episodes.obs[0]
        self._label = 0
        self._t = 0
        self._len = 1
        self._index = 0
        self._is_adv = False

    # -- curriculum -----------------------------------------------------------------------
    def set_progress(self, progress: float) -> None:
        """Fraction of training done, in [0, 1]; drives the curriculum."""
        self._progress = float(min(max(progress, 0.0), 1.0))

    def sampling_probs(self) -> np.ndarray:
        """Probability of each main episode being drawn now (curriculum x balancing)."""
        w = self.weights.copy()
        if self.curriculum is not None:
            w = w * self.curriculum.eligible(self._lengths, self._progress)
        if w.sum() <= 0:
            w = np.ones(len(w))
        return w / w.sum()

    # -- gym API --------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        rng = self.np_random
        if "episode_index" in options:
            self._is_adv = False
            self._index = int(options["episode_index"])
            source = self.episodes
        elif self.adversarial is not None and rng.random() < self.adversarial_rate:
            self._is_adv = True
            source = self.adversarial
            self._index = int(rng.integers(len(source)))
        else:
            self._is_adv = False
            source = self.episodes
            self._index = int(rng.choice(len(source), p=self.sampling_probs()))
        self._obs = source.obs[self._index]
        self._label = int(source.labels[self._index])
        self._len = len(self._obs)
        if self.curriculum is not None:
            cut = self.curriculum.truncation(self._progress, int(self._lengths.max()))
            if cut is not None:
                self._len = max(1, min(self._len, cut))
        self._t = 0
        return self._obs[0].copy(), {"episode_index": self._index, "adversarial": self._is_adv}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        logit = float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0],
                              -self.action_bound, self.action_bound))
        if self.offset_col is not None:
            logit += float(self._obs[self._t, self.offset_col])
        p = float(sigmoid(logit))
        r = float(score(p, self._label, self.reward_rule, self.base_rate))
        info = {"p": p, "sq_err": (p - self._label) ** 2, "turn": self._t,
                "episode_index": self._index, "adversarial": self._is_adv}
        self._t += 1
        done = self._t >= self._len
        terminated = done and self._len == len(self._obs)
        truncated = done and not terminated
        obs = self._obs[min(self._t, self._len - 1)].copy()
        return obs, r, terminated, truncated, info
