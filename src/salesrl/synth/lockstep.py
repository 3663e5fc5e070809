"""Many simulated customers in lockstep, each answering whatever rep act a policy chooses.

:class:`~salesrl.synth.customer.CustomerSimulator` serves one call at a time (a gymnasium
environment); :meth:`Simulator.run` simulates the default reps only. :class:`LockstepCalls`
sits between them: a batch of calls moves one exchange at a time, and the caller supplies the
rep act of every call still going (its own policy, the default reps' draw from
:meth:`default_acts`, or a mixture, as in a simulated A/B test). The customer side is the same
hidden-state model (:mod:`salesrl.synth.latent`), drawn with numpy over the whole batch.
"""

from __future__ import annotations

import numpy as np

from salesrl.synth.latent import SKILL, START, categorical
from salesrl.synth.simulate import Simulator


class LockstepCalls:
    """A batch of ``size`` calls: :meth:`default_acts` / :meth:`step` until :attr:`finished`.

    Arrays are over all calls; ``active`` lists the rows still going, and :meth:`step` takes
    one rep act index per active row (in ``active`` order). ``converted`` is drawn when a call
    ends, from the close probability of its final hidden state.
    """

    def __init__(self, simulator: Simulator, rng: np.random.Generator, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        model = simulator.model
        self.simulator = simulator
        self.rng = rng
        self.rep_id = rng.integers(0, simulator.n_reps, size)
        p_static = (model.attribute_prior[None, :]
                    * simulator.skill_profiles[self.rep_id][:, SKILL])
        self.static = categorical(p_static, rng.random(size))
        self.level = categorical(model.initial_level[self.static], rng.random(size))
        self.previous = np.full(size, START)  # last customer act; START before the first
        self.exchange = 0
        self.active = np.arange(size)
        self.n_exchanges = np.zeros(size, dtype=int)
        self.converted = np.zeros(size, dtype=bool)
        self.close_probability = np.full(size, np.nan)

    @property
    def finished(self) -> bool:
        return self.active.size == 0

    @property
    def skill(self) -> np.ndarray:
        """The rep's skill (0..2) on each active call: the reps know it, an advisor does not."""
        return SKILL[self.static[self.active]]

    def default_acts(self) -> np.ndarray:
        """What the simulator's own reps would say now, one act index per active call."""
        table = self.simulator.policy_table
        rows = self.active
        return categorical(table[SKILL[self.static[rows]], self.previous[rows], self.exchange],
                           self.rng.random(rows.size))

    def step(self, rep_acts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Play one exchange: returns (rows, customer acts) of the calls that were active.

        Calls whose customer act ends the call drop out of ``active`` afterwards.
        """
        rows = self.active
        rep = np.asarray(rep_acts, dtype=int)
        if rep.shape != rows.shape:
            raise ValueError(f"expected {rows.size} rep acts, got shape {rep.shape}")
        if rows.size and (rep.min() < 0 or rep.max() >= self.simulator.policy_table.shape[-1]):
            raise ValueError("rep act index out of range")
        model = self.simulator.model
        u = self.rng.random((4, rows.size))
        s, prev = self.static[rows], self.previous[rows]
        d = categorical(model.transition[prev, rep, s, self.level[rows]], u[0])
        cust = categorical(model.emission[rep, s, d], u[1])
        ends = u[2] < model.hazard[self.exchange, cust]
        self.level[rows], self.previous[rows] = d, cust
        done = rows[ends]
        p_close = model.close[s[ends], d[ends], cust[ends]]
        self.close_probability[done] = p_close
        self.converted[done] = u[3][ends] < p_close
        self.n_exchanges[done] = self.exchange + 1
        self.active = rows[~ends]
        self.exchange += 1
        return rows, cust
