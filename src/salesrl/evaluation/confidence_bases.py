"""Base predictors of the confidence evaluation that read whole conversations.

:mod:`.confidence_eval` fits a base predictor inside every (outer and inner) training fold.
:class:`~.confidence_eval.BaggedLogistic` reads state rows only; the two bases here are the
agent the product ships, so they also need each row's conversation (its lexical evidence,
:mod:`salesrl.agent.lexical`, is computed from the text):

* :class:`RegisteredAgentBase`: the agent exactly as ``salesrl evaluate --model agent``
  trains it (:func:`salesrl.evaluation.baselines.agent.make_agent`: ``fast`` preset narrowed
  to ``small`` below 5,000 conversations, lexical column, ``linear_base``), reading the
  caller's precomputed state rows;
* :class:`LinearAgentBase`: that agent's cross-fitted linear base alone
  (:class:`salesrl.agent.linear.LinearBase`: state logistic regression stacked with the
  cross-fitted lexical logit), without the network correction; one member.

Both take ``conversations`` (aligned with the evaluation's global conversation indices) and
implement ``fit(x, y, conv)`` and ``predict_with_members(x, conv)``, where ``conv`` holds
those indices per row (rows of a conversation consecutive, complete and in turn order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np

from salesrl.conversation import Conversation

__all__ = ["LinearAgentBase", "RegisteredAgentBase"]

ManyEncoder = Callable[[Sequence[Conversation]], Sequence[np.ndarray]]


def _groups(x: np.ndarray, conv: np.ndarray, conversations: Sequence[Conversation]
            ) -> tuple[list[Conversation], list[np.ndarray]]:
    """The conversations of ``conv`` (in order) and their rows of ``x``."""
    conv = np.asarray(conv)
    starts = np.r_[0, np.flatnonzero(np.diff(conv)) + 1] if len(conv) else np.zeros(0, int)
    convs = [conversations[int(conv[s])] for s in starts]
    rows = np.split(np.asarray(x, dtype=np.float32), starts[1:])
    for c, r in zip(convs, rows, strict=True):
        if len(r) != len(c.turns):
            raise ValueError(f"conversation {c.id!r}: {len(r)} rows given for "
                             f"{len(c.turns)} turns (whole conversations are needed)")
    return convs, rows


class RegisteredAgentBase:
    """The registered ``agent`` model (same recipe and preset) over precomputed rows.

    ``encode_many`` encodes conversations the caller has no rows for (the adversarial
    counter-examples the recipe derives); ``make_predictor`` defaults to the registry's
    factory, so a change of the registered recipe changes this base too.
    """

    def __init__(self, conversations: Sequence[Conversation], encode_many: ManyEncoder,
                 make_predictor: Callable[[], Any] | None = None) -> None:
        self.conversations = conversations
        self.encode_many = encode_many
        self.make_predictor = make_predictor

    def fit(self, x: np.ndarray, y: np.ndarray, conv: np.ndarray) -> Self:
        if self.make_predictor is None:
            from salesrl.evaluation.predictor import make

            predictor = make("agent")
        else:
            predictor = self.make_predictor()
        convs, rows = _groups(x, conv, self.conversations)
        known = {id(c): r for c, r in zip(convs, rows, strict=True)}
        if predictor.layout.obs_dim != rows[0].shape[1]:
            raise ValueError(f"the registered agent reads rows of width "
                             f"{predictor.layout.obs_dim}, the benchmark's are "
                             f"{rows[0].shape[1]}: use the same embedding backend")

        def encode_many(cs: Sequence[Conversation]) -> list[np.ndarray]:
            todo = [c for c in cs if id(c) not in known]
            done = dict(zip(map(id, todo), self.encode_many(todo), strict=True)) if todo else {}
            return [known[id(c)] if id(c) in known else done[id(c)] for c in cs]

        predictor.encode_many = encode_many
        predictor.encode = lambda c: encode_many([c])[0]
        self.predictor_ = predictor.fit(convs)
        return self

    def predict_with_members(self, x: np.ndarray, conv: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray]:
        """(P(sale), members ``(n, K)``) of every row, each from its prefix only."""
        agent = self.predictor_.agent_
        convs, rows = _groups(x, conv, self.conversations)
        lexical = getattr(agent, "lexical_", None)
        if lexical is not None:
            rows = [np.concatenate([r, z[:, None].astype(np.float32)], axis=1)
                    for r, z in zip(rows, lexical.logits(convs), strict=True)]
        from salesrl.agent.context import append_context

        rows = append_context(agent, convs, rows)  # the metadata prior, when the agent has it
        return agent.predict_with_members(np.concatenate(rows))


class LinearAgentBase:
    """The agent's linear base alone: :class:`~salesrl.agent.linear.LinearBase` over the rows
    plus the cross-fitted lexical logit, as the registered agent's ``small`` preset fits it
    (``linear_Cs`` and seed of ``TrainConfig.preset("small")``, 5 lexical folds)."""

    def __init__(self, conversations: Sequence[Conversation], layout: Any,
                 lexical_folds: int = 5, seed: int = 0) -> None:
        self.conversations = conversations
        self.layout = layout
        self.lexical_folds = lexical_folds
        self.seed = seed

    def fit(self, x: np.ndarray, y: np.ndarray, conv: np.ndarray) -> Self:
        from salesrl.agent import TrainConfig
        from salesrl.agent.lexical import cross_fit
        from salesrl.agent.linear import LinearBase

        cfg = TrainConfig.preset("small", seed=self.seed)
        convs, rows = _groups(x, conv, self.conversations)
        self.lexical_, oof, _ = cross_fit(convs, self.lexical_folds, cfg.seed,
                                          commitment=cfg.lexical_commitment)
        obs = [np.concatenate([r, z[:, None].astype(np.float32)], axis=1)
               for r, z in zip(rows, oof, strict=True)]
        labels = np.array([c.label for c in convs])
        layout = self.layout.with_extra(self.layout.extra_dim + 1)
        self.linear_ = LinearBase(cfg.linear_Cs, seed=cfg.seed).fit(obs, labels, layout)
        return self

    def predict_with_members(self, x: np.ndarray, conv: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray]:
        """(P(sale), the same as one member ``(n, 1)``) of every row."""
        convs, rows = _groups(x, conv, self.conversations)
        z = [self.linear_.logits(np.concatenate([r, lz[:, None]], axis=1))
             for r, lz in zip(rows, self.lexical_.logits(convs), strict=True)]
        p = 1.0 / (1.0 + np.exp(-np.concatenate(z)))
        return p, p[:, None]
