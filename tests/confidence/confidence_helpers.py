"""Helpers shared by the confidence tests (imported as ``confidence_helpers``)."""

from __future__ import annotations

import numpy as np

from salesrl.confidence import TurnInputs
from salesrl.conversation import Conversation, Outcome, Turn
from salesrl.features import StateBuilder

REP = ["Hi, how are you today?", "Can I tell you about our plan?", "It costs twenty a month.",
       "Many teams like it a lot!", "Shall we book a demo?", "What matters most to you?"]
YES = ["That sounds great, I love it", "Yes, sign me up please", "Great value, happy to go"]
NO = ["Too expensive for us", "No, not interested at all", "We already use a competitor"]
NEUTRAL = ["Okay then", "I see what you mean", "Tell me more about it"]


def make_conversations(n: int, seed: int, prefix: str = "c") -> list[Conversation]:
    """``n`` timed conversations; customers of converted ones sound keener (noisy)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = int(rng.random() < 0.5)
        turns, clock = [], 0.0
        for t in range(int(rng.integers(4, 11))):
            if t % 2 == 0:
                role, text = "rep", REP[int(rng.integers(len(REP)))]
            else:
                r = rng.random()
                pool = (YES if label else NO) if r < 0.45 else (NO if label else YES) \
                    if r < 0.6 else NEUTRAL
                role, text = "customer", pool[int(rng.integers(len(pool)))]
            turns.append(Turn(role=role, text=text, start=clock, end=clock + 2.0))
            clock += 3.0 + float(rng.random())
        out.append(Conversation(id=f"{prefix}{i}", turns=turns,
                                outcome=Outcome.CONVERTED if label else Outcome.NOT_CONVERTED))
    return out


def inputs_of(builder: StateBuilder, convs: list[Conversation]) -> TurnInputs:
    return TurnInputs.from_conversations(convs, builder.encode_many(convs), builder.embed)


def oof_proba(inputs: TurnInputs, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in for out-of-fold predictions: noisy towards the label, 3 members."""
    rng = np.random.default_rng(seed)
    centre = 0.5 + (inputs.labels - 0.5) * rng.uniform(-0.3, 0.8, size=len(inputs))
    members = np.clip(centre[:, None] + rng.normal(0, 0.05, (len(inputs), 3)), 0.01, 0.99)
    return members.mean(axis=1), members
