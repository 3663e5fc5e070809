"""Helpers shared by the baselines: labels, speaker-tagged text, training prefixes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from salesrl.conversation import Conversation, Turn
from salesrl.evaluation.protocol import prefix_length


def labels(conversations: Sequence[Conversation]) -> np.ndarray:
    """0/1 outcomes; raises for an unlabelled conversation."""
    y = np.array([c.label for c in conversations], dtype=int)
    if len(y) == 0:
        raise ValueError("no training conversations")
    return y


def tagged(turns: Sequence[Turn]) -> str:
    """One document of speaker-tagged turns: ``"rep: ...\\ncustomer: ..."``."""
    return "\n".join(f"{t.role.value}: {t.text}" for t in turns)


def role_text(turns: Sequence[Turn], role: str) -> str:
    """Everything one side said, in order."""
    return "\n".join(t.text for t in turns if t.role.value == role)


def training_prefixes(conversations: Sequence[Conversation], fractions: Sequence[float]
                      ) -> tuple[list[Conversation], np.ndarray, np.ndarray]:
    """Each training conversation cut at each fraction (a length is kept once), with its label
    and whether the prefix is the whole conversation.

    Prefixes are built with :meth:`Conversation.prefix`, exactly like the ones asked about at
    prediction time.
    """
    out: list[Conversation] = []
    y: list[int] = []
    full: list[bool] = []
    for conv in conversations:
        label = conv.label
        for k in sorted({prefix_length(len(conv), f) for f in fractions}):
            out.append(conv.prefix(k))
            y.append(label)
            full.append(k == len(conv))
    return out, np.array(y, dtype=int), np.array(full, dtype=bool)


def check_fitted(predictor: object, attribute: str) -> None:
    """Raise a clear error when ``predict_proba`` is called before ``fit``."""
    if not hasattr(predictor, attribute):
        raise RuntimeError(f"{type(predictor).__name__} is not fitted; call fit() first")
