"""The lexical-evidence logit of :mod:`salesrl.agent.lexical`, one turn at a time.

:meth:`LexicalEvidence.logits <salesrl.agent.lexical.LexicalEvidence.logits>` scores whole
conversations. A live session needs the same number after each new turn without re-reading
the earlier ones, so :class:`LexicalState` keeps, per cumulative block (rep, customer), the
term counts ``c`` and two running sums, ``S = sum (c_j idf_j)^2`` and ``D = sum c_j idf_j w_j``
(``w`` the block's coefficients): a turn that adds ``d`` to ``c_j`` changes them by
``((c_j + d)^2 - c_j^2) idf_j^2`` and ``d idf_j w_j``, and the block's contribution to the
logit of the l2-normalised TF-IDF row is ``D / sqrt(S)``. The window block (last
``last_turns`` turns) is summed afresh from at most ``last_turns`` per-turn count vectors. The
cost of a turn is its number of distinct terms, not the conversation's length. With
``evidence.commitment`` a :class:`~salesrl.features.signals.commitment.CommitmentTracker` adds
its standardised signals' part of the logit.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from salesrl.conversation import Role, Turn
from salesrl.features.signals.commitment import CommitmentTracker

if TYPE_CHECKING:
    from salesrl.agent.lexical import LexicalEvidence

_Counts = dict[int, float]


class _Block:
    """Running counts and the two sums of one cumulative block."""

    def __init__(self, idf: np.ndarray, coef: np.ndarray) -> None:
        self.idf, self.coef = idf, coef
        self.counts: _Counts = {}
        self.sq = 0.0
        self.dot = 0.0

    def add(self, counts: _Counts) -> None:
        for j, d in counts.items():
            c = self.counts.get(j, 0.0)
            self.sq += ((c + d) ** 2 - c * c) * self.idf[j] ** 2
            self.dot += d * self.idf[j] * self.coef[j]
            self.counts[j] = c + d

    def logit(self) -> float:
        return self.dot / math.sqrt(self.sq) if self.sq > 0 else 0.0


class LexicalState:
    """Incremental :class:`LexicalEvidence` logits of one conversation."""

    def __init__(self, evidence: LexicalEvidence) -> None:
        self.evidence = evidence
        v = len(evidence.idf_[0])
        coef = evidence.coef_
        self._rep = _Block(evidence.idf_[0], coef[:v])
        self._cust = _Block(evidence.idf_[1], coef[v : 2 * v])
        self._win_idf, self._win_coef = evidence.idf_[2], coef[2 * v : 3 * v]
        self._window: deque[_Counts] = deque(maxlen=max(int(evidence.last_turns), 1))
        self._commit = CommitmentTracker() if getattr(evidence, "commitment", False) else None
        self._commit_coef = coef[3 * v :]

    def _turn_counts(self, text: str) -> _Counts:
        row = self.evidence.vectorizer_.transform([text]).tocsr()
        return {int(j): float(d) for j, d in zip(row.indices, row.data, strict=True)}

    def update(self, turn: Turn) -> float:
        """Consume the next turn; return the logit of the prefix so far."""
        counts = self._turn_counts(turn.text)
        (self._rep if turn.role is Role.REP else self._cust).add(counts)
        self._window.append(counts)
        win: _Counts = {}
        for c in self._window:
            for j, d in c.items():
                win[j] = win.get(j, 0.0) + d
        idx = np.fromiter(win, dtype=np.int64, count=len(win))
        vals = np.fromiter(win.values(), dtype=np.float64, count=len(win)) * self._win_idf[idx]
        norm = float(np.sqrt((vals ** 2).sum()))
        w = float(vals @ self._win_coef[idx]) / norm if norm > 0 else 0.0
        z = self._rep.logit() + self._cust.logit() + w + float(self.evidence.intercept_)
        if self._commit is not None:
            ev = self.evidence
            x = (self._commit.update(turn).astype(np.float64) - ev.commit_mean_) / ev.commit_std_
            z += float(x @ self._commit_coef)
        return z

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe counts (the sums are recomputed on restore)."""
        def enc(c: _Counts) -> list[list[float]]:
            return [[j, d] for j, d in sorted(c.items())]

        out: dict[str, Any] = {"rep": enc(self._rep.counts), "customer": enc(self._cust.counts),
                               "window": [enc(c) for c in self._window]}
        if self._commit is not None:
            out["commitment"] = self._commit.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], evidence: LexicalEvidence) -> LexicalState:
        state = cls(evidence)
        v = len(evidence.idf_[0])

        def dec(pairs: list[list[float]]) -> _Counts:
            out = {int(j): float(d) for j, d in pairs}
            if any(not 0 <= j < v for j in out):
                raise ValueError("lexical session state does not fit this model's vocabulary")
            return out

        state._rep.add(dec(data["rep"]))
        state._cust.add(dec(data["customer"]))
        state._window.extend(dec(c) for c in data["window"])
        if state._commit is not None:
            if not isinstance(data.get("commitment"), Mapping):
                raise ValueError("lexical session state has no commitment signals but the "
                                 "model needs them")
            state._commit = CommitmentTracker.from_dict(data["commitment"])
        return state
