"""The exact reference probabilities: stochastic matrices, DP values, filter, calibration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from salesrl.conversation import CustomerAct, RepAct
from salesrl.synth import CustomerSimulator, ForwardFilter, RepPolicy, Simulator
from salesrl.synth.latent import N_LEVELS, SKILL, START, C, R


def test_matrices_are_stochastic(simulator: Simulator) -> None:
    m = simulator.model
    np.testing.assert_allclose(m.transition.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(m.emission.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(m.initial_level.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(simulator.policy_table.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(simulator.skill_profiles.sum(-1), 1.0, atol=1e-12)
    assert m.attribute_prior.sum() == pytest.approx(3.0)  # summed over the 3 skill levels
    assert np.all((m.hazard >= 0) & (m.hazard <= 1)) and np.all(m.hazard[-1] == 1.0)
    assert np.all((m.close > 0.0) & (m.close < 1.0))  # the outcome is never certain


def test_acts_move_the_level_as_designed(simulator: Simulator) -> None:
    """Spot checks of the effects that the model is meant to encode."""
    t = simulator.model.transition
    s_low_budget = np.flatnonzero((SKILL == 1) & (np.indices((3, 3, 2, 2, 3)).reshape(5, -1)[1]
                                                   == 0))[0]
    s_high_budget = s_low_budget + 2 * 12  # same attributes, budget fit 2

    def up(prev: int, act: RepAct, s: int, d: int) -> float:
        return float(t[prev, R[act], s, d, d + 1] - t[prev, R[act], s, d, d - 1])

    price = C[CustomerAct.OBJECTION_PRICE]
    assert up(price, RepAct.DISCOUNT, s_low_budget, 2) > up(price, RepAct.DISCOUNT,
                                                            s_high_budget, 2)
    assert up(START, RepAct.CLOSING_ATTEMPT, s_low_budget, 1) < 0 < up(
        C[CustomerAct.INTEREST], RepAct.CLOSING_ATTEMPT, s_low_budget, 3)
    assert up(price, RepAct.OBJECTION_HANDLING, s_high_budget, 2) > up(
        C[CustomerAct.INTEREST], RepAct.OBJECTION_HANDLING, s_high_budget, 2)


def test_dp_value_matches_step_wise_monte_carlo(simulator: Simulator) -> None:
    """The DP start value of one hidden state vs. playing the default rep against it."""
    s, d0, skill = 60, 2, int(SKILL[60])
    exact = simulator.reference.start[s, d0]
    policy, customer = simulator.policy, CustomerSimulator(simulator)
    rng = np.random.default_rng(5)
    n, wins = 3000, 0
    for _ in range(n):
        customer.reset(rng, skill=skill)
        customer.static, customer.level = s, d0
        last, done, i = None, False, 0
        while not done:
            last, done = customer.step(policy.act(rng, skill, last, i))
            i += 1
        wins += customer.outcome()
    assert abs(wins / n - exact) < 4 * np.sqrt(exact * (1 - exact) / n)


def test_dp_values_match_an_independent_forward_computation(simulator: Simulator) -> None:
    """P(convert | s, D0) by pushing the whole distribution forward, exchange by exchange."""
    m, table, k_max = simulator.model, simulator.policy_table, simulator.max_exchanges
    n_s = len(SKILL)
    alive = np.zeros((n_s, N_LEVELS, N_LEVELS, START + 1))  # (s, d0, d, previous act)
    alive[:, np.arange(N_LEVELS), np.arange(N_LEVELS), START] = 1.0
    converted = np.zeros((n_s, N_LEVELS))
    for i in range(k_max):
        pol = table[SKILL, :, i, :]  # (s, prev, r)
        moved = np.einsum("sadp,spr,prsde->saer", alive, pol, m.transition)
        answered = np.einsum("saer,rsec->saec", moved, m.emission)
        h = m.hazard[i]
        converted += np.einsum("saec,c,sec->sa", answered, h, m.close)
        alive = np.zeros_like(alive)
        alive[..., :START] = answered * (1.0 - h)
    assert alive.sum() == 0.0  # every call has ended by the last exchange
    np.testing.assert_allclose(converted, simulator.reference.start, rtol=1e-10)


def test_values_after_each_turn_are_consistent(simulator: Simulator) -> None:
    """Averaging the value after the customer's turn over its act and over whether the turn
    shows the end gives back the value after the rep's turn (the oracle is a martingale)."""
    m, ref = simulator.model, simulator.reference
    for i in range(simulator.max_exchanges):
        shows = m.hazard[i] * m.signoff[i]  # P(the customer's turn shows the end | act)
        marginal = shows * m.close + (1.0 - shows) * ref.after_customer[i]
        np.testing.assert_allclose(np.einsum("rsdc,sdc->sdr", m.emission, marginal),
                                   ref.after_rep[i], rtol=1e-10)


def test_forward_filter_matches_brute_force(simulator: Simulator) -> None:
    """Two exchanges, summing over every path of hidden levels by hand."""
    m, table = simulator.model, simulator.policy_table
    profile = simulator.skill_profiles[3:4]
    obs = [(RepAct.SITUATION_QUESTION, CustomerAct.INTEREST),
           (RepAct.CLOSING_ATTEMPT, CustomerAct.OBJECTION_AUTHORITY)]
    filt = ForwardFilter(m, table)
    belief = filt.start(profile)
    prev = np.array([START])
    for i, (r, c) in enumerate(obs):
        belief = filt.after_rep(belief, prev, i, np.array([R[r]]))
        belief = filt.after_customer(belief, np.array([R[r]]), np.array([C[c]]))
        prev = np.array([C[c]])
    brute = np.zeros((len(SKILL), N_LEVELS))
    prior = m.initial_belief(profile)[0]
    (r0, c0), (r1, c1) = [(R[r], C[c]) for r, c in obs]
    for s, d0, d1, d2 in itertools.product(range(len(SKILL)), *[range(N_LEVELS)] * 3):
        k = SKILL[s]
        brute[s, d2] += (prior[s, d0] * table[k, START, 0, r0] * m.transition[START, r0, s, d0, d1]
                         * m.emission[r0, s, d1, c0] * table[k, c0, 1, r1]
                         * m.transition[c0, r1, s, d1, d2] * m.emission[r1, s, d2, c1])
    np.testing.assert_allclose(belief[0], (brute / brute.sum()).ravel(), rtol=1e-10)


def test_references_are_calibrated_at_the_last_turn(latent: dict) -> None:
    y = latent["y"]
    for name in ("bayes", "oracle"):
        p = np.array([v[-1] for v in latent[name]])
        assert abs(p.mean() - y.mean()) < 0.02, name
        bins = np.clip((p * 10).astype(int), 0, 9)
        for b in range(10):
            mask = bins == b
            if mask.sum() < 100:
                continue
            se = np.sqrt(p[mask].mean() * (1 - p[mask].mean()) / mask.sum())
            assert abs(y[mask].mean() - p[mask].mean()) < max(0.05, 4 * se), (name, b)


def test_bayes_is_calibrated_mid_conversation(latent: dict) -> None:
    """At turn 4 (of calls that reach it) and pooled over every turn of every call."""
    y = latent["y"]
    keep = latent["n_turns"] >= 4
    p4 = np.array([v[3] for v, k in zip(latent["bayes"], keep, strict=True) if k])
    assert abs(p4.mean() - y[keep].mean()) < 0.02
    pooled = np.concatenate(latent["bayes"])
    outcome = np.concatenate([np.full(len(v), t) for v, t in zip(latent["bayes"], y,
                                                                 strict=True)])
    bins = np.clip((pooled * 10).astype(int), 0, 9)
    for b in range(10):
        mask = bins == b
        if mask.sum() >= 300:
            assert abs(outcome[mask].mean() - pooled[mask].mean()) < 0.05, b


def test_mean_references_equal_the_conversion_rate(latent: dict, at_fraction) -> None:
    y = latent["y"]
    first_oracle = np.array([v[0] for v in latent["oracle"]])
    first_bayes = np.array([v[0] for v in latent["bayes"]])
    assert abs(first_bayes.mean() - y.mean()) < 0.02
    assert abs(first_oracle.mean() - first_bayes.mean()) < 0.01
    for f in (0.25, 0.5, 0.75, 1.0):
        o = at_fraction(latent["oracle"], f)
        b = at_fraction(latent["bayes"], f)
        assert abs(o.mean() - b.mean()) < 0.02, f


def test_auc_order_and_learnable_structure(latent: dict, at_fraction) -> None:
    y = latent["y"]
    auc = {(name, f): roc_auc_score(y, at_fraction(latent[name], f))
           for name in ("oracle", "bayes") for f in (0.25, 0.5, 0.75, 1.0)}
    assert auc["oracle", 1.0] >= auc["bayes", 1.0] >= 0.5
    assert 0.75 <= auc["bayes", 1.0] <= 0.95  # informative, not perfect
    assert auc["bayes", 0.25] + 0.1 < auc["bayes", 1.0]  # the end tells more than the start
    assert auc["bayes", 0.25] < auc["bayes", 0.5] < auc["bayes", 0.75] < auc["bayes", 1.0]
    for f in (0.25, 0.5, 0.75, 1.0):
        assert auc["oracle", f] >= auc["bayes", f], f


def test_a_custom_policy_gets_its_own_exact_references() -> None:
    table = RepPolicy.default().table.copy()
    table[:] = 1.0 / table.shape[-1]  # a rep who picks acts uniformly at random
    sim = Simulator(policy=RepPolicy(table))
    batch = sim.run(np.random.default_rng(0), 2048)
    assert abs(batch.converted.mean() - sim.conversion_rate()) < 0.04
    assert sim.conversion_rate() != pytest.approx(Simulator().conversion_rate(), abs=1e-3)
