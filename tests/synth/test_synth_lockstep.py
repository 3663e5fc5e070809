"""LockstepCalls: a batch of simulated customers driven by any rep policy."""

from __future__ import annotations

import numpy as np
import pytest

from salesrl.synth import Simulator
from salesrl.synth.lockstep import LockstepCalls


def test_default_reps_reproduce_the_exact_rate() -> None:
    sim = Simulator()
    n = 8000
    calls = LockstepCalls(sim, np.random.default_rng(0), n)
    while not calls.finished:
        calls.step(calls.default_acts())
    exact = sim.conversion_rate()
    assert abs(calls.converted.mean() - exact) < 4 * np.sqrt(exact * (1 - exact) / n)
    assert calls.n_exchanges.min() >= 1 and calls.n_exchanges.max() <= sim.max_exchanges
    assert np.all((calls.close_probability >= 0) & (calls.close_probability <= 1))


def test_step_checks_its_input() -> None:
    calls = LockstepCalls(Simulator(), np.random.default_rng(0), 4)
    with pytest.raises(ValueError, match="expected 4"):
        calls.step(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="out of range"):
        calls.step(np.full(4, 12))
    with pytest.raises(ValueError, match="at least 1"):
        LockstepCalls(Simulator(), np.random.default_rng(0), 0)
