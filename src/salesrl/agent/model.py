"""The trained agent: ``ConversionAgent`` maps observation rows to P(conversion).

Fitting runs the SalesRLAgent recipe of :mod:`salesrl.agent.training`; prediction is the
ensemble mean (in logit or probability space) of the members' logit means, each plus the
prior offset of balanced sampling, through the post-hoc calibration map. Prediction imports neither
stable-baselines3 nor gymnasium (training code is imported inside ``fit``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.special import expit

from salesrl.agent.artifacts import AgentArtifact, load_agent, save_agent
from salesrl.agent.config import TrainConfig
from salesrl.agent.data import Episodes, ObsLayout
from salesrl.agent.networks import combine_logits, member_logits
from salesrl.agent.rows import work_rows
from salesrl.conversation import Conversation
from salesrl.features.tracker import turn_count_column


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return expit(z)  # no overflow warning for very negative logits


class ConversionAgent:
    """Ensemble of PPO-fine-tuned forecasters over state rows (scikit-learn conventions).

    ``layout`` describes the rows the state tracker produces (default: ``episodes.layout``,
    else every column is state). ``embedding_backend`` / ``embedding_dim`` name the turn
    embedding the rows were built with; they are stored in the artifact and checked on load.
    """

    name = "salesrl-agent"

    def __init__(self, config: TrainConfig | None = None, *, layout: ObsLayout | None = None,
                 embedding_backend: str = "unknown", embedding_dim: int = 0) -> None:
        self.config = config
        self.layout = layout
        self.embedding_backend = embedding_backend
        self.embedding_dim = embedding_dim

    # -- fitting --------------------------------------------------------------------------
    def fit(self, episodes: Episodes, val_episodes: Episodes | None = None,
            adversarial: Episodes | None = None, *, release_rows: bool = False) -> Self:
        """Train on labelled state sequences. ``val_episodes`` (default: a stratified split of
        ``episodes``) drive early stopping and calibration; ``adversarial`` are embedded
        counter-examples from :mod:`salesrl.agent.adversarial`; ``release_rows``: the caller
        gives ``episodes``' rows up (emptied during training, see
        :func:`~salesrl.agent.training.train_salesrl_agent`)."""
        from salesrl.agent.training import train_salesrl_agent

        cfg = self.config or TrainConfig.preset("default")
        t0 = time.perf_counter()
        layout = self.layout or episodes.layout
        res = train_salesrl_agent(episodes, cfg, val_episodes=val_episodes,
                                  adversarial=adversarial, layout=self.layout,
                                  release_rows=release_rows,
                                  turn_column=(None if layout is None else
                                               turn_count_column(layout.state_dim,
                                                                 self.embedding_dim)))
        self.config_ = cfg
        self.input_layout_ = res.input_layout
        self.layout_ = res.layout
        self.members_ = res.members
        self.calibrator_ = res.calibrator
        self.retrieval_ = res.retrieval
        self.offsets_ = res.offsets
        self.compressor_ = res.compressor
        self.linear_ = res.linear
        self.lexical_ = getattr(self, "lexical_", None)
        self.history_ = res.history
        self.phase_seconds_ = dict(res.seconds)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    # -- prediction -----------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "members_"):
            raise RuntimeError("ConversionAgent is not fitted; call fit() or load() first")

    def _rows(self, obs_rows: np.ndarray) -> np.ndarray:
        """The caller's rows as a checked ``(n, obs_dim)`` float32 array."""
        self._check()
        x = np.asarray(obs_rows, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.input_layout_.obs_dim:
            raise ValueError(f"expected rows of width {self.input_layout_.obs_dim} "
                             f"(layout {self.input_layout_.to_dict()}), got shape {x.shape}")
        return x

    def _prepare(self, obs_rows: np.ndarray) -> np.ndarray:
        """What the members read (:func:`~.rows.work_rows`)."""
        return work_rows(self._rows(obs_rows), self.input_layout_,
                         getattr(self, "compressor_", None), self.retrieval_,
                         getattr(self, "linear_", None))

    def _member_z(self, obs_rows: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(n, K)`` member logits with each member's balancing offset (and, with a linear
        base, the base logit) added, the caller's extra columns (what a stacking calibrator
        reads) and, for a turn-aware calibrator, each row's ``log(1 + turns so far)``."""
        raw = self._rows(obs_rows)
        x = self._prepare(raw)
        extra = self.input_layout_.split(raw)[3]
        z = member_logits(self.members_, x, self.config_.action_bound) + self.offsets_
        if getattr(self, "linear_", None) is not None:
            z = z + x[:, -1:].astype(np.float64)
        cal = self.calibrator_
        log_turns = raw[:, cal.turn_column].astype(np.float64) if cal.uses_turns else None
        return z, extra, log_turns

    def predict_logit_rows(self, obs_rows: np.ndarray) -> np.ndarray:
        """Calibrated logit per row, shape ``(n,)``."""
        z, extra, lt = self._member_z(obs_rows)
        return self.calibrator_.apply(combine_logits(z, self.config_.ensemble_combine), extra,
                                      lt)

    def predict_proba_rows(self, obs_rows: np.ndarray) -> np.ndarray:
        """P(conversion) per observation row, shape ``(n,)`` (batched internally)."""
        return _sigmoid(self.predict_logit_rows(obs_rows))

    def predict_members(self, obs_rows: np.ndarray) -> np.ndarray:
        """Each member's calibrated probability, shape ``(n, K)``: the spread feeds the
        confidence module."""
        z, extra, lt = self._member_z(obs_rows)
        return _sigmoid(self.calibrator_.apply(z, extra, lt))

    def predict_with_members(self, obs_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_proba_rows` and :meth:`predict_members` from one forward pass."""
        z, extra, lt = self._member_z(obs_rows)
        cal = self.calibrator_
        p = _sigmoid(cal.apply(combine_logits(z, self.config_.ensemble_combine), extra, lt))
        return p, _sigmoid(cal.apply(z, extra, lt))

    def lexical_rows(self, conversation: Conversation, obs_rows: np.ndarray) -> np.ndarray:
        """``obs_rows`` of ``conversation`` (one per turn) with the lexical-evidence column
        appended when the agent was trained with one (:mod:`~.lexical`); else unchanged."""
        lexical = getattr(self, "lexical_", None)
        rows = np.asarray(obs_rows, dtype=np.float32)
        if lexical is None:
            return rows
        z = lexical.logits([conversation])[0]
        return np.concatenate([rows, z[-len(rows):, None]], axis=1)

    def predict_episodes(self, episodes: Episodes) -> list[np.ndarray]:
        """Per-turn probabilities for every conversation."""
        if not len(episodes):
            return []
        p = self.predict_proba_rows(np.concatenate(episodes.obs))
        return np.split(p, np.cumsum(episodes.lengths)[:-1])

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the artifact directory (safetensors + JSON); see :mod:`~.artifacts`."""
        self._check()
        extra: dict[str, Any] = {"fit_seconds": getattr(self, "fit_seconds_", None)}
        return save_agent(AgentArtifact(self.input_layout_, self.layout_, self.config_,
                                        self.members_, self.calibrator_, self.offsets_,
                                        self.retrieval_, self.embedding_backend,
                                        self.embedding_dim, extra,
                                        getattr(self, "lexical_", None),
                                        getattr(self, "compressor_", None),
                                        getattr(self, "linear_", None),
                                        getattr(self, "context_", None)), path)

    @classmethod
    def load(cls, path: str | Path, *, embedding_backend: str | None = None,
             embedding_dim: int | None = None) -> ConversionAgent:
        """Read an artifact; raises :class:`~.artifacts.IncompatibleArtifactError` when it was
        trained for another ``embedding_backend`` / ``embedding_dim`` than the caller's."""
        art = load_agent(path, embedding_backend=embedding_backend,
                         embedding_dim=embedding_dim)
        agent = cls(art.config, layout=art.input_layout,
                    embedding_backend=art.embedding_backend, embedding_dim=art.embedding_dim)
        agent.config_ = art.config
        agent.input_layout_ = art.input_layout
        agent.layout_ = art.layout
        agent.members_ = art.members
        agent.calibrator_ = art.calibrator
        agent.retrieval_ = art.retrieval
        agent.offsets_ = art.offsets
        agent.lexical_ = art.lexical
        agent.compressor_ = art.compressor
        agent.linear_ = art.linear
        agent.context_ = art.context  # None: no context column (older artifacts too)
        agent.history_ = []
        return agent
