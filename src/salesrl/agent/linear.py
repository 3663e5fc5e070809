"""A linear base logit whose residual the agent's network models (``TrainConfig.linear_base``).

On small data (PersuasionForGood: about 800 training dialogues) the network memorises the
training conversations within one warm-start epoch, while two linear models generalise: an
L2 logistic regression on the standardised state columns (the ``state_lr`` baseline) and the
lexical TF-IDF logit the caller appends as an extra column (:mod:`salesrl.agent.lexical`).
:class:`LinearBase` stacks them (stacked generalisation, Wolpert, Neural Networks 1992):

1. a logistic regression (Cox, 1958) on the standardised state part of prefix rows at
   ``train_fractions`` of every conversation (as ``state_lr``), its ``C`` picked among ``Cs``
   by the out-of-fold log loss of a k-fold split by conversation;
2. a nearly unregularised logistic regression over ``[that logit, the extra columns]`` fitted
   on the out-of-fold logits of step 1 (the extra columns are out-of-fold already).

``oof_`` keeps the out-of-fold base logit of every row of every training conversation, so the
network trains on ``base + f(x)`` without ever seeing an in-sample base (residual fitting from
an initial score, as in gradient boosting, Friedman, Annals of Statistics 2001). The artifact
form is arrays + JSON, never pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from salesrl.agent.data import LazyRows, ObsLayout
from salesrl.evaluation.protocol import prefix_length

#: prefix fractions of the training rows (those of the ``state_lr`` baseline)
TRAIN_FRACTIONS: tuple[float, ...] = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0)


def _prefix_rows(obs: Sequence[np.ndarray], fractions: Sequence[float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(conversation index, row index) of each distinct training prefix."""
    conv, row = [], []
    lengths = obs.lengths if isinstance(obs, LazyRows) else [len(o) for o in obs]
    for i, n in enumerate(lengths):
        for k in sorted({prefix_length(int(n), f) for f in fractions}):
            conv.append(i)
            row.append(k - 1)
    return np.asarray(conv, dtype=np.int64), np.asarray(row, dtype=np.int64)


class LinearBase:
    """State logistic regression stacked with the rows' extra evidence columns.

    ``fit(obs, labels, layout)`` takes one ``(T_i, obs_dim)`` array per conversation;
    ``logits(rows)`` gives the base logit of any rows of that layout.
    """

    def __init__(self, Cs: Sequence[float] = (0.0003, 0.001, 0.003), n_splits: int = 5,
                 train_fractions: Sequence[float] = TRAIN_FRACTIONS, seed: int = 0,
                 max_iter: int = 2000, max_rows: int = 0) -> None:
        self.Cs = Cs
        self.n_splits = n_splits
        self.train_fractions = train_fractions
        self.seed = seed
        self.max_iter = max_iter
        self.max_rows = max_rows

    # the columns are taken before they are widened to float64 (same values, a fraction of
    # the memory: the window's turn vectors are most of a row)
    def _state(self, rows: np.ndarray) -> np.ndarray:
        s = np.asarray(np.asarray(rows)[..., : self.layout_.state_dim], dtype=np.float64)
        return (s - self.mean_) / self.std_

    def _extra(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.layout_.split(np.asarray(rows))[3], dtype=np.float64)

    def fit(self, obs: Sequence[np.ndarray], labels: np.ndarray, layout: ObsLayout) -> Self:
        y_conv = np.asarray(labels, dtype=np.int64)
        if len(obs) != len(y_conv) or len(obs) == 0:
            raise ValueError("LinearBase.fit: one label per conversation, at least one")
        self.layout_ = layout
        ci, ri = _prefix_rows(obs, self.train_fractions)
        if 0 < self.max_rows < len(ci):  # a random sample of the prefix rows (large data)
            keep = np.sort(np.random.default_rng(self.seed + 1).choice(
                len(ci), self.max_rows, replace=False))
            ci, ri = ci[keep], ri[keep]
        # the state and extra columns only (the window's turn vectors are most of a row),
        # written straight into float64 matrices
        s = np.empty((len(ci), layout.state_dim))
        extra = np.empty((len(ci), layout.extra_dim))
        first_extra = layout.obs_dim - layout.extra_dim
        if isinstance(obs, LazyRows):  # rebuilt a few thousand rows at a time
            for lo in range(0, len(ci), 4096):
                block = obs.rows_at(ci[lo : lo + 4096], ri[lo : lo + 4096])
                s[lo : lo + len(block)] = block[:, : layout.state_dim]
                extra[lo : lo + len(block)] = block[:, first_extra:]
        else:
            for k, (i, r) in enumerate(zip(ci, ri, strict=True)):
                row = obs[i][r]
                s[k] = row[: layout.state_dim]
                extra[k] = row[first_extra:]
        y = y_conv[ci]
        self.mean_ = s.mean(0)
        self.std_ = np.maximum(s.std(0), 1e-6)
        s -= self.mean_  # standardised in place: (s - mean) / std, one matrix fewer
        s /= self.std_
        x = s
        k = min(self.n_splits, len(obs))
        fold = np.random.default_rng(self.seed).permutation(len(obs)) % max(k, 1)
        two_classes = len(set(y_conv.tolist())) == 2
        if not two_classes or k < 2:  # degenerate: constant base at the (clipped) base rate
            p = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
            self.C_ = float(self.Cs[0])
            self.coef_ = np.zeros(layout.state_dim)
            self.intercept_ = float(np.log(p / (1 - p)))
            self.stack_coef_ = np.array([1.0] + [0.0] * layout.extra_dim)
            self.stack_intercept_ = 0.0
            self.oof_ = [self.logits(o) for o in obs]
            return self
        oof_by_c: dict[float, np.ndarray] = {}
        losses: dict[float, float] = {}
        fold_models: dict[tuple[float, int], LogisticRegression] = {}  # reused below
        for C in self.Cs:
            oof = np.zeros(len(y))
            for f in range(k):
                tr, te = fold[ci] != f, fold[ci] == f
                if len(set(y[tr].tolist())) < 2:
                    oof[te] = 0.0
                    continue
                m = LogisticRegression(C=C, max_iter=self.max_iter).fit(x[tr], y[tr])
                fold_models[float(C), f] = m
                oof[te] = m.decision_function(x[te])
            oof_by_c[C] = oof
            losses[float(C)] = float(log_loss(y, 1 / (1 + np.exp(-oof)), labels=[0, 1]))
        self.C_ = min(losses, key=lambda c: (losses[c], c))
        self.cv_log_loss_ = losses
        full = LogisticRegression(C=self.C_, max_iter=self.max_iter).fit(x, y)
        self.coef_ = full.coef_.ravel()
        self.intercept_ = float(full.intercept_[0])
        # step 2 on the out-of-fold state logits of the prefix rows
        stack = LogisticRegression(C=1e2, max_iter=1000).fit(
            np.column_stack([oof_by_c[self.C_], extra]), y)
        self.stack_coef_ = stack.coef_.ravel()
        self.stack_intercept_ = float(stack.intercept_[0])
        # out-of-fold base logit of every row of every training conversation, from the fold
        # models of the chosen C (the same fits as in the tuning above), in chunks
        self.oof_ = [np.zeros(len(o)) for o in obs]
        for f in range(k):
            tr = fold[ci] != f
            held = np.flatnonzero(fold == f)
            if not len(held):
                continue
            m = fold_models.get((self.C_, f))
            if m is None:
                m = LogisticRegression(C=self.C_, max_iter=self.max_iter).fit(x[tr], y[tr])
            for lo in range(0, len(held), 2048):
                part = held[lo : lo + 2048]
                rows_h = np.concatenate([obs[i] for i in part], axis=0)
                z = self._stack(m.decision_function(self._state(rows_h)), rows_h)
                ends = np.cumsum([len(obs[i]) for i in part])
                for i, seg in zip(part, np.split(z, ends[:-1]), strict=True):
                    self.oof_[i] = seg
        return self

    def _stack(self, state_logit: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return (self.stack_coef_[0] * state_logit + self._extra(rows) @ self.stack_coef_[1:]
                + self.stack_intercept_)

    def state_logits(self, rows: np.ndarray) -> np.ndarray:
        """Step 1 alone: the state logistic regression's logit per row."""
        return self._state(rows) @ self.coef_ + self.intercept_

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """The base logit per row, shape ``(n,)``."""
        if not hasattr(self, "coef_"):
            raise RuntimeError("LinearBase is not fitted; call fit() first")
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] < self.layout_.obs_dim:
            raise ValueError(f"LinearBase expects rows of width {self.layout_.obs_dim}, got "
                             f"shape {rows.shape}")
        rows = rows[:, : self.layout_.obs_dim]
        return self._stack(self.state_logits(rows), rows)

    # -- persistence (arrays + JSON, no pickle) -------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "std": self.std_, "coef": self.coef_,
                "stack_coef": self.stack_coef_}

    def params(self) -> dict[str, Any]:
        return {"C": self.C_, "intercept": self.intercept_,
                "stack_intercept": self.stack_intercept_, "layout": self.layout_.to_dict()}

    @classmethod
    def from_arrays(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> LinearBase:
        obj = cls(Cs=(float(params["C"]),))
        obj.layout_ = ObsLayout.from_dict(params["layout"])
        obj.C_ = float(params["C"])
        obj.intercept_ = float(params["intercept"])
        obj.stack_intercept_ = float(params["stack_intercept"])
        for name in ("mean", "std", "coef", "stack_coef"):
            setattr(obj, f"{name}_", np.asarray(arrays[name], dtype=np.float64))
        return obj
