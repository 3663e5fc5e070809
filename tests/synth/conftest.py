"""Shared, session-scoped synthetic data for the simulator tests (generated once, kept small)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from salesrl.conversation import Conversation
from salesrl.synth import SimBatch, Simulator, generate


@pytest.fixture(scope="session")
def conversations() -> list[Conversation]:
    """3,000 conversations with text (seed 0)."""
    return generate(3000, seed=0)


@pytest.fixture(scope="session")
def simulator() -> Simulator:
    return Simulator()


@pytest.fixture(scope="session")
def latent(simulator: Simulator) -> dict[str, np.ndarray]:
    """5,120 calls, latent side only (no text): per-turn references and outcomes."""
    rng = np.random.default_rng(12345)
    batches: list[SimBatch] = [simulator.run(rng, 1024) for _ in range(5)]
    oracle, bayes = [], []
    for b in batches:
        for i in range(len(b.converted)):
            o, p = b.turn_probabilities(i)
            oracle.append(np.array(o))
            bayes.append(np.array(p))
    return {
        "oracle": oracle,
        "bayes": bayes,
        "y": np.concatenate([b.converted for b in batches]).astype(int),
        "n_turns": np.concatenate([b.n_turns for b in batches]),
    }


def _prefix_length(n_turns: int, fraction: float) -> int:
    """Same rule as the evaluation protocol: the first max(1, ceil(f * n)) turns."""
    return max(1, math.ceil(round(fraction * n_turns, 9)))


def _at_fraction(values: list[np.ndarray], fraction: float) -> np.ndarray:
    return np.array([v[_prefix_length(len(v), fraction) - 1] for v in values])


@pytest.fixture(scope="session")
def at_fraction() -> Callable[[list[np.ndarray], float], np.ndarray]:
    """``at_fraction(values, f)``: each call's reference after its ``f`` prefix."""
    return _at_fraction
