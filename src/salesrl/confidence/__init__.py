"""Confidence: how far to trust each per-turn P(sale), and when to say "I don't know".

:class:`ConfidenceModel` is fitted on the base predictor's out-of-fold predictions and turns
signals of the prefix (similarity to training states, ensemble spread, structural typicality,
novel content; :mod:`.signals`) into a calibrated ``confidence``, a conformal interval and an
``abstain`` decision with a reason. :class:`TurnInputs` is what it reads.
"""

from salesrl.confidence.inputs import STRUCTURE_NAMES, StructureTracker, TurnInputs
from salesrl.confidence.model import (
    Assessment,
    BatchAssessment,
    ConfidenceModel,
    ConfidenceTracker,
)
from salesrl.confidence.reference import TrainingReference
from salesrl.confidence.signals import SIGNAL_GROUPS, SIGNAL_NAMES

__all__ = ["SIGNAL_GROUPS", "SIGNAL_NAMES", "STRUCTURE_NAMES", "Assessment", "BatchAssessment",
           "ConfidenceModel", "ConfidenceTracker", "StructureTracker", "TrainingReference",
           "TurnInputs"]
