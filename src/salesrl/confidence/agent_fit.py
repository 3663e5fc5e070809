"""Fit the agent's :class:`~salesrl.confidence.ConfidenceModel` on out-of-fold predictions.

The confidence model learns when the agent is wrong, so it must see the agent's errors on
conversations the agent did not train on. ``salesrl train`` therefore trains ``n_folds``
extra agents with the same recipe, each on all conversations but one fold (stratified by
outcome, split by conversation), predicts the held-out fold turn by turn, and fits the
confidence model on those out-of-fold probabilities and member spreads (the protocol of
:mod:`salesrl.evaluation.confidence_eval`, where its figures are measured). The fold agents
are then discarded; the shipped agent is the one trained on everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from salesrl.agent.context import append_context
from salesrl.agent.predictor import AgentPredictor
from salesrl.confidence import ConfidenceModel, TurnInputs
from salesrl.conversation import Conversation, DataError
from salesrl.features.tracker import StateBuilder

__all__ = ["fit_agent_confidence"]

ENCODE_CHUNK = 1024  # held-out conversations whose full rows are built at once


def fit_agent_confidence(conversations: Sequence[Conversation], builder: StateBuilder,
                         make_predictor: Callable[[], AgentPredictor], *, n_folds: int = 3,
                         seed: int = 0, progress: Callable[[int, int], None] | None = None,
                         **confidence: Any) -> ConfidenceModel:
    """A :class:`ConfidenceModel` for the agents ``make_predictor()`` trains.

    ``conversations`` are labelled; ``confidence`` are :class:`ConfidenceModel` keywords
    (``state_dim`` defaults to the builder's). ``progress(done, n_folds)`` after each fold.
    """
    convs = [c for c in conversations if c.converted is not None and c.turns]
    y = np.array([c.label for c in convs])
    if n_folds < 2:
        raise ValueError(f"confidence needs at least 2 folds, got {n_folds}")
    if min(np.bincount(y, minlength=2)) < n_folds:
        raise DataError(f"fitting confidence with {n_folds} folds needs at least {n_folds} "
                        "conversations of each outcome", field="outcome")
    kw = {"state_dim": builder.state_dim, "seed": seed, **confidence}
    keep = kw["state_dim"]  # the model reads only these leading columns of the state rows
    lengths = np.array([len(c.turns) for c in convs])
    fold_of = np.zeros(len(convs), dtype=int)
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for f, (_, test) in enumerate(skf.split(np.zeros(len(convs)), y)):
        fold_of[test] = f
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    proba = np.zeros(int(lengths.sum()))
    members: np.ndarray | None = None
    states: list[np.ndarray] = [np.zeros(0)] * len(convs)
    for f in range(n_folds):
        held = np.flatnonzero(fold_of == f)
        predictor = make_predictor().fit([convs[i] for i in np.flatnonzero(fold_of != f)])
        agent = predictor.agent_
        lexical = getattr(agent, "lexical_", None)
        # the held-out rows are built a chunk at a time and only their state columns kept:
        # full rows (with the turn window) of every call were 7.6 GB at 50,000 calls
        for lo in range(0, len(held), ENCODE_CHUNK):
            part = held[lo : lo + ENCODE_CHUNK]
            part_convs = [convs[i] for i in part]
            z = lexical.logits(part_convs) if lexical is not None else None
            for j, (i, rows) in enumerate(zip(part, builder.encode_many(part_convs),
                                              strict=True)):
                r = rows if z is None else np.concatenate(
                    [rows, z[j][:, None].astype(np.float32)], axis=1)
                r = append_context(agent, [convs[i]], [r])[0]  # metadata prior, if any
                p, m = agent.predict_with_members(r)
                if members is None:
                    members = np.zeros((len(proba), m.shape[1]))
                sl = slice(starts[i], starts[i] + lengths[i])
                proba[sl], members[sl] = p, m
                states[i] = rows if keep is None else rows[:, :keep].copy()
        if progress is not None:
            progress(f + 1, n_folds)
    inputs = TurnInputs.from_conversations(convs, states, builder.embed)
    try:
        return ConfidenceModel(**kw).fit(inputs, proba, members, np.repeat(fold_of, lengths))
    except ValueError as exc:  # e.g. every out-of-fold prediction right: nothing to learn
        raise DataError(f"cannot fit the confidence module on this data: {exc}; train with "
                        "more conversations or without confidence (--confidence-folds 0)",
                        field="confidence") from None
