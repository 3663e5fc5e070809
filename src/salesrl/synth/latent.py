"""The hidden state of a simulated sales call: a small finite Markov model moved by dialogue acts.

The hidden state has two parts. Static attributes are drawn once per call and never change:
the customer's need (0-2), budget fit (0-2), authority to sign (0/1) and urgency (0/1), and the
rep's skill on this call (0-2). One dynamic level ``D`` in 0..4 stands for the customer's
interest and trust; every rep act moves it up or down stochastically, by how well the act fits
the customer (SPIN question types after Rackham, *SPIN Selling*, 1988: need-payoff questions help
when there is a need, a discount helps when the budget does not fit, handling an objection right
after it is raised helps, a premature closing attempt hurts). The customer's act is then emitted
from (attributes, ``D``, the rep act just made), which makes the model an input-output hidden
Markov model (Bengio & Frasconi, 1995; HMMs after Rabiner, 1989). The call ends by a hazard that
depends only on the customer's act and the turn count, and the outcome is drawn from the final
hidden state, ``P(convert) = close[s, D, last customer act]``, so even an observer who sees the
hidden state cannot be right every time.

Everything is a dense array over the 108 static states x 5 levels, so the reference
probabilities (:mod:`salesrl.synth.reference`) are exact sums, not estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from salesrl.conversation.acts import CustomerAct, RepAct

STATIC_SHAPE: tuple[int, ...] = (3, 3, 2, 2, 3)  # need, budget fit, authority, urgency, skill
N_STATIC = int(np.prod(STATIC_SHAPE))
N_LEVELS = 5
NEED, BUDGET, AUTHORITY, URGENCY, SKILL = np.indices(STATIC_SHAPE).reshape(5, -1)

REP_ACTS: tuple[RepAct, ...] = tuple(RepAct)
CUSTOMER_ACTS: tuple[CustomerAct, ...] = tuple(CustomerAct)
N_REP = len(REP_ACTS)
N_CUST = len(CUSTOMER_ACTS)
#: index of the "previous customer act" before the customer has said anything
START = N_CUST
N_PREV = N_CUST + 1

R = {act: i for i, act in enumerate(REP_ACTS)}
C = {act: i for i, act in enumerate(CUSTOMER_ACTS)}
OBJECTIONS = [C[a] for a in CUSTOMER_ACTS if a.value.startswith("objection_")]

# Priors of the static customer attributes (skill comes from the rep's profile).
NEED_PRIOR = (0.3, 0.4, 0.3)
BUDGET_PRIOR = (0.3, 0.4, 0.3)
AUTHORITY_PRIOR = (0.4, 0.6)
URGENCY_PRIOR = (0.55, 0.45)
#: shifts the log-odds of closing; tuned so that 44 % of calls convert
CLOSE_BIAS = -3.034


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def categorical(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws, one index per row of ``p`` (rows need not be normalised)."""
    cdf = np.cumsum(p, axis=-1)
    idx = (cdf < (u * cdf[..., -1])[..., None]).sum(axis=-1)
    return np.minimum(idx, p.shape[-1] - 1)


@dataclass(frozen=True, eq=False)
class LatentModel:
    """The matrices of the hidden-state model (indices: see the module constants).

    ``transition[prev, rep, s, d, d2]`` = P(D'=d2 | D=d, rep act, static state s, previous
    customer act); ``emission[rep, s, d, c]`` = P(customer act c | ...); ``hazard[i, c]`` =
    P(call ends after exchange i | customer act c); ``signoff[i]`` = P(the customer's own turn
    shows the end | it ends after exchange i), otherwise the rep adds a wrap-up turn;
    ``close[s, d, c]`` = P(convert | final state, last customer act).
    """

    max_exchanges: int
    attribute_prior: np.ndarray  # (N_STATIC,) P(need, budget, authority, urgency)
    initial_level: np.ndarray  # (N_STATIC, N_LEVELS) P(D0 | s)
    transition: np.ndarray  # (N_PREV, N_REP, N_STATIC, N_LEVELS, N_LEVELS)
    emission: np.ndarray  # (N_REP, N_STATIC, N_LEVELS, N_CUST)
    hazard: np.ndarray  # (max_exchanges, N_CUST)
    signoff: np.ndarray  # (max_exchanges,)
    close: np.ndarray  # (N_STATIC, N_LEVELS, N_CUST)

    def initial_belief(self, skill_prior: np.ndarray) -> np.ndarray:
        """P(s, D0) for each row of ``skill_prior`` (shape ``(B, 3)``): shape ``(B, S, 5)``."""
        p_static = self.attribute_prior[None, :] * skill_prior[:, SKILL]
        return p_static[:, :, None] * self.initial_level[None, :, :]

    # Layouts for batched filtering: the hidden state (s, d) flattened to s * 5 + d, and the
    # observed acts on the leading axes so that a batch gathers contiguous rows.

    @cached_property
    def moves(self) -> np.ndarray:
        """P(stay), P(up), P(down) by (prev, rep, ., s * 5 + d): shape ``(13, 12, 3, 540)``."""
        t = self.transition
        d = np.arange(N_LEVELS)
        stay = t[..., d, d]
        up = np.zeros_like(stay)
        down = np.zeros_like(stay)
        up[..., :-1] = t[..., d[:-1], d[:-1] + 1]
        down[..., 1:] = t[..., d[1:], d[1:] - 1]
        out = np.stack([stay, up, down], axis=2)
        return np.ascontiguousarray(out.reshape(*out.shape[:3], -1))

    @cached_property
    def emission_by_act(self) -> np.ndarray:
        """``emission`` as (rep, customer, s * 5 + d): shape ``(12, 12, 540)``."""
        e = self.emission.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(e.reshape(N_REP, N_CUST, -1))

    @cached_property
    def close_by_act(self) -> np.ndarray:
        """``close`` as (customer act, s * 5 + d): shape ``(12, 540)``."""
        return np.ascontiguousarray(self.close.transpose(2, 0, 1).reshape(N_CUST, -1))


def _initial_level() -> np.ndarray:
    d = np.arange(N_LEVELS)[None, :] - 2.0
    base = np.array([0.4, 0.6, 0.2, -0.6, -1.4])[None, :]
    logits = base + 0.25 * (NEED[:, None] - 1) * d + 0.15 * URGENCY[:, None] * d
    return softmax(logits)


def _attribute_prior() -> np.ndarray:
    return (np.asarray(NEED_PRIOR)[NEED] * np.asarray(BUDGET_PRIOR)[BUDGET]
            * np.asarray(AUTHORITY_PRIOR)[AUTHORITY] * np.asarray(URGENCY_PRIOR)[URGENCY])


def _effect() -> np.ndarray:
    """How much rep act ``r`` pushes the level up, by (prev act, r, s, D): log-odds units."""
    cp = np.arange(N_PREV)[:, None, None, None]
    r = np.arange(N_REP)[None, :, None, None]
    n = NEED[None, None, :, None]
    b = BUDGET[None, None, :, None]
    a = AUTHORITY[None, None, :, None]
    u = URGENCY[None, None, :, None]
    k = SKILL[None, None, :, None]
    d = np.arange(N_LEVELS)[None, None, None, :]
    after_obj = np.isin(cp, OBJECTIONS)
    shape = (N_PREV, N_REP, N_STATIC, N_LEVELS)
    e = np.zeros(shape)

    def add(act: RepAct, value: np.ndarray | float) -> None:
        nonlocal e
        e = e + np.where(r == R[act], value, 0.0)

    add(RepAct.SMALL_TALK, -0.25 + 0.55 * ((cp == START) & (d <= 1))
        + 0.2 * (cp == C[CustomerAct.SMALL_TALK]))
    add(RepAct.SITUATION_QUESTION, 0.05 + 0.2 * (cp == START) - 0.3 * after_obj)
    add(RepAct.PROBLEM_QUESTION, 0.35 * (n - 0.5) - 0.2 * after_obj)
    add(RepAct.IMPLICATION_QUESTION, 0.65 * (n - 0.7) + 0.3 * (cp == C[CustomerAct.STALL]))
    add(RepAct.NEED_PAYOFF_QUESTION, 0.85 * (n - 0.6) + 0.25 * (d >= 2)
        + 0.4 * (cp == C[CustomerAct.OBJECTION_NEED]) * (n >= 1))
    add(RepAct.VALUE_PROPOSITION, 0.45 * (n - 0.5) + 0.25 * (d >= 2) - 0.4 * after_obj)
    add(RepAct.SOCIAL_PROOF, 0.1 + 0.9 * np.isin(cp, [C[CustomerAct.OBJECTION_TRUST],
                                                    C[CustomerAct.OBJECTION_COMPETITOR]]))
    handled = np.select(
        [cp == C[CustomerAct.OBJECTION_PRICE], cp == C[CustomerAct.OBJECTION_NEED],
         cp == C[CustomerAct.OBJECTION_AUTHORITY], cp == C[CustomerAct.OBJECTION_TIMING]],
        [0.5 + 0.4 * (b >= 1) - 0.4 * (b == 0), 0.6 + 0.5 * (n >= 1) - 0.6 * (n == 0),
         0.5 + 0.3 * a, 0.6 + 0.3 * u],
        default=0.9,
    )
    add(RepAct.OBJECTION_HANDLING, np.where(after_obj, handled, -0.35))
    add(RepAct.DEMO_OFFER, 0.1 + 0.4 * (d >= 2) - 0.4 * (d == 0)
        + 0.5 * np.isin(cp, [C[CustomerAct.OBJECTION_TRUST], C[CustomerAct.OBJECTION_NEED],
                             C[CustomerAct.QUESTION], C[CustomerAct.INTEREST]]))
    price_obj = cp == C[CustomerAct.OBJECTION_PRICE]
    add(RepAct.DISCOUNT, np.select([b == 0, b == 1], [0.9 + 0.5 * price_obj,
                                                      0.25 + 0.35 * price_obj], -0.35))
    add(RepAct.CLOSING_ATTEMPT, np.asarray([-1.3, -0.8, -0.1, 0.45, 0.6])[d]
        + 0.45 * np.isin(cp, [C[CustomerAct.INTEREST], C[CustomerAct.COMMITMENT]])
        - 0.45 * (a == 0))
    add(RepAct.NEXT_STEP, -0.2 + 0.5 * (d >= 2)
        + 0.3 * np.isin(cp, [C[CustomerAct.INTEREST], C[CustomerAct.QUESTION],
                             C[CustomerAct.OBJECTION_AUTHORITY], C[CustomerAct.STALL]]))
    return e + 0.35 * (k - 1) + 0.15 * u


def _transition() -> np.ndarray:
    e = _effect()
    up = 0.85 * sigmoid(1.6 * e - 1.2)
    down = 0.85 * sigmoid(-1.6 * e - 1.2)
    t = np.zeros((*e.shape, N_LEVELS))
    for d in range(N_LEVELS):
        u_d, dn_d = up[..., d], down[..., d]
        if d == N_LEVELS - 1:
            u_d = np.zeros_like(u_d)
        if d == 0:
            dn_d = np.zeros_like(dn_d)
        t[..., d, d] = 1.0 - u_d - dn_d
        if d < N_LEVELS - 1:
            t[..., d, d + 1] = u_d
        if d > 0:
            t[..., d, d - 1] = dn_d
    return t


def _emission() -> np.ndarray:
    r = np.arange(N_REP)[:, None, None]
    n = NEED[None, :, None]
    b = BUDGET[None, :, None]
    a = AUTHORITY[None, :, None]
    u = URGENCY[None, :, None]
    d = np.arange(N_LEVELS)[None, None, :]

    def is_r(*acts: RepAct) -> np.ndarray:
        return np.isin(r, [R[x] for x in acts])

    pitch = is_r(RepAct.VALUE_PROPOSITION, RepAct.SOCIAL_PROOF, RepAct.DEMO_OFFER)
    ask = is_r(RepAct.CLOSING_ATTEMPT, RepAct.NEXT_STEP)
    spin = is_r(RepAct.PROBLEM_QUESTION, RepAct.IMPLICATION_QUESTION)
    logits = {
        CustomerAct.INTEREST: -1.6 + 0.75 * d + 0.4 * is_r(RepAct.NEED_PAYOFF_QUESTION,
                                                           RepAct.VALUE_PROPOSITION,
                                                           RepAct.DEMO_OFFER) + 0.2 * (n - 1),
        CustomerAct.QUESTION: -0.2 + 0.3 * ((d >= 1) & (d <= 3)) + 0.5 * pitch,
        CustomerAct.OBJECTION_PRICE: -1.0 + 1.2 * (b == 0) + 0.4 * (b == 1) - 0.9 * (b == 2)
        + 0.6 * (ask | is_r(RepAct.VALUE_PROPOSITION)) - 0.8 * is_r(RepAct.DISCOUNT),
        CustomerAct.OBJECTION_TIMING: -1.3 + 1.0 * (u == 0) + 0.4 * ask - 0.1 * d,
        CustomerAct.OBJECTION_AUTHORITY: -1.7 + 1.5 * (a == 0) + 0.8 * ask,
        CustomerAct.OBJECTION_NEED: -1.1 + 1.4 * (n == 0) + 0.3 * (n == 1) - 0.25 * d
        + 0.4 * spin,
        CustomerAct.OBJECTION_COMPETITOR: -1.4 + 0.35 * ((d == 1) | (d == 2))
        + 0.3 * is_r(RepAct.VALUE_PROPOSITION, RepAct.DISCOUNT),
        CustomerAct.OBJECTION_TRUST: -0.9 + 0.7 * (d <= 1) - 0.35 * d
        - 0.5 * is_r(RepAct.SOCIAL_PROOF),
        CustomerAct.STALL: -0.5 + 0.5 * (d <= 2) + 0.5 * (u == 0) - 0.25 * d + 0.3 * ask
        - 0.8 * is_r(RepAct.SMALL_TALK),
        CustomerAct.COMMITMENT: -4.0 + 1.05 * d + 1.6 * ask + 0.7 * is_r(RepAct.DEMO_OFFER)
        + 0.5 * a + 0.4 * (b >= 1) - 1.2 * (spin | is_r(RepAct.SITUATION_QUESTION,
                                                      RepAct.SMALL_TALK)),
        CustomerAct.REJECTION: -2.2 + 1.3 * (d == 0) + 0.5 * (d == 1) - 0.4 * d
        + 0.9 * is_r(RepAct.CLOSING_ATTEMPT) * (d <= 1),
        CustomerAct.SMALL_TALK: -2.2 + 2.3 * is_r(RepAct.SMALL_TALK),
    }
    stacked = np.stack([np.broadcast_to(logits[c], (N_REP, N_STATIC, N_LEVELS)).astype(float)
                        for c in CUSTOMER_ACTS], axis=-1)
    return softmax(stacked)


def _hazard(max_exchanges: int) -> np.ndarray:
    i = np.arange(max_exchanges)[:, None]
    base = np.broadcast_to(np.minimum(0.05 + 0.07 * i, 0.6), (max_exchanges, N_CUST)).copy()
    base[:, C[CustomerAct.COMMITMENT]] = 0.8
    base[:, C[CustomerAct.REJECTION]] = 0.85
    base[:, C[CustomerAct.STALL]] += 0.2
    base[:, C[CustomerAct.SMALL_TALK]] = 0.02
    base[0, :] *= 0.3  # few calls end after one exchange
    base[0, C[CustomerAct.REJECTION]] = 0.5
    base[-1, :] = 1.0
    return base


def _close() -> np.ndarray:
    s = np.arange(N_STATIC)[:, None, None]
    d = np.arange(N_LEVELS)[None, :, None]
    gamma = np.zeros(N_CUST)
    gamma[C[CustomerAct.COMMITMENT]] = 1.1
    gamma[C[CustomerAct.REJECTION]] = -1.6
    gamma[C[CustomerAct.INTEREST]] = 0.4
    gamma[C[CustomerAct.STALL]] = -0.4
    gamma[C[CustomerAct.SMALL_TALK]] = -0.2
    gamma[OBJECTIONS] = -0.3
    logit = (CLOSE_BIAS + 0.95 * d + 0.45 * (NEED[s] - 1) + 0.55 * (BUDGET[s] - 1)
             + 0.8 * AUTHORITY[s] + 0.35 * URGENCY[s] + gamma[None, None, :])
    return sigmoid(logit)


def build_latent_model(max_exchanges: int = 13) -> LatentModel:
    """The default hidden-state model for calls of at most ``max_exchanges`` exchanges."""
    signoff = np.full(max_exchanges, 0.5)
    signoff[0] = 0.0  # a one-exchange call always gets a wrap-up turn: at least 3 turns
    return LatentModel(
        max_exchanges=max_exchanges,
        attribute_prior=_attribute_prior(),
        initial_level=_initial_level(),
        transition=_transition(),
        emission=_emission(),
        hazard=_hazard(max_exchanges),
        signoff=signoff,
        close=_close(),
    )
