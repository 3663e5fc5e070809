"""The simulated A/B test of guidance, in act space, and its exact ceilings.

Control: the simulator's own reps. Treatment: the same reps, who say the advised act with
probability ``adherence`` and otherwise what they would have said. Both arms run on
:class:`~salesrl.synth.lockstep.LockstepCalls`; no text is needed because in production the
tagger (:mod:`~salesrl.guidance.tagger`) maps text to these acts. The relative uplift's 95 %
interval is the log risk-ratio interval (Katz et al., *Biometrics* 1978).

The ceilings are exact, by backward induction over the latent model (Bellman, 1957): the best
any policy could do if it saw the hidden state and the rep followed it with the given
adherence. No advisor can beat it; one that sees only acts generally cannot reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from salesrl.guidance.logs import ActLog
from salesrl.guidance.observation import MAX_EXCHANGES, N_KEYS, N_REP, ActHistory
from salesrl.synth.latent import N_CUST, N_STATIC, SKILL, START
from salesrl.synth.lockstep import LockstepCalls
from salesrl.synth.simulate import Simulator

Chooser = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ArmResult:
    """Conversions out of calls in one arm."""

    converted: int
    n: int

    @property
    def rate(self) -> float:
        return self.converted / self.n if self.n else float("nan")


def run_arm(simulator: Simulator, rng: np.random.Generator, n: int,
            chooser: Chooser | None = None, adherence: float = 0.0, batch_size: int = 8192,
            on_progress: Callable[[int], None] | None = None) -> ArmResult:
    """Simulate ``n`` calls; with a ``chooser(obs, keys) -> acts`` the reps follow it w.p.
    ``adherence`` on every exchange."""
    if not 0.0 <= adherence <= 1.0:
        raise ValueError(f"adherence must be in [0, 1], got {adherence}")
    converted = done = 0
    while done < n:
        size = min(batch_size, n - done)
        calls = LockstepCalls(simulator, rng, size)
        hist = ActHistory(size)
        while not calls.finished:
            rows = calls.active
            rep = calls.default_acts()
            if chooser is not None and adherence > 0.0:
                advised = chooser(hist.observe(rows), hist.key(rows))
                follow = rng.random(rows.size) < adherence
                rep = np.where(follow, advised, rep)
            rows, cust = calls.step(rep)
            hist.update(rows, rep, cust)
        converted += int(calls.converted.sum())
        done += size
        if on_progress is not None:
            on_progress(done)
    return ArmResult(converted, n)


def relative_uplift(control: ArmResult, treatment: ArmResult,
                    z: float = 1.959963984540054) -> tuple[float, tuple[float, float]]:
    """Relative uplift ``t / c - 1`` and its 95 % log risk-ratio interval (Katz et al. 1978)."""
    pc, pt = control.rate, treatment.rate
    if not (pc > 0 and pt > 0):
        return float("nan"), (float("nan"), float("nan"))
    se = np.sqrt((1 - pt) / (treatment.n * pt) + (1 - pc) / (control.n * pc))
    ratio = pt / pc
    return ratio - 1.0, (float(ratio * np.exp(-z * se) - 1.0),
                         float(ratio * np.exp(z * se) - 1.0))


def exact_control_rate(simulator: Simulator) -> float:
    """The control arm's exact expected conversion rate."""
    return simulator.conversion_rate()


def hidden_state_ceiling(simulator: Simulator, adherence: float = 1.0) -> float:
    """Exact conversion rate when reps follow the best hidden-state-aware act w.p. ``adherence``.

    Backward induction: at each exchange the advised act maximises the value of the true
    (static state, level, last customer act); otherwise the rep's own act is drawn.
    """
    m = simulator.model
    pol = simulator.policy_table[SKILL]  # (S, prev, K, R)
    cont = np.zeros((N_STATIC, m.initial_level.shape[1], N_CUST))
    value = None
    for i in reversed(range(m.max_exchanges)):
        h = m.hazard[i]
        after_rep = np.einsum("rsdc,sdc->sdr", m.emission, h * m.close + (1 - h) * cont)
        w = np.einsum("prsde,ser->psdr", m.transition, after_rep)  # before the rep act
        own = np.einsum("spr,psdr->psd", pol[:, :, i, :], w)
        value = adherence * w.max(axis=-1) + (1 - adherence) * own
        cont = value[:N_CUST].transpose(1, 2, 0)
    belief = m.initial_belief(simulator.skill_profiles)  # (reps, S, 5)
    return float((belief * value[START][None]).sum(axis=(1, 2)).mean())


def best_table_policy(simulator: Simulator, adherence: float = 0.7, sweeps: int = 2,
                      ) -> tuple[np.ndarray, float]:
    """Coordinate ascent over deterministic policies of (last customer act, exchange).

    Each candidate is evaluated exactly (the rep's table mixed with the advice, then
    :meth:`Simulator.conversion_rate`). Each (last act, exchange) cell is met at most once per
    call, so the rate is linear in a cell's act and each coordinate step is exact; the result
    is a local optimum, a lower bound on the best advisor that sees only those two things.
    Returns the act table ``(13, max_exchanges)`` and its exact rate.
    """
    from salesrl.synth.latent import N_PREV

    own = simulator.policy_table
    k_max = own.shape[2]

    def rate(acts: np.ndarray) -> float:
        return table_policy_rate(simulator, acts, adherence)

    acts = own[2].argmax(axis=-1)  # start from the skilled rep's favourite acts
    best = rate(acts)
    for _ in range(sweeps):
        for i in range(k_max):
            for cp in ([START] if i == 0 else range(N_PREV - 1)):
                values = []
                for r in range(N_REP):
                    trial = acts.copy()
                    trial[cp, i] = r
                    values.append(rate(trial))
                acts[cp, i] = int(np.argmax(values))
                best = max(values)
    return acts, best


def table_policy_rate(simulator: Simulator, acts: np.ndarray, adherence: float) -> float:
    """Exact conversion rate when reps say ``acts[last customer act, exchange]`` w.p.
    ``adherence`` and their own act otherwise (``acts``: shape ``(13, max_exchanges)``)."""
    from salesrl.synth.policy import RepPolicy

    own = simulator.policy_table
    table = (1 - adherence) * own + adherence * np.eye(N_REP)[np.asarray(acts)][None]
    candidate = Simulator(simulator.max_exchanges, simulator.n_reps, RepPolicy(table))
    candidate.__dict__["model"] = simulator.model  # share the latent model: same matrices
    return candidate.conversion_rate()


def one_step_table_policy(log: ActLog, min_support: int = 30) -> np.ndarray:
    """The logged reps' own value per (exchange, last customer act, act), made greedy.

    Q(situation, act) is the mean outcome of the logged calls that took ``act`` there (Monte
    Carlo, as the advisor's 13-step targets); the table holds its argmax among acts taken at
    least ``min_support`` times: one-step policy improvement (Brandfonbrener et al., NeurIPS
    2021) on the same coarse situation as :func:`best_table_policy`, learned from logs only.
    Returns the act table, shape ``(13, MAX_EXCHANGES)`` (for :func:`table_policy_rate`).
    """
    _, acts, rewards, terminals, keys = log.transitions()
    call = np.cumsum(np.r_[0.0, terminals[:-1]]).astype(int)
    outcome = rewards[terminals == 1][call]
    total = np.zeros((N_KEYS, N_REP))
    count = np.zeros((N_KEYS, N_REP))
    np.add.at(total, (keys, acts), outcome)
    np.add.at(count, (keys, acts), 1.0)
    q = np.where(count >= min_support, total / np.maximum(count, 1.0), -1.0)
    return q.argmax(axis=1).reshape(MAX_EXCHANGES, N_CUST + 1).T
