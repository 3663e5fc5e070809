"""Fit the rep-facing :class:`~salesrl.guidance.guide.Guide` from labelled conversations.

What ``salesrl train`` runs after the agent when the training turns carry dialogue-act labels
(``annotations.acts``, as the synthetic generator writes them): the act tagger learns text ->
act, the offline CQL advisor learns from the same logged conversations (act space, outcome as
the reward), and the example index keeps what winning reps said. Data without act labels
cannot teach the tagger, so no guide is trained (:func:`act_label_coverage` says why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from salesrl.conversation import Conversation, DataError
from salesrl.guidance.advisor import Advisor, AdvisorConfig
from salesrl.guidance.examples import ExampleIndex
from salesrl.guidance.guide import Guide
from salesrl.guidance.logs import ActLog
from salesrl.guidance.tagger import ActTagger

__all__ = ["TAGGER_FEATURES", "act_label_coverage", "fit_guide"]

#: hashed features per analyser of the shipped tagger: 2 x 16,384 columns keep each role's
#: weights near 1 MB (the default 2^17 makes ~10 MB per role for no measurable gain here)
TAGGER_FEATURES = 2**14


def act_label_coverage(conversations: Sequence[Conversation]) -> float:
    """Share of the turns that carry at least one act label."""
    n = labelled = 0
    for conv in conversations:
        for turn in conv.turns:
            n += 1
            labelled += bool(turn.annotations is not None and turn.annotations.acts)
    return labelled / n if n else 0.0


def fit_guide(conversations: Sequence[Conversation], *, advisor_steps: int = 8000,
              n_features: int = TAGGER_FEATURES, seed: int = 0,
              on_step: Callable[[int], None] | None = None) -> Guide:
    """Tagger + offline advisor + example index from act-labelled, outcome-labelled calls.

    Raises :class:`DataError` when a turn has no act label or an act outside the advisor's
    vocabulary (the message names the conversation and turn).
    """
    convs = [c for c in conversations if c.converted is not None and c.turns]
    if not convs:
        raise DataError("no labelled conversation to learn guidance from", field="outcome")
    tagger = ActTagger(n_features=n_features).fit(convs)
    log = ActLog.from_conversations(convs)
    advisor = Advisor(AdvisorConfig(n_steps=advisor_steps, seed=seed)).fit(log, on_step)
    return Guide(tagger, advisor, ExampleIndex().fit(convs))
