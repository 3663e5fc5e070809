"""Step-wise access to one simulated customer, for a rep policy other than the default one.

A guidance experiment (the same reps following an advisor with some adherence) or a gymnasium
environment (an agent plays the rep) drives :class:`CustomerSimulator` one rep act at a time;
the customer reacts with the same hidden-state model as the batch generator
(:mod:`salesrl.synth.latent`). The default rep is :class:`salesrl.synth.policy.RepPolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesrl.conversation.acts import CustomerAct, RepAct
from salesrl.synth.latent import (
    AUTHORITY,
    BUDGET,
    CUSTOMER_ACTS,
    NEED,
    SKILL,
    START,
    URGENCY,
    C,
    R,
    categorical,
)
from salesrl.synth.simulate import Simulator


@dataclass(frozen=True)
class HiddenState:
    """The customer's hidden attributes, the rep's skill on this call and the level ``D``."""

    need: int
    budget_fit: int
    authority: int
    urgency: int
    skill: int
    level: int


class CustomerSimulator:
    """One call at a time: :meth:`reset`, then :meth:`step` with each rep act until done."""

    def __init__(self, simulator: Simulator | None = None) -> None:
        self.simulator = simulator
        self._rng: np.random.Generator | None = None
        self.static = -1
        self.level = -1
        self.exchange = 0
        self.last_act: CustomerAct | None = None
        self.done = True
        self.rep_id = -1

    @property
    def _sim(self) -> Simulator:
        if self.simulator is None:
            self.simulator = Simulator()
        return self.simulator

    def reset(self, rng: np.random.Generator, *, rep_id: int | None = None,
              skill: int | None = None) -> HiddenState:
        """Draw a new customer (and the rep's skill on this call) from the model's priors.

        ``rep_id`` picks a rep of the team (else one at random); ``skill`` overrides the draw
        from that rep's profile.
        """
        sim = self._sim
        model = sim.model
        self._rng = rng
        self.rep_id = int(rng.integers(sim.n_reps)) if rep_id is None else int(rep_id)
        profile = sim.skill_profiles[self.rep_id]
        if skill is not None:
            profile = np.eye(3)[int(skill)]
        p_static = model.attribute_prior * profile[SKILL]
        self.static = int(categorical(p_static, np.array(rng.random())))
        self.level = int(categorical(model.initial_level[self.static], np.array(rng.random())))
        self.exchange = 0
        self.last_act = None
        self.done = False
        return self.hidden

    @property
    def hidden(self) -> HiddenState:
        s = self.static
        return HiddenState(int(NEED[s]), int(BUDGET[s]), int(AUTHORITY[s]), int(URGENCY[s]),
                           int(SKILL[s]), self.level)

    def step(self, rep_act: RepAct | str) -> tuple[CustomerAct, bool]:
        """The customer's answer to ``rep_act`` and whether the call is now over."""
        if self.done or self._rng is None:
            raise RuntimeError("the call is over (or never started): call reset() first")
        model = self._sim.model
        rng = self._rng
        r = R[RepAct(rep_act)]
        prev = START if self.last_act is None else C[self.last_act]
        self.level = int(categorical(model.transition[prev, r, self.static, self.level],
                                     np.array(rng.random())))
        c = int(categorical(model.emission[r, self.static, self.level], np.array(rng.random())))
        i = min(self.exchange, model.max_exchanges - 1)
        self.done = bool(rng.random() < model.hazard[i, c])
        self.exchange += 1
        self.last_act = CUSTOMER_ACTS[c]
        return self.last_act, self.done

    def close_probability(self) -> float:
        """P(convert) if the call ended now: the outcome distribution of the final state."""
        if self.last_act is None:
            raise RuntimeError("the customer has not answered yet")
        return float(self._sim.model.close[self.static, self.level, C[self.last_act]])

    def outcome(self) -> bool:
        """Draw the outcome of a finished call."""
        if not self.done or self._rng is None:
            raise RuntimeError("the call is not over yet")
        return bool(self._rng.random() < self.close_probability())
