"""TF-IDF per role + TF-IDF of the last turns, concatenated, + logistic regression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from salesrl.conversation import Conversation
from salesrl.evaluation.baselines._common import (
    check_fitted,
    labels,
    role_text,
    tagged,
    training_prefixes,
)
from salesrl.evaluation.predictor import ConversionPredictor, register

#: Training documents: every full training conversation (weight 1) plus its 50 % and 75 %
#: prefixes (weight PREFIX_WEIGHT). Measured on PersuasionForGood, 5-fold x 3, AUC / Brier at
#: prefix 25 / 50 / 75 / 100 %:
#:   full conversations only (reference): 0.551/0.265 0.639/0.239 0.659/0.230 0.712/0.218
#:   + 50 %, 75 % prefixes, weight 1:     0.553/0.263 0.648/0.234 0.676/0.227 0.703/0.221
#:   + 50 %, 75 % prefixes, weight 0.3:   0.558/0.256 0.652/0.232 0.676/0.226 0.711/0.219 (kept)
#:   + 25, 50, 75 % prefixes, weight 1:   0.539/0.274 0.629/0.241 0.660/0.232 0.679/0.227
#: Down-weighted prefixes help every partial prefix and cost nothing measurable on the full
#: dialogue; ``train_fractions=(1.0,)`` gives back the reference set-up.
TRAIN_FRACTIONS: tuple[float, ...] = (0.5, 0.75, 1.0)
PREFIX_WEIGHT = 0.3


@register("tfidf_roles",
          "TF-IDF per role + TF-IDF of the last 4 turns, concatenated, + logistic regression (C=3)")
class TfidfRolesPredictor(ConversionPredictor):
    """Three TF-IDF blocks (Salton & Buckley, 1988): what the rep said, what the customer said,
    and the speaker-tagged last ``last_turns`` turns (what the conversation is about *now*);
    one logistic regression over their concatenation."""

    name = "tfidf_roles"

    def __init__(self, C: float = 3.0, ngram_range: tuple[int, int] = (1, 2),
                 last_turns: int = 4, train_fractions: Sequence[float] = TRAIN_FRACTIONS,
                 prefix_weight: float = PREFIX_WEIGHT, min_df: int = 1,
                 max_iter: int = 2000) -> None:
        self.C = C
        self.ngram_range = ngram_range
        self.last_turns = last_turns
        self.train_fractions = train_fractions
        self.prefix_weight = prefix_weight
        self.min_df = min_df
        self.max_iter = max_iter

    def _blocks(self, convs: Sequence[Conversation]) -> list[list[str]]:
        return [
            [role_text(c.turns, "rep") for c in convs],
            [role_text(c.turns, "customer") for c in convs],
            [tagged(c.turns[-self.last_turns:]) for c in convs],
        ]

    def _matrix(self, convs: Sequence[Conversation]) -> sp.csr_matrix:
        blocks = self._blocks(convs)
        return sp.hstack([v.transform(b) for v, b in zip(self.vectorizers_, blocks, strict=True)],
                         format="csr")

    def _training_matrix(self, docs: Sequence[Conversation]) -> sp.csr_matrix:
        """Fit the vectorizers on the training documents; their design matrix."""
        blocks = self._blocks(docs)
        self.vectorizers_ = [TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df)
                             for _ in blocks]
        return sp.hstack([v.fit_transform(b)
                          for v, b in zip(self.vectorizers_, blocks, strict=True)], format="csr")

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        labels(conversations)
        docs, y, full = training_prefixes(conversations, self.train_fractions)
        weight = np.where(full, 1.0, self.prefix_weight)
        x = self._training_matrix(docs)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.model_.fit(x, y, sample_weight=weight)
        return self

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        check_fitted(self, "model_")
        if len(prefixes) == 0:
            return np.zeros(0)
        return self.model_.predict_proba(self._matrix(prefixes))[:, 1]


@register("tfidf_roles_context",
          "tfidf_roles + the cross-fitted context prior of the call's metadata as one more column")
class TfidfRolesContextPredictor(TfidfRolesPredictor):
    """:class:`TfidfRolesPredictor` given what the agent's context column reads: the logit of
    :class:`salesrl.agent.context.ContextPrior` (P(sale) from the call's metadata) as one more
    column of the same logistic regression, out-of-fold on the training documents (the fold
    prior that did not see their conversation), the prior fitted on all of them at prediction
    time. The baseline to compare an agent with a context column against; without usable
    metadata (the prior not :attr:`~salesrl.agent.context.ContextPrior.informative_`) it is
    ``tfidf_roles``."""

    name = "tfidf_roles_context"

    def _with_prior(self, x: sp.csr_matrix, z: np.ndarray) -> sp.csr_matrix:
        return sp.hstack([x, sp.csr_matrix(np.asarray(z, dtype=np.float64)[:, None])],
                         format="csr")

    def _training_matrix(self, docs: Sequence[Conversation]) -> sp.csr_matrix:
        x = super()._training_matrix(docs)
        if self.prior_ is None:
            return x
        return self._with_prior(x, np.array([self._train_logit[d.id] for d in docs]))

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        from salesrl.agent.context import cross_fit

        labels(conversations)
        prior, oof, _ = cross_fit(list(conversations))
        self.prior_ = prior if prior.informative_ else None
        # each training document gets its conversation's out-of-fold prior logit
        self._train_logit = {c.id: (float(z[0]) if len(z) else 0.0)
                             for c, z in zip(conversations, oof, strict=True)}
        try:
            return super().fit(conversations)
        finally:
            del self._train_logit

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        check_fitted(self, "model_")
        if self.prior_ is None or len(prefixes) == 0:
            return super().predict_proba(prefixes)
        x = self._with_prior(self._matrix(prefixes),
                             self.prior_.logit_of([c.metadata for c in prefixes]))
        return self.model_.predict_proba(x)[:, 1]
