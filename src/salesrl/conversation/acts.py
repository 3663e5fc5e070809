"""The dialogue-act vocabulary shared by the simulator, the signal detectors and guidance.

Rep acts follow the SPIN selling question types (Rackham, *SPIN Selling*, 1988) plus the usual
moves of a sales call; customer acts name the buying signals and the six objection types.
"""

from __future__ import annotations

from enum import StrEnum


class RepAct(StrEnum):
    """What the rep does in a turn."""

    SMALL_TALK = "small_talk"
    SITUATION_QUESTION = "situation_question"
    PROBLEM_QUESTION = "problem_question"
    IMPLICATION_QUESTION = "implication_question"
    NEED_PAYOFF_QUESTION = "need_payoff_question"
    VALUE_PROPOSITION = "value_proposition"
    SOCIAL_PROOF = "social_proof"
    OBJECTION_HANDLING = "objection_handling"
    DEMO_OFFER = "demo_offer"
    DISCOUNT = "discount"
    CLOSING_ATTEMPT = "closing_attempt"
    NEXT_STEP = "next_step"


class CustomerAct(StrEnum):
    """What the customer does in a turn; objections carry their type."""

    INTEREST = "interest"
    QUESTION = "question"
    OBJECTION_PRICE = "objection_price"
    OBJECTION_TIMING = "objection_timing"
    OBJECTION_AUTHORITY = "objection_authority"
    OBJECTION_NEED = "objection_need"
    OBJECTION_COMPETITOR = "objection_competitor"
    OBJECTION_TRUST = "objection_trust"
    STALL = "stall"
    COMMITMENT = "commitment"
    REJECTION = "rejection"
    SMALL_TALK = "small_talk_customer"


OBJECTION_ACTS: tuple[CustomerAct, ...] = tuple(
    a for a in CustomerAct if a.value.startswith("objection_")
)
SPIN_ACTS: tuple[RepAct, ...] = (
    RepAct.SITUATION_QUESTION,
    RepAct.PROBLEM_QUESTION,
    RepAct.IMPLICATION_QUESTION,
    RepAct.NEED_PAYOFF_QUESTION,
)
