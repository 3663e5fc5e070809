"""The one interface through which evaluation sees every model, and the registry of models.

Modelled on ConvoKit's Forecaster: a predictor is fitted on whole labelled conversations and
is then asked about *prefixes*. The harness builds each prefix with
:meth:`salesrl.conversation.Conversation.prefix`, which removes the outcome, the annotations
and every later turn, so a predictor cannot see the future even by mistake.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Self

import numpy as np

from salesrl.conversation import Conversation


class ConversionPredictor(ABC):
    """Estimates P(conversion) from a conversation prefix.

    scikit-learn conventions: no work in ``__init__``; ``fit`` returns ``self``; learned
    attributes end in ``_``.
    """

    #: short registry name, e.g. ``"tfidf"``
    name: str = "predictor"

    @abstractmethod
    def fit(self, conversations: Sequence[Conversation]) -> Self:
        """Learn from whole, labelled conversations."""

    @abstractmethod
    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        """P(converted) for each prefix, a float array of shape ``(len(prefixes),)``."""


PredictorFactory = Callable[[], ConversionPredictor]
_REGISTRY: dict[str, tuple[PredictorFactory, str]] = {}


def register(name: str, description: str) -> Callable[[PredictorFactory], PredictorFactory]:
    """Decorator: make a predictor factory available to ``salesrl evaluate --model NAME``."""

    def deco(factory: PredictorFactory) -> PredictorFactory:
        if name in _REGISTRY:
            raise ValueError(f"predictor {name!r} registered twice")
        _REGISTRY[name] = (factory, description)
        return factory

    return deco


def available() -> dict[str, str]:
    """Registered predictor names and their one-line descriptions."""
    _load_builtin()
    return {name: desc for name, (_, desc) in sorted(_REGISTRY.items())}


def make(name: str) -> ConversionPredictor:
    """A fresh, unfitted predictor by registry name."""
    _load_builtin()
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose from: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name][0]()


def _load_builtin() -> None:
    # Imported lazily so that the registry module stays free of heavy dependencies.
    import salesrl.evaluation.baselines  # noqa: F401
