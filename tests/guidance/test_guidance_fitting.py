"""fit_guide / act_label_coverage: the guide trained from act-labelled conversations."""

from __future__ import annotations

import pytest

from salesrl.conversation import DataError, Outcome
from salesrl.guidance.fitting import act_label_coverage, fit_guide
from salesrl.synth import generate


def test_coverage_counts_labelled_turns() -> None:
    convs = generate(6, 0)
    assert act_label_coverage(convs) == 1.0
    bare = [c.model_copy(update={"turns": [t.model_copy(update={"annotations": None})
                                           for t in c.turns]}) for c in convs[:3]]
    n_bare = sum(len(c.turns) for c in bare)
    total = n_bare + sum(len(c.turns) for c in convs[3:])
    assert act_label_coverage(bare + convs[3:]) == pytest.approx(1 - n_bare / total)
    assert act_label_coverage([]) == 0.0


def test_fit_guide_advises_and_refuses_unlabelled_turns() -> None:
    convs = generate(60, 1)
    guide = fit_guide(convs, advisor_steps=100)
    call = next(c for c in convs if len(c.turns) >= 4)
    advice = guide.advise(call.prefix(4))
    assert advice.act and advice.text and advice.expected_lift >= 0
    broken = convs[0].model_copy(update={"turns": [
        convs[0].turns[0].model_copy(update={"annotations": None}), *convs[0].turns[1:]]})
    with pytest.raises(DataError, match="has no act label"):
        fit_guide([broken, *convs[1:]], advisor_steps=100)
    with pytest.raises(DataError, match="no labelled conversation"):
        fit_guide([c.model_copy(update={"outcome": Outcome.UNKNOWN}) for c in convs[:3]])
