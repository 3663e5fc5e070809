"""The default rep policy: what a rep of a given skill says next, from observable things only.

A rep sees only the customer's last act and the turn count, never the hidden state. Skilled
reps follow the SPIN order (situation, then problem, implication and need-payoff questions;
Rackham, *SPIN Selling*, 1988), answer an objection with the move that fits it and close when
the customer signals interest; weaker reps pitch early, discount and close prematurely. Since
the choice of act depends on skill, an observer learns about the rep's skill from the rep's
acts; the forward filter of :mod:`salesrl.synth.reference` uses exactly this table.
"""

from __future__ import annotations

import numpy as np

from salesrl.conversation.acts import CustomerAct, RepAct
from salesrl.synth.latent import N_PREV, N_REP, OBJECTIONS, START, C, R, categorical, softmax

# Turn-index preferences of a rep following SPIN, by exchange 0, 1, 2, 3, 4, 5+.
_PHASE = {
    RepAct.SMALL_TALK: (1.2, -1.0, -1.2, -1.2, -1.2, -1.2),
    RepAct.SITUATION_QUESTION: (1.6, 1.0, 0.0, -1.0, -1.2, -1.5),
    RepAct.PROBLEM_QUESTION: (0.0, 1.3, 1.0, 0.0, -0.7, -1.0),
    RepAct.IMPLICATION_QUESTION: (-1.2, -0.6, 0.9, 1.0, 0.3, 0.0),
    RepAct.NEED_PAYOFF_QUESTION: (-1.5, -1.0, 0.2, 1.0, 0.8, 0.3),
    RepAct.VALUE_PROPOSITION: (0.0, 0.3, 0.3, 0.8, 0.8, 0.8),
    RepAct.SOCIAL_PROOF: (-0.8, -0.5, -0.2, 0.3, 0.3, 0.3),
    RepAct.OBJECTION_HANDLING: (-2.0, -2.0, -2.0, -2.0, -2.0, -2.0),
    RepAct.DEMO_OFFER: (-1.2, -1.0, -0.3, 0.4, 0.5, 0.5),
    RepAct.DISCOUNT: (-2.5, -2.0, -1.5, -1.0, -0.8, -0.6),
    RepAct.CLOSING_ATTEMPT: (-2.2, -1.8, -0.8, -0.6, 0.3, 0.6),
    RepAct.NEXT_STEP: (-2.0, -1.5, -0.8, -0.2, 0.2, 0.5),
}
_SPIN_WEIGHT = (0.4, 0.8, 1.2)  # how closely a rep of skill 0, 1, 2 follows the SPIN order
_PRECISION = (0.75, 0.95, 1.15)  # inverse temperature by skill
_HANDLING = (1.0, 2.2, 3.0)  # preference for handling an objection, by skill
# Habits of the weakest rep, on every turn.
_WEAK_HABITS = {RepAct.VALUE_PROPOSITION: 0.8, RepAct.CLOSING_ATTEMPT: 0.8,
                RepAct.DISCOUNT: 0.8, RepAct.SMALL_TALK: 0.3}

#: the wrap-up act after the call has ended, by the last customer act: P(NEXT_STEP), the rest
#: is SMALL_TALK (thanks and goodbye). Independent of the hidden state, so uninformative.
WRAPUP_ACTS: tuple[RepAct, RepAct] = (RepAct.NEXT_STEP, RepAct.SMALL_TALK)
_WRAPUP_NEXT = {CustomerAct.COMMITMENT: 0.85, CustomerAct.REJECTION: 0.35}


def _responses(skill: int) -> dict[CustomerAct, dict[RepAct, float]]:
    """Preferred answers to the customer's last act for a rep of ``skill`` 0..2."""
    weak = skill == 0
    return {
        CustomerAct.OBJECTION_PRICE: {RepAct.DISCOUNT: (2.0, 1.0, 0.4)[skill],
                                      RepAct.VALUE_PROPOSITION: 0.5},
        CustomerAct.OBJECTION_TIMING: {RepAct.NEXT_STEP: 0.8,
                                       RepAct.IMPLICATION_QUESTION: 0.6 * (skill == 2)},
        CustomerAct.OBJECTION_AUTHORITY: {RepAct.NEXT_STEP: 1.2},
        CustomerAct.OBJECTION_NEED: {RepAct.IMPLICATION_QUESTION: 0.4 * skill,
                                     RepAct.NEED_PAYOFF_QUESTION: 0.3 * skill,
                                     RepAct.VALUE_PROPOSITION: 1.0 * weak},
        CustomerAct.OBJECTION_COMPETITOR: {RepAct.SOCIAL_PROOF: 1.2,
                                           RepAct.VALUE_PROPOSITION: 0.6,
                                           RepAct.DISCOUNT: 0.8 * weak},
        CustomerAct.OBJECTION_TRUST: {RepAct.SOCIAL_PROOF: 1.5, RepAct.DEMO_OFFER: 0.8},
        CustomerAct.INTEREST: {RepAct.CLOSING_ATTEMPT: (1.8, 1.0, 0.8)[skill],
                               RepAct.DEMO_OFFER: 0.8, RepAct.NEXT_STEP: 0.6,
                               RepAct.NEED_PAYOFF_QUESTION: 0.5 * (skill == 2)},
        CustomerAct.QUESTION: {RepAct.VALUE_PROPOSITION: 1.2, RepAct.DEMO_OFFER: 0.8,
                               RepAct.SOCIAL_PROOF: 0.4},
        CustomerAct.STALL: ({RepAct.DISCOUNT: 1.2, RepAct.CLOSING_ATTEMPT: 0.8} if weak else
                            {RepAct.IMPLICATION_QUESTION: 1.0, RepAct.NEXT_STEP: 0.8}),
        CustomerAct.COMMITMENT: {RepAct.NEXT_STEP: 2.5, RepAct.CLOSING_ATTEMPT: 1.5},
        CustomerAct.REJECTION: {RepAct.OBJECTION_HANDLING: 1.0,
                                RepAct.DISCOUNT: (1.5, 1.0, 0.6)[skill],
                                RepAct.NEXT_STEP: 0.5},
        CustomerAct.SMALL_TALK: {RepAct.SMALL_TALK: 1.0, RepAct.SITUATION_QUESTION: 0.8},
    }


def default_policy_table(max_exchanges: int = 13) -> np.ndarray:
    """P(rep act | skill, previous customer act, exchange): shape ``(3, 13, K, 12)``."""
    logits = np.zeros((3, N_PREV, max_exchanges, N_REP))
    for skill in range(3):
        responses = _responses(skill)
        for i in range(max_exchanges):
            phase = min(i, 5)
            base = np.array([_PHASE[a][phase] for a in R]) * _SPIN_WEIGHT[skill]
            if skill == 0:
                base = base + np.array([_WEAK_HABITS.get(a, 0.0) for a in R])
            for cp in range(N_PREV):
                row = base.copy()
                if cp != START:
                    for act, v in responses[list(C)[cp]].items():
                        row[R[act]] += v
                    if cp in OBJECTIONS:  # offsets the -2 phase preference, plus skill
                        row[R[RepAct.OBJECTION_HANDLING]] += 2.0 + _HANDLING[skill]
                logits[skill, cp, i] = row * _PRECISION[skill]
    return softmax(logits)


def wrapup_table() -> np.ndarray:
    """P(wrap-up act | last customer act): shape ``(12, 2)`` over :data:`WRAPUP_ACTS`."""
    p_next = np.array([_WRAPUP_NEXT.get(a, 0.7) for a in C])
    return np.stack([p_next, 1.0 - p_next], axis=1)


class RepPolicy:
    """A rep policy given as a table ``P(rep act | skill, previous customer act, exchange)``.

    Any table of shape ``(3, 13, max_exchanges, 12)`` works (index 12 of the second axis is
    "the customer has not spoken yet"), so a guidance module can swap in its own rep; the
    reference probabilities of :mod:`salesrl.synth.reference` are exact for the table used.
    """

    def __init__(self, table: np.ndarray) -> None:
        self.table = np.asarray(table, dtype=float)

    @classmethod
    def default(cls, max_exchanges: int = 13) -> RepPolicy:
        """The default mixed-skill sales team."""
        return cls(default_policy_table(max_exchanges))

    @property
    def max_exchanges(self) -> int:
        return self.table.shape[2]

    def probs(self, skill: int, previous: CustomerAct | None, exchange: int) -> np.ndarray:
        """P(each rep act), in :class:`RepAct` order, for one rep and situation."""
        cp = START if previous is None else C[CustomerAct(previous)]
        return self.table[skill, cp, min(exchange, self.max_exchanges - 1)]

    def act(self, rng: np.random.Generator, skill: int, previous: CustomerAct | None,
            exchange: int) -> RepAct:
        """Draw the rep's next act (step-wise use, e.g. a gymnasium environment)."""
        p = self.probs(skill, previous, exchange)
        return list(R)[int(rng.choice(N_REP, p=p))]

    def sample(self, u: np.ndarray, skill: np.ndarray, previous: np.ndarray,
               exchange: int) -> np.ndarray:
        """Vectorised draw: rep act indices for a batch, from uniforms ``u`` in [0, 1)."""
        p = self.table[skill, previous, exchange]
        return categorical(p, u)

    def likelihood(self, previous: np.ndarray, exchange: int, acts: np.ndarray) -> np.ndarray:
        """P(observed act | skill) for a batch: shape ``(B, 3)``."""
        return self.table[:, previous, exchange, acts].T


def rep_skill_profiles(n_reps: int) -> np.ndarray:
    """Each rep's skill profile, P(skill 0, 1, 2 on a call): shape ``(n_reps, 3)``.

    Fixed for a team size (not drawn from the generation seed), so rep ``j`` is the same person
    in every data set. Mean skills are spread over 0..2 by a golden-ratio sequence.
    """
    mean = 2.0 * ((np.arange(n_reps) * 0.6180339887498949 + 0.31) % 1.0)
    return softmax(-((np.arange(3)[None, :] - mean[:, None]) ** 2) / 0.5)
