"""The step-wise API: one simulated customer against any rep policy."""

from __future__ import annotations

import numpy as np
import pytest

from salesrl.conversation import CustomerAct, RepAct
from salesrl.synth import CustomerSimulator, RepPolicy, Simulator


def test_a_call_ends_within_the_horizon_and_has_an_outcome() -> None:
    sim = Simulator()
    customer = CustomerSimulator(sim)
    policy = sim.policy
    rng = np.random.default_rng(0)
    outcomes = []
    for _ in range(200):
        hidden = customer.reset(rng)
        assert 0 <= hidden.level <= 4 and 0 <= hidden.skill <= 2
        last, done, steps = None, False, 0
        while not done:
            act = policy.act(rng, hidden.skill, last, steps)
            assert isinstance(act, RepAct)
            last, done = customer.step(act)
            assert isinstance(last, CustomerAct)
            steps += 1
        assert 1 <= steps <= sim.max_exchanges
        assert 0.0 < customer.close_probability() < 1.0
        outcomes.append(customer.outcome())
    assert 0.25 < np.mean(outcomes) < 0.65
    with pytest.raises(RuntimeError):
        customer.step(RepAct.SMALL_TALK)


def test_a_better_rep_converts_more() -> None:
    """Need-payoff questions then closing beat premature discounts and closes."""
    customer = CustomerSimulator()
    rng = np.random.default_rng(1)

    def play(script: list[RepAct]) -> float:
        wins = 0
        for _ in range(1500):
            customer.reset(rng, skill=1)
            done, i = False, 0
            while not done:
                _, done = customer.step(script[min(i, len(script) - 1)])
                i += 1
            wins += customer.outcome()
        return wins / 1500

    good = play([RepAct.SITUATION_QUESTION, RepAct.PROBLEM_QUESTION,
                 RepAct.NEED_PAYOFF_QUESTION, RepAct.DEMO_OFFER, RepAct.NEXT_STEP])
    bad = play([RepAct.CLOSING_ATTEMPT])
    assert good > bad + 0.05


def test_policy_probabilities() -> None:
    policy = RepPolicy.default()
    for skill in range(3):
        p = policy.probs(skill, CustomerAct.OBJECTION_PRICE, 3)
        assert p.sum() == pytest.approx(1.0)
    # skilled reps handle objections more often, weak reps discount more
    handle = [policy.probs(k, CustomerAct.OBJECTION_TRUST, 3)[6] for k in range(3)]
    discount = [policy.probs(k, CustomerAct.OBJECTION_PRICE, 3)[9] for k in range(3)]
    assert handle[0] < handle[1] < handle[2]
    assert discount[0] > discount[2]
