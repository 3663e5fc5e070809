"""Stated-intent signals: cues per turn, amounts, recency, causality and the state round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from salesrl.conversation import Role, Turn
from salesrl.features.signals.commitment import (
    COMMITMENT_NAMES,
    CommitmentTracker,
    commitment_rows,
    turn_cues,
)

IDX = {n: i for i, n in enumerate(COMMITMENT_NAMES)}


def _turns(*texts: str) -> list[Turn]:
    """Alternating rep / customer turns, the rep first."""
    return [Turn(role=Role.REP if i % 2 == 0 else Role.CUSTOMER, text=t)
            for i, t in enumerate(texts)]


@pytest.mark.parametrize(("text", "amount"), [
    ("Yes, I will donate $1 today", 1.0),
    ("ok i'll give 50 cents", 0.5),
    ("We'll take 50 seats for the team", 50.0),
    ("put me down for ten dollars", 10.0),
])
def test_customer_commitments_and_amounts(text: str, amount: float) -> None:
    cues = turn_cues(text, False)
    assert cues.commit and not cues.refuse
    assert cues.amount == pytest.approx(amount)


@pytest.mark.parametrize("text", [
    "No thanks, not today.", "I'm going to stick with $0 for today.",
    "I won't be buying anything", "I will donate nothing."])
def test_refusals_and_zero_amounts(text: str) -> None:
    cues = turn_cues(text, False)
    assert cues.refuse and not cues.commit


def test_rep_turns_carry_only_acknowledgements() -> None:
    assert turn_cues("Thank you for your order!", True).ack
    rep = turn_cues("I will donate $5 myself", True)
    assert not (rep.commit or rep.refuse) and rep.amount is None


def test_rows_follow_the_conversation() -> None:
    rows = commitment_rows(_turns(
        "would you like to sign up?", "maybe, I am not sure", "it is only $5 a month",
        "ok I will buy 2 licenses", "thank you for your order", "great"))
    assert rows.shape == (6, len(COMMITMENT_NAMES))
    assert rows[1, IDX["commit_hedges_n"]] > 0 and rows[1, IDX["commit_polarity"]] == 0
    # the rep's "$5" is not the customer's stated amount
    assert rows[2, IDX["commit_amount_stated"]] == 0
    assert rows[3, IDX["commit_polarity"]] == 1 and rows[3, IDX["commit_turn"]] == 1
    assert rows[3, IDX["commit_amount_log"]] == pytest.approx(np.log1p(2.0))
    assert rows[3, IDX["commit_recency"]] == pytest.approx(1.0)
    assert rows[4, IDX["commit_rep_ack_n"]] > 0 and rows[4, IDX["commit_turn"]] == 0
    assert rows[5, IDX["commit_recency"]] == pytest.approx(np.exp(-2 / 4), rel=1e-6)


def test_later_refusal_flips_the_polarity_and_zero_is_an_amount() -> None:
    rows = commitment_rows(_turns("donate?", "sure I can give $2", "really?",
                                  "actually no, I'll stick with $0"))
    assert rows[1, IDX["commit_polarity"]] == 1
    assert rows[3, IDX["commit_polarity"]] == -1
    assert rows[3, IDX["commit_amount_zero"]] == 1 and rows[3, IDX["commit_amount_log"]] == 0


def test_rows_are_causal() -> None:
    turns = _turns("hello", "I will donate $3", "thanks", "no wait, not today", "ok")
    full = commitment_rows(turns)
    for k in range(1, len(turns) + 1):
        assert np.array_equal(commitment_rows(turns[:k]), full[:k])
    assert commitment_rows([]).shape == (0, len(COMMITMENT_NAMES))


def test_state_round_trip_continues_exactly() -> None:
    turns = _turns("hello", "maybe later", "it is $5", "ok I will pay $5", "thank you for "
                   "signing", "sure")
    tracker = CommitmentTracker()
    for t in turns[:3]:
        tracker.update(t)
    back = CommitmentTracker.from_dict(json.loads(json.dumps(tracker.to_dict())))
    rest = np.stack([back.update(t) for t in turns[3:]])
    assert np.array_equal(rest, commitment_rows(turns)[3:])
    with pytest.raises(ValueError, match="commitment state fields"):
        CommitmentTracker.from_dict({"n_turns": 1})
