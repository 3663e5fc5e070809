"""Logged conversations in act space: the offline data the advisor learns from.

An :class:`ActLog` holds, per conversation, the rep and customer act indices of each exchange
and the outcome. It comes from labelled conversations (the simulator's act annotations, or
the tagger's predictions on real text) or straight from a batch of simulated calls; the
wrap-up turn after the end is not an exchange and is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from salesrl.conversation import Conversation, DataError, Role
from salesrl.guidance.observation import MAX_EXCHANGES, ActHistory, act_indices


@dataclass
class ActLog:
    """``rep[k]`` / ``customer[k]``: act indices of conversation ``k``; ``converted[k]``."""

    rep: list[np.ndarray]
    customer: list[np.ndarray]
    converted: np.ndarray

    def __len__(self) -> int:
        return len(self.rep)

    @classmethod
    def from_sim(cls, rep_acts: np.ndarray, customer_acts: np.ndarray, n_exchanges: np.ndarray,
                 converted: np.ndarray) -> ActLog:
        """From arrays as in :class:`~salesrl.synth.SimBatch` (rows padded with -1)."""
        n = np.asarray(n_exchanges)
        return cls([np.asarray(rep_acts[k, :n[k]]) for k in range(n.size)],
                   [np.asarray(customer_acts[k, :n[k]]) for k in range(n.size)],
                   np.asarray(converted, dtype=bool))

    @classmethod
    def from_conversations(cls, conversations: Iterable[Conversation]) -> ActLog:
        """From conversations whose turns carry one act label each (``annotations.acts``).

        Exchanges are (rep turn, customer turn) pairs in order; a trailing rep turn (wrap-up)
        is dropped. Conversations with an unknown outcome are skipped.
        """
        reps, custs, outcomes = [], [], []
        for conv in conversations:
            if conv.converted is None:
                continue
            rep_names, cust_names = [], []
            for t, turn in enumerate(conv.turns):
                if turn.annotations is None or not turn.annotations.acts:
                    raise DataError(f"conversation {conv.id!r} turn {t} has no act label",
                                    field="annotations.acts")
                act = turn.annotations.acts[0]
                (rep_names if turn.role is Role.REP else cust_names).append(act)
            n = min(len(rep_names), len(cust_names), MAX_EXCHANGES)
            try:
                r, c = act_indices(rep_names[:n], cust_names[:n])
            except ValueError as exc:
                raise DataError(f"conversation {conv.id!r}: {exc}",
                                field="annotations.acts") from None
            reps.append(np.array(r, dtype=int))
            custs.append(np.array(c, dtype=int))
            outcomes.append(bool(conv.converted))
        return cls(reps, custs, np.array(outcomes, dtype=bool))

    def transitions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(observations, actions, rewards, terminals, situation keys), one row per exchange.

        Reward is the conversion (0/1) on the last exchange of a conversation, else 0.
        """
        lengths = np.array([len(r) for r in self.rep], dtype=int)
        keep = lengths > 0
        idx = np.flatnonzero(keep)
        n = idx.size
        hist = ActHistory(n)
        obs_rows, act_rows, key_rows, conv_rows = [], [], [], []
        for i in range(int(lengths.max(initial=0))):
            rows = np.flatnonzero(lengths[idx] > i)
            obs_rows.append(hist.observe(rows))
            key_rows.append(hist.key(rows))
            rep = np.array([self.rep[idx[k]][i] for k in rows], dtype=int)
            cust = np.array([self.customer[idx[k]][i] for k in rows], dtype=int)
            act_rows.append(rep)
            conv_rows.append(rows * 1000 + i)
            hist.update(rows, rep, cust)
        if not obs_rows:
            raise ValueError("the log has no exchanges")
        order = np.argsort(np.concatenate(conv_rows), kind="stable")  # conversation-major
        obs = np.concatenate(obs_rows)[order]
        acts = np.concatenate(act_rows)[order]
        keys = np.concatenate(key_rows)[order]
        ends = np.cumsum(lengths[idx]) - 1
        terminals = np.zeros(acts.size, dtype=np.float32)
        terminals[ends] = 1.0
        rewards = np.zeros(acts.size, dtype=np.float32)
        rewards[ends] = self.converted[idx].astype(np.float32)
        return obs, acts, rewards, terminals, keys
