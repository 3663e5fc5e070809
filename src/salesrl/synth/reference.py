"""Exact reference probabilities: the oracle (true hidden state) and the Bayes observer (acts).

Both are conditional on everything observable up to and including a turn: the acts, the rep
(whose skill profile is public), and whether the call has visibly ended (a sign-off in the
customer's turn or a rep wrap-up turn). Text, timing, industry and persona are drawn
independently of the hidden state given the acts, so ``bayes`` is the Bayes-optimal forecast
from the whole visible transcript.

* Values: backward dynamic programming over the finite horizon (Bellman, 1957) gives
  ``Z[i, s, d, r]`` = P(convert | hidden state (s, d) after rep act r of exchange i) and the
  value after each customer act, under the rep policy table and the hazard.
* Oracle: the value at the true hidden state.
* Bayes: the forward algorithm (HMM filtering, Rabiner 1989) keeps P(s, d | acts so far);
  rep acts are observations too (they carry information about the rep's skill). The Bayes
  reference is that belief dotted with the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from salesrl.synth.latent import N_CUST, N_LEVELS, SKILL, START, LatentModel


@dataclass(frozen=True, eq=False)
class ReferenceTables:
    """Values of the hidden states under one rep policy.

    ``after_rep[i, s, d, r]``: after rep act r of exchange i, the level now d.
    ``after_customer[i, s, d, c]``: after customer act c of exchange i when the turn shows no
    sign-off (the call may or may not go on). ``close[s, d, c]``: once the call has visibly
    ended. ``start[s, d]``: before anything is said.
    """

    after_rep: np.ndarray
    after_customer: np.ndarray
    close: np.ndarray
    start: np.ndarray

    @cached_property
    def after_rep_by_act(self) -> np.ndarray:
        """``after_rep`` as (exchange, rep act, s * 5 + d)."""
        k, n_s, n_l, n_r = self.after_rep.shape
        return np.ascontiguousarray(self.after_rep.transpose(0, 3, 1, 2).reshape(k, n_r, -1))

    @cached_property
    def after_customer_by_act(self) -> np.ndarray:
        """``after_customer`` as (exchange, customer act, s * 5 + d)."""
        k, n_s, n_l, n_c = self.after_customer.shape
        return np.ascontiguousarray(
            self.after_customer.transpose(0, 3, 1, 2).reshape(k, n_c, -1))


def build_reference(model: LatentModel, policy_table: np.ndarray) -> ReferenceTables:
    """Backward induction of P(convert | hidden state, turn) under ``policy_table``."""
    k_max = model.max_exchanges
    if policy_table.shape[2] != k_max:
        raise ValueError(f"policy has {policy_table.shape[2]} exchanges, model {k_max}")
    pol = policy_table[SKILL]  # (S, 13, K, R): the rep's choice given the static state
    t_cust = model.transition[:N_CUST]
    n_s, n_l = model.initial_level.shape
    after_rep = np.empty((k_max, n_s, n_l, policy_table.shape[-1]))
    after_customer = np.empty((k_max, n_s, n_l, N_CUST))
    cont = np.zeros((n_s, n_l, N_CUST))  # value of going on after the last exchange: unused
    for i in reversed(range(k_max)):
        h = model.hazard[i]
        q = model.signoff[i]
        marginal = h * model.close + (1.0 - h) * cont
        after_rep[i] = np.einsum("rsdc,sdc->sdr", model.emission, marginal)
        ended_quietly = h * (1.0 - q)
        after_customer[i] = ((ended_quietly * model.close + (1.0 - h) * cont)
                             / (ended_quietly + 1.0 - h))
        if i > 0:
            w = np.einsum("crsde,ser->csdr", t_cust, after_rep[i])
            cont = np.einsum("scr,csdr->sdc", pol[:, :N_CUST, i, :], w)
    w0 = np.einsum("rsde,ser->sdr", model.transition[START], after_rep[0])
    start = np.einsum("sr,sdr->sd", pol[:, START, 0, :], w0)
    return ReferenceTables(after_rep, after_customer, model.close, start)


def _normalise(belief: np.ndarray) -> np.ndarray:
    total = belief.sum(axis=1, keepdims=True)
    return belief / np.where(total > 0, total, 1.0)


class ForwardFilter:
    """Batched forward filter over the hidden state of ``B`` calls at once.

    A belief is P(s, d | everything seen so far) flattened to shape ``(B, 540)`` (index
    ``s * 5 + d``). Each exchange: :meth:`after_rep`, then :meth:`after_customer`. Pure
    functions of the belief, so a caller can drop finished calls between steps; ``B = 1``
    serves step-wise use.
    """

    def __init__(self, model: LatentModel, policy_table: np.ndarray) -> None:
        self.model = model
        self.policy_table = policy_table

    def start(self, skill_prior: np.ndarray) -> np.ndarray:
        """The prior belief for each row of ``skill_prior`` (rep profiles, shape (B, 3))."""
        prior = self.model.initial_belief(np.atleast_2d(skill_prior))
        return _normalise(prior.reshape(prior.shape[0], -1))

    def after_rep(self, belief: np.ndarray, previous: np.ndarray, exchange: int,
                  rep: np.ndarray) -> np.ndarray:
        """Condition on the rep acts (they reveal skill), then move the level."""
        lik = self.policy_table[:, previous, exchange, rep].T[:, _SKILL_FLAT]  # (B, 540)
        b = _normalise(belief * lik)
        stay, up, down = np.moveaxis(self.model.moves[previous, rep], 1, 0)
        out = b * stay
        out[:, 1:] += (b * up)[:, :-1]  # up[d=4] and down[d=0] are zero, so no wrap-around
        out[:, :-1] += (b * down)[:, 1:]
        return out

    def after_customer(self, belief: np.ndarray, rep: np.ndarray,
                       customer: np.ndarray) -> np.ndarray:
        """Condition on the customer acts given the rep acts just made."""
        return _normalise(belief * self.model.emission_by_act[rep, customer])


_SKILL_FLAT = np.repeat(SKILL, N_LEVELS)
