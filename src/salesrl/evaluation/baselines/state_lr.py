"""Logistic regression on the turn-by-turn state vector (:mod:`salesrl.features.tracker`).

The linear probe of the agent's input: the ``state`` part of the state builder's row (history,
per-role mean embeddings and running signals; not the turn window), standardised, into an
L2-regularised logistic regression (Cox, 1958) whose ``C`` is chosen among a few values by
log loss in a 3-fold split grouped by conversation. Like the engineered baselines it is trained
on prefixes of the training conversations at several fractions; since the state is causal,
each conversation is encoded once and the rows at those prefix lengths are read off.

The embedding backend is ``$SALESRL_EMBEDDING_BACKEND`` (default ``minilm``), cached on disk in
``$SALESRL_CACHE_DIR/embeddings.sqlite`` (default ``~/.cache/salesrl``), and one builder is
shared by every fold, so cross-validation embeds each turn once.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Self

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

from salesrl.conversation import Conversation
from salesrl.evaluation.baselines._common import check_fitted, labels
from salesrl.evaluation.predictor import ConversionPredictor, register
from salesrl.evaluation.protocol import prefix_length
from salesrl.features.tracker import StateBuilder, default_backend_name, default_cache_path

TRAIN_FRACTIONS: tuple[float, ...] = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0)
CS: tuple[float, ...] = (0.0001, 0.0003, 0.001, 0.003, 0.01)


@lru_cache(maxsize=4)
def _shared_builder(backend: str, cache_path: str) -> StateBuilder:
    return StateBuilder(backend=backend, cache_path=cache_path)


def default_builder() -> StateBuilder:
    """The state builder of the registered models: backend and cache from the environment,
    one instance per (backend, cache file) so that folds share the loaded model and cache."""
    return _shared_builder(default_backend_name(), str(default_cache_path()))


def _prefix_rows(obs: Sequence[np.ndarray], fractions: Sequence[float]
                 ) -> tuple[list[int], list[int]]:
    """(conversation index, row index) of each distinct training prefix."""
    conv, row = [], []
    for i, o in enumerate(obs):
        for k in sorted({prefix_length(len(o), f) for f in fractions}):
            conv.append(i)
            row.append(k - 1)
    return conv, row


@register("state_lr", "logistic regression on the turn-by-turn state vector (weighted history "
          "and per-role MiniLM embeddings + running signals), trained on prefixes")
class StateLRPredictor(ConversionPredictor):
    """Standardised logistic regression on the state vector; ``C`` tuned over ``Cs`` by
    grouped 3-fold log loss. ``builder`` defaults to :func:`default_builder`."""

    name = "state_lr"

    def __init__(self, builder: StateBuilder | None = None, Cs: Sequence[float] = CS,
                 train_fractions: Sequence[float] = TRAIN_FRACTIONS, cv: int = 3,
                 max_iter: int = 2000) -> None:
        self.builder = builder
        self.Cs = Cs
        self.train_fractions = train_fractions
        self.cv = cv
        self.max_iter = max_iter

    def _fit_lr(self, x: np.ndarray, y: np.ndarray, C: float) -> LogisticRegression:
        return LogisticRegression(C=C, max_iter=self.max_iter).fit(x, y)

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        y_conv = labels(conversations)
        builder = self.builder or default_builder()
        d = builder.state_dim
        obs = builder.encode_many(conversations)
        conv_idx, row_idx = _prefix_rows(obs, self.train_fractions)
        x = np.stack([obs[i][r, :d] for i, r in zip(conv_idx, row_idx, strict=True)]).astype(float)
        y = y_conv[conv_idx]
        groups = np.asarray(conv_idx)
        self.scaler_ = StandardScaler().fit(x)
        z = self.scaler_.transform(x)
        n_splits = min(self.cv, len(conversations))
        losses = {}
        if len(self.Cs) > 1 and n_splits >= 2 and len(set(y_conv.tolist())) == 2:
            splits = list(GroupKFold(n_splits=n_splits).split(z, y, groups))
            for C in self.Cs:
                loss = 0.0
                for tr, te in splits:
                    if len(set(y[tr].tolist())) < 2:
                        loss = np.inf
                        break
                    p = self._fit_lr(z[tr], y[tr], C).predict_proba(z[te])[:, 1]
                    loss += log_loss(y[te], p, labels=[0, 1]) * len(te)
                losses[C] = loss / len(y)
            self.C_ = float(min(losses, key=lambda c: (losses[c], c)))
        else:
            self.C_ = float(self.Cs[len(self.Cs) // 2])
        self.cv_log_loss_ = losses
        self.builder_ = builder
        self.model_ = self._fit_lr(z, y, self.C_)
        return self

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        check_fitted(self, "model_")
        if len(prefixes) == 0:
            return np.zeros(0)
        x = self.builder_.encode_prefixes(prefixes)[:, : self.builder_.state_dim].astype(float)
        return self.model_.predict_proba(self.scaler_.transform(x))[:, 1]
