"""Batched simulation of the hidden-state model, with both reference probabilities per turn.

A batch of calls runs in lockstep, one exchange (rep act, then customer act) at a time, as
numpy operations over the calls still going; the forward filter
(:class:`salesrl.synth.reference.ForwardFilter`) runs alongside. The result is arrays only;
text comes later (:mod:`salesrl.synth.realise`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from salesrl.synth.latent import N_LEVELS, SKILL, LatentModel, R, build_latent_model, categorical
from salesrl.synth.policy import WRAPUP_ACTS, RepPolicy, rep_skill_profiles, wrapup_table
from salesrl.synth.reference import ForwardFilter, ReferenceTables, build_reference


class Simulator:
    """The latent model, the rep policy and their exact reference tables, built once.

    ``Simulator()`` is cheap; the tables are built on first use (tens of milliseconds). Pass a
    :class:`RepPolicy` to simulate (and get exact references for) a different sales team.
    """

    def __init__(self, max_exchanges: int = 13, n_reps: int = 40,
                 policy: RepPolicy | None = None) -> None:
        self.max_exchanges = max_exchanges
        self.n_reps = n_reps
        self._policy = policy

    @cached_property
    def model(self) -> LatentModel:
        return build_latent_model(self.max_exchanges)

    @cached_property
    def policy(self) -> RepPolicy:
        """The reps' policy (the default mixed-skill team unless one was given)."""
        if self._policy is not None:
            if self._policy.max_exchanges != self.max_exchanges:
                raise ValueError("the policy table and the simulator differ in max_exchanges")
            return self._policy
        return RepPolicy.default(self.max_exchanges)

    @property
    def policy_table(self) -> np.ndarray:
        return self.policy.table

    @cached_property
    def reference(self) -> ReferenceTables:
        return build_reference(self.model, self.policy_table)

    @cached_property
    def skill_profiles(self) -> np.ndarray:
        return rep_skill_profiles(self.n_reps)

    @cached_property
    def wrapup(self) -> np.ndarray:
        return wrapup_table()

    def conversion_rate(self) -> float:
        """The exact expected conversion rate over reps, customers and calls."""
        belief = self.model.initial_belief(self.skill_profiles)  # (reps, S, 5)
        return float((belief * self.reference.start[None]).sum(axis=(1, 2)).mean())

    def run(self, rng: np.random.Generator, size: int) -> SimBatch:
        """Simulate ``size`` calls; uses ``rng`` in a fixed order, so a seed fixes the batch."""
        return _run(self, rng, size)


@dataclass(eq=False)
class SimBatch:
    """Acts, hidden levels and reference probabilities of a batch of calls.

    Per exchange ``i`` (columns; -1 / NaN past the end): ``rep_acts``, ``customer_acts``,
    ``levels`` (the hidden level after the rep act) and the oracle / Bayes probability after
    the rep turn and after the customer turn. A call ends after exchange ``n_exchanges - 1``;
    if ``signoff`` the customer's last turn shows the end, otherwise the rep adds a wrap-up
    turn (``wrapup_acts``, index into the rep acts) whose references are ``final_oracle`` /
    ``final_bayes``.
    """

    rep_id: np.ndarray
    static: np.ndarray
    rep_acts: np.ndarray
    customer_acts: np.ndarray
    levels: np.ndarray
    oracle_rep: np.ndarray
    bayes_rep: np.ndarray
    oracle_customer: np.ndarray
    bayes_customer: np.ndarray
    n_exchanges: np.ndarray
    signoff: np.ndarray
    wrapup_acts: np.ndarray
    final_oracle: np.ndarray
    final_bayes: np.ndarray
    converted: np.ndarray

    @property
    def n_turns(self) -> np.ndarray:
        return 2 * self.n_exchanges + (~self.signoff)

    def turn_probabilities(self, i: int) -> tuple[list[float], list[float]]:
        """Oracle and Bayes probability after every turn of call ``i``, in turn order."""
        n = int(self.n_exchanges[i])
        oracle = np.empty(2 * n)
        bayes = np.empty(2 * n)
        oracle[0::2], oracle[1::2] = self.oracle_rep[i, :n], self.oracle_customer[i, :n]
        bayes[0::2], bayes[1::2] = self.bayes_rep[i, :n], self.bayes_customer[i, :n]
        o, b = oracle.tolist(), bayes.tolist()
        if not self.signoff[i]:
            o.append(float(self.final_oracle[i]))
            b.append(float(self.final_bayes[i]))
        return o, b


_WRAPUP_INDEX = np.array([R[a] for a in WRAPUP_ACTS])


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def _run(sim: Simulator, rng: np.random.Generator, size: int) -> SimBatch:
    model, ref, table = sim.model, sim.reference, sim.policy_table
    k_max = model.max_exchanges
    rep_id = rng.integers(0, sim.n_reps, size)
    skill_prior = sim.skill_profiles[rep_id]
    p_static = model.attribute_prior[None, :] * skill_prior[:, SKILL]
    static = categorical(p_static, rng.random(size))
    level = categorical(model.initial_level[static], rng.random(size))
    filt = ForwardFilter(model, table)
    belief = filt.start(skill_prior)
    after_rep, after_cust = ref.after_rep_by_act, ref.after_customer_by_act
    close = model.close_by_act

    shape = (size, k_max)
    rep_acts = np.full(shape, -1)
    customer_acts = np.full(shape, -1)
    levels = np.full(shape, -1)
    oracle_rep, bayes_rep = np.full(shape, np.nan), np.full(shape, np.nan)
    oracle_cust, bayes_cust = np.full(shape, np.nan), np.full(shape, np.nan)
    n_exchanges = np.zeros(size, dtype=int)
    signoff = np.zeros(size, dtype=bool)
    wrapup_acts = np.full(size, -1)
    final_oracle, final_bayes = np.full(size, np.nan), np.full(size, np.nan)
    converted = np.zeros(size, dtype=bool)

    rows = np.arange(size)  # the calls still going; ``belief`` holds their rows only
    s, d = static, level
    prev = np.full(size, table.shape[1] - 1)  # START: the customer has not spoken yet
    for i in range(k_max):
        u = rng.random((7, size))[:, rows]
        rep = categorical(table[SKILL[s], prev, i], u[0])
        belief = filt.after_rep(belief, prev, i, rep)
        d = categorical(model.transition[prev, rep, s, d], u[1])
        state = s * N_LEVELS + d
        oracle_rep[rows, i] = after_rep[i, rep, state]
        bayes_rep[rows, i] = _rowdot(belief, after_rep[i, rep])
        cust = categorical(model.emission[rep, s, d], u[2])
        belief = filt.after_customer(belief, rep, cust)
        ends = u[3] < model.hazard[i, cust]
        shows = ends & (u[4] < model.signoff[i])
        p_close = close[cust, state]
        oracle_cust[rows, i] = np.where(shows, p_close, after_cust[i, cust, state])
        values = np.where(shows[:, None], close[cust], after_cust[i, cust])
        bayes_cust[rows, i] = _rowdot(belief, values)
        rep_acts[rows, i], customer_acts[rows, i], levels[rows, i] = rep, cust, d

        done = rows[ends]
        n_exchanges[done] = i + 1
        signoff[done] = shows[ends]
        final_oracle[done] = p_close[ends]
        final_bayes[done] = _rowdot(belief[ends], close[cust[ends]])
        converted[done] = u[5][ends] < p_close[ends]
        wrap = _WRAPUP_INDEX[categorical(sim.wrapup[cust[ends]], u[6][ends])]
        wrapup_acts[done] = np.where(shows[ends], -1, wrap)
        go_on = ~ends
        rows, belief = rows[go_on], belief[go_on]
        s, d, prev = s[go_on], d[go_on], cust[go_on]
        if rows.size == 0:
            break
    return SimBatch(rep_id, static, rep_acts, customer_acts, levels, oracle_rep, bayes_rep,
                    oracle_cust, bayes_cust, n_exchanges, signoff, wrapup_acts, final_oracle,
                    final_bayes, converted)
