"""Guidance text a rep reads: what to do for each act, and how to meet each objection type.

Written for salesrl after the usual sales-coaching sources (SPIN questions after Rackham,
*SPIN Selling*, 1988); short on purpose, since it is read during a live call.
"""

from __future__ import annotations

ACT_GUIDANCE: dict[str, str] = {
    "small_talk": "Build rapport for a moment: a friendly, personal line before business.",
    "situation_question": "Ask about their current setup: tools, team, volumes, process.",
    "problem_question": "Ask what is hard or frustrating today; let them name the problem.",
    "implication_question": "Explore the cost of the problem: what it causes if left alone.",
    "need_payoff_question": "Ask what solving it would be worth to them, in their own words.",
    "value_proposition": "Tie one concrete benefit to the problem they just described.",
    "social_proof": "Share a short story of a similar customer and the result they got.",
    "objection_handling": "Acknowledge the concern, ask one clarifying question, then answer it.",
    "demo_offer": "Offer to show it working on their own case: a short demo or trial.",
    "discount": "If budget is the blocker, offer a scoped price or terms, not a blanket cut.",
    "closing_attempt": "Ask for the decision plainly: are they ready to go ahead?",
    "next_step": "Propose a concrete next step with a date: a meeting, a trial, a proposal.",
}

OBJECTION_GUIDANCE: dict[str, str] = {
    "objection_price": "Price concern: move from cost to value and the cost of doing nothing; "
                       "offer options only if the budget really does not fit.",
    "objection_timing": "Timing concern: ask what would make now the right time and what "
                        "waiting costs; agree a dated next step.",
    "objection_authority": "Not the decision maker: ask who else decides and offer to bring "
                           "them into a next meeting.",
    "objection_need": "Need in doubt: go back to questions about their problem before "
                      "pitching again.",
    "objection_competitor": "Competitor mentioned: do not disparage; ask what they value in "
                            "it and share a relevant customer story.",
    "objection_trust": "Trust concern: offer proof: references, a case study, a trial.",
}


def guidance_text(act: str, open_objection: str | None = None) -> str:
    """The advice for ``act``, prefixed by how to meet ``open_objection`` if one is open."""
    text = ACT_GUIDANCE.get(act, f"Next move: {act.replace('_', ' ')}.")
    if open_objection and open_objection in OBJECTION_GUIDANCE:
        return f"{OBJECTION_GUIDANCE[open_objection]} {text}"
    return text
