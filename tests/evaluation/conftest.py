"""Tiny labelled conversations built in code, with a learnable signal and optional ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from salesrl.conversation import Conversation, Outcome, Turn, TurnAnnotations

REP_LINES = ["Hi, how are you today?", "Can I tell you about our plan?", "It costs $20 a month.",
             "Many teams like it!", "Shall we book a demo?", "What matters most to you?"]
YES_LINES = ["That sounds great, I love it", "Yes, sign me up", "Great value, happy to go ahead"]
NO_LINES = ["Too expensive for us", "No, not interested", "We already use a competitor"]
NEUTRAL = ["Okay", "I see", "Tell me more"]


def make_conversations(n: int = 40, seed: int = 0, *, annotated: bool = False,
                       timing: bool = False, min_turns: int = 3, max_turns: int = 12,
                       prefix: str = "c") -> list[Conversation]:
    """``n`` conversations, about 40 % converted; customers of converted ones sound keener."""
    rng = np.random.default_rng(seed)
    convs = []
    for i in range(n):
        label = int(rng.random() < 0.4)
        n_turns = int(rng.integers(min_turns, max_turns + 1))
        turns, clock, belief = [], 0.0, 0.4
        for t in range(n_turns):
            role = "rep" if t % 2 == 0 else "customer"
            if role == "rep":
                text = REP_LINES[int(rng.integers(len(REP_LINES)))]
            elif rng.random() < 0.6:
                pool = YES_LINES if label else NO_LINES
                text = pool[int(rng.integers(len(pool)))]
            else:
                text = NEUTRAL[int(rng.integers(len(NEUTRAL)))]
            belief = float(np.clip(belief + (0.08 if label else -0.08), 0.02, 0.98))
            ann = (TurnAnnotations(acts=["x"], oracle=0.9 if label else 0.1, bayes=belief)
                   if annotated else None)
            start, end = (clock, clock + 2.0 + t % 3) if timing else (None, None)
            clock += 4.0 + (t % 2)
            turns.append(Turn(role=role, text=text, start=start, end=end, annotations=ann))
        convs.append(Conversation(
            id=f"{prefix}{i:03d}", turns=turns,
            outcome=Outcome.CONVERTED if label else Outcome.NOT_CONVERTED))
    return convs


@pytest.fixture(scope="session")
def convs() -> list[Conversation]:
    return make_conversations(40, seed=1)


@pytest.fixture(scope="session")
def annotated_convs() -> list[Conversation]:
    return make_conversations(40, seed=2, annotated=True)


@pytest.fixture(scope="session")
def make_convs():
    """The builder itself, for tests that need their own sizes and seeds."""
    return make_conversations


@pytest.fixture(autouse=True)
def _offline_tiny_state(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """``--model all`` includes the state predictors: keep them on the model-free hashing backend
    with a per-test cache so tests neither load MiniLM nor touch ``~/.cache``."""
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path / "cache"))
