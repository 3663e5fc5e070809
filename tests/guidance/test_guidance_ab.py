"""Simulated A/B mechanics: lockstep calls, arms, the uplift interval, exact ceilings."""

from __future__ import annotations

import numpy as np
import pytest

from salesrl.guidance.ab import (
    ArmResult,
    exact_control_rate,
    hidden_state_ceiling,
    relative_uplift,
    run_arm,
)
from salesrl.synth import Simulator


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator()


def test_control_arm_matches_the_exact_rate(sim: Simulator) -> None:
    n = 6000
    arm = run_arm(sim, np.random.default_rng(0), n, batch_size=2000)
    exact = exact_control_rate(sim)
    assert abs(arm.rate - exact) < 4 * np.sqrt(exact * (1 - exact) / n)


def test_a_bad_policy_lowers_conversion(sim: Simulator) -> None:
    always_close = lambda obs, keys: np.full(len(obs), 10)  # noqa: E731 - closing attempt
    control = run_arm(sim, np.random.default_rng(1), 3000)
    bad = run_arm(sim, np.random.default_rng(2), 3000, always_close, adherence=1.0)
    assert bad.rate < control.rate - 0.03


def test_relative_uplift_interval() -> None:
    uplift, (lo, hi) = relative_uplift(ArmResult(400, 1000), ArmResult(500, 1000))
    assert uplift == pytest.approx(0.25)
    assert lo < uplift < hi and lo > 0
    _, (lo0, hi0) = relative_uplift(ArmResult(400, 1000), ArmResult(400, 1000))
    assert lo0 < 0 < hi0


def test_ceiling_is_exact_at_zero_adherence_and_rises(sim: Simulator) -> None:
    assert hidden_state_ceiling(sim, 0.0) == pytest.approx(exact_control_rate(sim))
    assert hidden_state_ceiling(sim, 0.7) < hidden_state_ceiling(sim, 1.0)
    assert hidden_state_ceiling(sim, 0.7) > exact_control_rate(sim) + 0.05


def test_best_table_policy_sits_between_control_and_ceiling() -> None:
    from salesrl.guidance.ab import best_table_policy

    small = Simulator(max_exchanges=2)
    acts, rate = best_table_policy(small, adherence=0.7, sweeps=1)
    assert acts.shape == (13, 2)
    assert exact_control_rate(small) < rate <= hidden_state_ceiling(small, 0.7) + 1e-9


def test_one_step_table_policy_picks_the_act_that_converts(sim: Simulator) -> None:
    from salesrl.guidance.ab import one_step_table_policy, table_policy_rate
    from salesrl.guidance.logs import ActLog

    rng = np.random.default_rng(0)
    n = 600
    rep = rng.integers(0, 12, (n, 2))
    cust = np.zeros((n, 2), dtype=int)  # interest, interest
    log = ActLog.from_sim(rep, cust, np.full(n, 2), rep[:, 1] == 5)
    table = one_step_table_policy(log, min_support=5)
    assert table.shape == (13, 13)
    assert table[0, 1] == 5  # after "interest" at exchange 1, act 5 always converted
    assert table_policy_rate(sim, table, 0.0) == pytest.approx(exact_control_rate(sim))
