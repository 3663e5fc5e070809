"""What the advisor sees: a fixed-length vector built from the dialogue acts seen so far.

Only acts (from the simulator's labels, or from :class:`~salesrl.guidance.tagger.ActTagger`
on real text) go in, so the same advisor runs on synthetic logs and on live transcripts. The
vector, before the rep's next act at exchange ``i``: one-hot exchange index, one-hot last
customer act (or "none yet"), one-hot last rep act (or "none yet"), capped counts of every rep
and customer act so far, and whether an objection is open (raised and not yet answered by
objection handling). :class:`ActHistory` updates a whole batch in O(1) per exchange.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from salesrl.conversation.acts import CustomerAct, RepAct

REP_ACTS: tuple[RepAct, ...] = tuple(RepAct)
CUSTOMER_ACTS: tuple[CustomerAct, ...] = tuple(CustomerAct)
N_REP = len(REP_ACTS)
N_CUST = len(CUSTOMER_ACTS)
MAX_EXCHANGES = 13
COUNT_CAP = 3.0
_OBJ = np.array([a.value.startswith("objection_") for a in CUSTOMER_ACTS])
_HANDLING = REP_ACTS.index(RepAct.OBJECTION_HANDLING)

# Offsets of the blocks of the observation vector.
EXCHANGE = 0
LAST_CUSTOMER = EXCHANGE + MAX_EXCHANGES
LAST_REP = LAST_CUSTOMER + N_CUST + 1
REP_COUNTS = LAST_REP + N_REP + 1
CUSTOMER_COUNTS = REP_COUNTS + N_REP
OPEN_OBJECTION = CUSTOMER_COUNTS + N_CUST
OBS_DIM = OPEN_OBJECTION + 1


class ActHistory:
    """Observation vectors of ``size`` conversations, advanced one exchange at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.exchange = np.zeros(size, dtype=int)
        self.last_customer = np.full(size, N_CUST)
        self.last_rep = np.full(size, N_REP)
        self.rep_counts = np.zeros((size, N_REP))
        self.customer_counts = np.zeros((size, N_CUST))
        self.open_objection = np.zeros(size, dtype=bool)

    def clear(self, rows: np.ndarray) -> None:
        """Start ``rows`` afresh (new calls, nothing said yet)."""
        self.exchange[rows] = 0
        self.last_customer[rows] = N_CUST
        self.last_rep[rows] = N_REP
        self.rep_counts[rows] = 0.0
        self.customer_counts[rows] = 0.0
        self.open_objection[rows] = False

    def observe(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The observation of ``rows`` (all by default): float32, shape ``(len(rows), OBS_DIM)``."""
        rows = np.arange(self.size) if rows is None else np.asarray(rows)
        n = rows.size
        obs = np.zeros((n, OBS_DIM), dtype=np.float32)
        r = np.arange(n)
        obs[r, EXCHANGE + np.minimum(self.exchange[rows], MAX_EXCHANGES - 1)] = 1.0
        obs[r, LAST_CUSTOMER + self.last_customer[rows]] = 1.0
        obs[r, LAST_REP + self.last_rep[rows]] = 1.0
        cap = COUNT_CAP
        obs[:, REP_COUNTS:CUSTOMER_COUNTS] = np.minimum(self.rep_counts[rows], cap) / cap
        obs[:, CUSTOMER_COUNTS:OPEN_OBJECTION] = np.minimum(self.customer_counts[rows], cap) / cap
        obs[:, OPEN_OBJECTION] = self.open_objection[rows]
        return obs

    def update(self, rows: np.ndarray, rep: np.ndarray, customer: np.ndarray) -> None:
        """Record one exchange (rep act index, then customer act index) for ``rows``."""
        rows, rep, customer = np.asarray(rows), np.asarray(rep), np.asarray(customer)
        self.rep_counts[rows, rep] += 1
        self.customer_counts[rows, customer] += 1
        self.last_rep[rows] = rep
        self.last_customer[rows] = customer
        self.open_objection[rows] = _OBJ[customer] | (self.open_objection[rows]
                                                      & (rep != _HANDLING))
        self.exchange[rows] += 1

    def key(self, rows: np.ndarray | None = None) -> np.ndarray:
        """A coarse discrete situation for support counts: exchange * 13 + last customer act."""
        rows = np.arange(self.size) if rows is None else np.asarray(rows)
        return (np.minimum(self.exchange[rows], MAX_EXCHANGES - 1) * (N_CUST + 1)
                + self.last_customer[rows])


N_KEYS = MAX_EXCHANGES * (N_CUST + 1)


def act_indices(rep_acts: Sequence[str], customer_acts: Sequence[str]) -> tuple[list[int],
                                                                               list[int]]:
    """Map act names to indices; raises ``ValueError`` naming an unknown act."""
    rep_index = {a.value: i for i, a in enumerate(REP_ACTS)}
    cust_index = {a.value: i for i, a in enumerate(CUSTOMER_ACTS)}
    try:
        return [rep_index[a] for a in rep_acts], [cust_index[a] for a in customer_acts]
    except KeyError as exc:
        raise ValueError(f"unknown dialogue act {exc.args[0]!r}") from None


def replay(histories: Sequence[tuple[Sequence[str], Sequence[str]]]) -> ActHistory:
    """One :class:`ActHistory` row per ``(rep acts, customer acts)``, advanced through its
    exchanges; the rows are updated together one exchange index at a time."""
    hist = ActHistory(len(histories))
    pairs = [act_indices(r, c) for r, c in histories]
    lengths = np.array([min(len(r), len(c)) for r, c in pairs], dtype=int)
    for e in range(int(lengths.max(initial=0))):
        rows = np.flatnonzero(lengths > e)
        hist.update(rows, np.array([pairs[i][0][e] for i in rows]),
                    np.array([pairs[i][1][e] for i in rows]))
    return hist


def observe_sequence(rep_acts: Sequence[str], customer_acts: Sequence[str]) -> np.ndarray:
    """Observation before the next rep act, after the given exchanges (act names)."""
    return replay([(rep_acts, customer_acts)]).observe()[0]
