"""Cross-fitting of a per-conversation evidence column (stacking, Wolpert 1992).

The lexical column (:mod:`~.lexical`) and the context prior (:mod:`~.context`) are models of
the outcome whose logits the agent reads as inputs. Its training rows must never carry a
logit from a model that saw their own outcome, so each training conversation gets the logit of
the fold model that held it out, and each derived conversation (an adversarial counter-example)
that of the fold model that held out its *source* (``metadata.extra['late_from']`` or
``['source']``). New conversations get the model fitted on all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import numpy as np
from sklearn.model_selection import StratifiedKFold

from salesrl.conversation import Conversation


class LogitModel(Protocol):
    def fit(self, conversations: Sequence[Conversation]) -> LogitModel: ...
    def logits(self, conversations: Sequence[Conversation]) -> list[np.ndarray]: ...


M = TypeVar("M", bound=LogitModel)


def source_id(conv: Conversation) -> str:
    """The conversation a derived one was made from (itself when it is not derived)."""
    extra = conv.metadata.extra or {}
    return str(extra.get("late_from") or extra.get("source") or conv.id)


def cross_fit_logits(make: Callable[[], M], conversations: Sequence[Conversation],
                     n_splits: int = 5, seed: int = 0, extra: Sequence[Conversation] = ()
                     ) -> tuple[M, list[np.ndarray], list[np.ndarray]]:
    """``(model on all, out-of-fold logits per conversation, logits of extra)``; ``make()``
    returns a fresh unfitted model. Stratified k-fold by outcome; with fewer than two
    conversations of either outcome per fold, the model on all gives every logit."""
    convs, extra = list(conversations), list(extra)
    full = make().fit(convs)
    y = np.array([c.label for c in convs], dtype=int)
    k = min(n_splits, int(np.bincount(y, minlength=2).min()))
    if k < 2:
        return full, full.logits(convs), full.logits(extra)
    oof: list[np.ndarray] = [np.zeros(0, np.float32)] * len(convs)
    fold_of: dict[str, int] = {}
    models = []
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for f, (tr, te) in enumerate(skf.split(np.zeros(len(y)), y)):
        m = make().fit([convs[i] for i in tr])
        models.append(m)
        for i, z in zip(te, m.logits([convs[i] for i in te]), strict=True):
            oof[i] = z
            fold_of[convs[i].id] = f
    extra_z: list[np.ndarray] = [np.zeros(0, np.float32)] * len(extra)
    owner = np.array([fold_of.get(source_id(c), 0) for c in extra], dtype=int)
    for f, m in enumerate(models):
        idx = np.flatnonzero(owner == f)
        for i, z in zip(idx, m.logits([extra[i] for i in idx]), strict=True):
            extra_z[i] = z
    return full, oof, extra_z
