"""The advisor: Q(situation, rep act) learned offline with conservative Q-learning.

Discrete CQL (Kumar et al., "Conservative Q-Learning for Offline Reinforcement Learning",
NeurIPS 2020) from d3rlpy (Seno & Imai, JMLR 2022) is fitted on logged conversations
(:class:`~salesrl.guidance.logs.ActLog`): one transition per exchange, the observation of
:mod:`~salesrl.guidance.observation`, the rep act as the action, reward = conversion on the
last exchange, no discount. With the default 13-step returns every TD target is the call's
observed outcome, so Q estimates (conservatively) P(convert | situation, act, then the reps
as usual): acting greedily on it is one-step policy improvement (Brandfonbrener et al.,
"Offline RL Without Off-Policy Evaluation", NeurIPS 2021); ``n_step=1`` gives ordinary
bootstrapped CQL.

The Q network sees the customer's side of the history and the exchange index, not the rep's
own acts (``rep_history=False``): under advice those are the advisor's, not the rep's habits
the logs showed; in the simulated A/B test this did slightly better on average over three
training seeds, by less than the spread between seeds (BENCHMARKS.md).
Bootstrapped targets (``n_step`` 1 or 3, also with the follow-the-advice mixture of the
deployment in the target) lowered it there: the act summary is not a Markov state, so a
bootstrapped value averages over hidden states as the logged reps reach them.

A recommendation is the act with the highest Q among acts with enough support: the act was
taken at least ``min_support`` times in the logs in the same coarse situation (exchange index,
last customer act). Its expected lift is Q(best) minus the value of what reps usually do there,
the logged act frequencies weighted by Q. The trained Q network is copied into a plain torch
MLP and saved with safetensors + JSON (d3rlpy's own save format pickles), so loading needs
neither d3rlpy nor pickle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from salesrl.guidance.logs import ActLog
from salesrl.guidance.observation import (
    CUSTOMER_COUNTS,
    LAST_REP,
    N_KEYS,
    N_REP,
    OBS_DIM,
    REP_ACTS,
    replay,
)

FORMAT = "salesrl-advisor"
FORMAT_VERSION = 1
CONFIG_FILE = "advisor.json"
WEIGHTS_FILE = "advisor.safetensors"


@dataclass
class AdvisorConfig:
    """Training settings (small on purpose: the observation is a 64-dim act summary)."""

    n_steps: int = 8000
    batch_size: int = 256
    learning_rate: float = 1e-3
    alpha: float = 0.05  # CQL penalty weight: small, the logs cover every act well
    hidden: list[int] = field(default_factory=lambda: [128, 128])
    target_update_interval: int = 200
    min_support: int = 30
    #: TD horizon. 13 (the longest call) makes every target the call's observed outcome: Q is
    #: the logged reps' own value of each act, so Q(best) - V is a calibrated one-step lift
    #: (one-step policy improvement, Brandfonbrener et al., NeurIPS 2021); 1 bootstraps with
    #: a max over acts, which over-estimates values on noisy 0/1 outcomes.
    n_step: int = 13
    n_critics: int = 1
    seed: int = 0
    #: False blanks the rep-act blocks of the observation (last rep act, rep act counts). In
    #: the logs the rep's acts reveal the rep's habits (skill); once reps follow advice they
    #: are mostly the advisor's own, so Q would read them out of distribution (see the module
    #: docstring). Artifacts saved before this option existed load with True.
    rep_history: bool = False


@dataclass(frozen=True)
class Recommendation:
    """The advised next rep act, its conservative value and its expected lift."""

    act: str
    value: float
    expected_lift: float
    support: int
    alternatives: list[tuple[str, float]]
    #: False when no act has ``min_support`` logged examples in this situation: the act is
    #: the plain argmax of an extrapolated Q, and no lift is claimed (``expected_lift`` 0)
    supported: bool = True


def _mlp(hidden: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = OBS_DIM
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, N_REP))
    return nn.Sequential(*layers)


class Advisor:
    """Offline-RL next-best-act advisor; ``fit`` on an :class:`ActLog`, then ``recommend``."""

    def __init__(self, config: AdvisorConfig | None = None) -> None:
        self.config = config

    # -- training --------------------------------------------------------------------------
    def fit(self, log: ActLog, on_step: Callable[[int], None] | None = None) -> Advisor:
        """Fit discrete CQL on the logged transitions; ``on_step(done)`` reports progress."""
        from salesrl._quiet import import_gym_quietly

        import_gym_quietly()
        import d3rlpy  # heavy import, only for training
        from d3rlpy.logging import NoopAdapterFactory

        cfg = self.config or AdvisorConfig()
        obs, acts, rewards, terminals, keys = log.transitions()
        obs = self._view(obs, cfg)
        d3rlpy.seed(cfg.seed)
        with _quiet_structlog():  # d3rlpy logs to stdout through structlog
            picker = (d3rlpy.dataset.MultiStepTransitionPicker(cfg.n_step, 1.0)
                      if cfg.n_step > 1 else None)
            dataset = d3rlpy.dataset.MDPDataset(obs, acts[:, None], rewards[:, None], terminals,
                                                action_size=N_REP, transition_picker=picker)
            algo = d3rlpy.algos.DiscreteCQLConfig(
                batch_size=cfg.batch_size, gamma=1.0, learning_rate=cfg.learning_rate,
                alpha=cfg.alpha, target_update_interval=cfg.target_update_interval,
                n_critics=cfg.n_critics, encoder_factory=d3rlpy.models.VectorEncoderFactory(
                    hidden_units=list(cfg.hidden)),
            ).create(device="cpu:0")
            callback = None if on_step is None else (lambda _a, _e, step: on_step(step))
            algo.fit(dataset, n_steps=cfg.n_steps, n_steps_per_epoch=cfg.n_steps,
                     show_progress=False, logger_adapter=NoopAdapterFactory(),
                     save_interval=cfg.n_steps + 1, callback=callback)
        self.q_net_ = _copy_q_network(algo, cfg)
        counts = np.zeros((N_KEYS, N_REP), dtype=np.int64)
        np.add.at(counts, (keys, acts), 1)
        self.support_ = counts
        self.config_ = cfg
        return self

    @staticmethod
    def _view(obs: np.ndarray, cfg: AdvisorConfig) -> np.ndarray:
        """The observation as the Q network sees it (rep-act blocks blanked if configured)."""
        obs = np.array(np.atleast_2d(obs), dtype=np.float32)
        if not cfg.rep_history:
            obs[:, LAST_REP:CUSTOMER_COUNTS] = 0.0
        return obs

    # -- inference -------------------------------------------------------------------------
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q for every rep act: shape ``(B, 12)``, clipped to [0, 1]."""
        x = self._view(obs, self.config_)
        with torch.inference_mode():
            q = self.q_net_(torch.from_numpy(x)).numpy()
        return np.clip(q, 0.0, 1.0)

    def choose(self, obs: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best supported act index per row, and its expected lift (batched; 0 where no act
        has enough support: an extrapolated Q value is no evidence of a lift)."""
        return self._choose(self.q_values(obs), keys)

    def _choose(self, q: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        support = self.support_[keys]
        ok = support >= self.config_.min_support
        unsupported = ~ok.any(axis=1)
        ok[unsupported] = True  # an unseen situation: fall back to the plain argmax
        best = np.where(ok, q, -np.inf).argmax(axis=1)
        total = support.sum(axis=1, keepdims=True)
        freq = np.where(total > 0, support / np.maximum(total, 1), 1.0 / N_REP)
        baseline = (freq * q).sum(axis=1)
        lift = q[np.arange(q.shape[0]), best] - baseline
        return best, np.where(unsupported, 0.0, np.maximum(lift, 0.0))

    def recommend(self, rep_acts: list[str], customer_acts: list[str]) -> Recommendation:
        """The advice before the next rep turn, given the acts of the exchanges so far."""
        return self.recommend_many([(rep_acts, customer_acts)])[0]

    def recommend_many(self, histories: Sequence[tuple[Sequence[str], Sequence[str]]]
                       ) -> list[Recommendation]:
        """:meth:`recommend` for several conversations with one Q forward pass."""
        if not histories:
            return []
        hist = replay(histories)
        keys = hist.key()
        q_all = self.q_values(hist.observe())  # the choice and the alternatives, all rows
        best, lift = self._choose(q_all, keys)
        supported = (self.support_[keys] >= self.config_.min_support).any(axis=1)
        out = []
        for i, (q, b, k) in enumerate(zip(q_all, best.tolist(), keys.tolist(), strict=True)):
            order = np.argsort(-q)[:3]
            out.append(Recommendation(act=REP_ACTS[b].value, value=float(q[b]),
                                      expected_lift=float(lift[i]),
                                      support=int(self.support_[k, b]),
                                      alternatives=[(REP_ACTS[j].value, float(q[j]))
                                                    for j in order],
                                      supported=bool(supported[i])))
        return out

    # -- persistence -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``advisor.json`` + ``advisor.safetensors`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {f"q.{k}": v.contiguous() for k, v in self.q_net_.state_dict().items()}
        tensors["support"] = torch.as_tensor(self.support_)
        save_file(tensors, str(directory / WEIGHTS_FILE))
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "config": asdict(self.config_),
                "obs_dim": OBS_DIM, "acts": [a.value for a in REP_ACTS]}
        (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Advisor:
        """Read an advisor written by :meth:`save` (raises ``ValueError`` on a bad artifact)."""
        directory = Path(directory)
        meta_path = directory / CONFIG_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{meta_path}: no advisor artifact here")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("obs_dim") != OBS_DIM:
            raise ValueError(f"{meta_path}: not a compatible {FORMAT} artifact")
        if meta.get("acts") != [a.value for a in REP_ACTS]:
            raise ValueError(f"{meta_path}: the act vocabulary differs from this version")
        cfg = AdvisorConfig(**{"rep_history": True, **meta["config"]})
        tensors = load_file(str(directory / WEIGHTS_FILE))
        net = _Ensemble(cfg.hidden, cfg.n_critics)
        net.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("q.")})
        net.eval()
        advisor = cls(cfg)
        advisor.q_net_, advisor.config_ = net, cfg
        advisor.support_ = tensors["support"].numpy()
        return advisor


@contextmanager
def _quiet_structlog() -> Iterator[None]:
    import structlog

    old = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(**old)


class _Ensemble(nn.Module):
    """The mean of ``n`` MLP critics (d3rlpy's ``reduction="mean"``)."""

    def __init__(self, hidden: list[int], n: int) -> None:
        super().__init__()
        self.members = nn.ModuleList(_mlp(hidden) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(dim=0)


def _copy_q_network(algo: object, cfg: AdvisorConfig) -> _Ensemble:
    """Copy d3rlpy's Q network(s) into plain torch MLPs (no d3rlpy needed to load)."""
    state = algo.impl.modules.q_funcs.state_dict()  # type: ignore[attr-defined]
    net = _Ensemble(cfg.hidden, cfg.n_critics)
    mapped = {}
    last = 2 * len(cfg.hidden)
    for k in range(cfg.n_critics):
        for p in ("weight", "bias"):
            for j in range(len(cfg.hidden)):
                mapped[f"members.{k}.{2 * j}.{p}"] = state[f"{k}._encoder._layers.{2 * j}.{p}"]
            mapped[f"members.{k}.{last}.{p}"] = state[f"{k}._fc.{p}"]
    net.load_state_dict(mapped)
    net.eval()
    return net
