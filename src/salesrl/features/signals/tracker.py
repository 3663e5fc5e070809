"""Running conversation signals, updated one turn at a time from the prefix only.

:class:`SignalTracker` keeps a fixed-size state (O(1) memory and time per turn) and returns, for
each new turn, a float32 vector named by :attr:`SignalTracker.feature_names`: the turn's own
features and act scores, then conversation-so-far signals. Engagement signals (talk-to-listen
ratio, longest monologue, interactivity, response latency) follow conversation-analytics
practice (e.g. Gong Labs' talk-ratio studies); question types follow SPIN (Rackham, 1988).
``conversation_signals`` is by definition the fold of ``update`` over the turns.

Objection resolution: each objection type is ``none -> open`` when the customer raises it,
``open -> addressed`` when a later rep turn performs an act that answers that type
(:data:`~salesrl.features.signals.lexicons.ADDRESSED_BY`), and ``addressed -> resolved`` at the
customer's next turn unless that turn raises the same type again (counted as a repeat, back to
``open``). Raising a resolved type re-opens it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from salesrl.conversation.acts import OBJECTION_ACTS, CustomerAct
from salesrl.conversation.schema import Conversation, Role, Turn
from salesrl.features.signals import lexicons as lx
from salesrl.features.signals.detectors import (
    ACT_INDEX,
    ALL_ACTS,
    ActDetector,
    ActScores,
    PrototypeDetector,
)
from salesrl.features.signals.text import analyse
from salesrl.features.signals.turn import TURN_FEATURE_NAMES, turn_values

STATE_VERSION = 1
_OBJ_TYPES: tuple[str, ...] = tuple(a.value for a in OBJECTION_ACTS)
_NONE, _OPEN, _ADDRESSED, _RESOLVED = 0, 1, 2, 3
_ADDRESSERS: tuple[tuple[int, ...], ...] = tuple(
    tuple(ACT_INDEX[r.value] for r in lx.ADDRESSED_BY[CustomerAct(t)]) for t in _OBJ_TYPES
)
_OBJ_INDEX = tuple(ACT_INDEX[t] for t in _OBJ_TYPES)
_POSITIVE = (ACT_INDEX[CustomerAct.INTEREST.value], ACT_INDEX[CustomerAct.COMMITMENT.value])
_NEGATIVE = (ACT_INDEX[CustomerAct.REJECTION.value], ACT_INDEX[CustomerAct.STALL.value])
_REP = Role.REP.value
(_T_WORDS, _T_HAS_GAP, _T_GAP, _T_QUESTIONS, _T_SENTIMENT, _T_HEDGES, _T_MONEY, _T_URGENCY) = (
    TURN_FEATURE_NAMES.index(n) for n in ("turn_words", "turn_has_gap", "turn_gap_s",
                                          "turn_questions", "turn_sentiment", "turn_hedges",
                                          "turn_money", "turn_urgency"))

CONVERSATION_FEATURE_NAMES: tuple[str, ...] = (
    "n_turns",
    "n_rep_turns",
    "n_customer_turns",
    "elapsed_s",  # last known time - first known time, 0 without timestamps
    "rep_words_total",
    "customer_words_total",
    "talk_listen_ratio",  # rep words / max(customer words, 1)
    "rep_word_share",  # rep words / all words
    "customer_latency_last",  # gap before the latest customer reply to a rep turn
    "customer_latency_mean",
    "customer_words_ewma",
    "customer_words_slope",  # OLS slope of customer words over customer turn index
    "customer_questions_total",
    "customer_questions_per_turn",
    "rep_questions_total",
    "rep_monologue_turns",  # current run of consecutive rep turns
    "rep_monologue_words",
    "longest_rep_monologue_turns",
    "longest_rep_monologue_words",
    "speaker_switches",
    "switches_per_turn",
    "switches_per_min",  # 0 without timestamps
    "customer_sentiment_ewma",
    "rep_sentiment_ewma",
    "customer_hedges_total",
    "money_mentions_total",
    "rep_urgency_total",
    "customer_momentum_ewma",  # EWMA of (interest + commitment - rejection - stall - objection)
    "objections_raised_total",
    "objections_repeated_total",
    "objections_open",
    "objections_addressed",
    "objections_resolved",
    "objections_resolved_total",
    "objection_resolution_rate",  # resolved events / raised events
    *(f"open_{t}" for t in _OBJ_TYPES),
)
ACT_SCORE_NAMES: tuple[str, ...] = tuple(f"act_{a}" for a in ALL_ACTS)
ACT_COUNT_NAMES: tuple[str, ...] = tuple(f"count_{a}" for a in ALL_ACTS)
FEATURE_NAMES: tuple[str, ...] = (
    TURN_FEATURE_NAMES + ACT_SCORE_NAMES + CONVERSATION_FEATURE_NAMES + ACT_COUNT_NAMES
)


@dataclass
class _State:
    """Everything the tracker remembers; plain numbers and lists, so it is JSON as is."""

    n_turns: int = 0
    n_rep: int = 0
    n_cust: int = 0
    first_time: float | None = None
    last_time: float | None = None
    prev_end: float | None = None
    prev_role: str | None = None
    rep_words: float = 0.0
    cust_words: float = 0.0
    latency_last: float = 0.0
    latency_sum: float = 0.0
    latency_n: int = 0
    cw_ewma: float = 0.0
    cw_sx: float = 0.0
    cw_sy: float = 0.0
    cw_sxx: float = 0.0
    cw_sxy: float = 0.0
    cust_questions: float = 0.0
    rep_questions: float = 0.0
    run_turns: int = 0
    run_words: float = 0.0
    max_run_turns: int = 0
    max_run_words: float = 0.0
    switches: int = 0
    cust_sent_ewma: float = 0.0
    rep_sent_ewma: float = 0.0
    cust_hedges: float = 0.0
    money: float = 0.0
    rep_urgency: float = 0.0
    momentum: float = 0.0
    obj_raised: int = 0
    obj_repeated: int = 0
    obj_resolved_events: int = 0
    obj_state: list[int] = field(default_factory=lambda: [_NONE] * len(_OBJ_TYPES))
    act_counts: list[int] = field(default_factory=lambda: [0] * len(ALL_ACTS))


_DEFAULT_DETECTOR = ActDetector()


def _ewma(old: float, x: float, alpha: float, first: bool) -> float:
    return x if first else alpha * x + (1.0 - alpha) * old


class SignalTracker:
    """Incremental per-turn conversation signals; see the module docstring.

    ``update(turn, embedding=None)`` consumes the next turn and returns its feature vector;
    ``embedding`` (the turn's text embedding, if the caller has one) feeds the prototype part
    of ``detector``. ``last_acts_`` holds the latest :class:`ActScores`. ``to_dict`` /
    ``from_dict`` persist the running state as JSON-serialisable data.
    """

    feature_names: tuple[str, ...] = FEATURE_NAMES

    def __init__(self, detector: ActDetector | None = None, ewma_alpha: float = 0.3) -> None:
        self.detector = detector
        self.ewma_alpha = ewma_alpha
        self._state = _State()
        self.last_acts_: ActScores | None = None

    @property
    def n_features(self) -> int:
        return len(FEATURE_NAMES)

    @property
    def n_turns(self) -> int:
        return self._state.n_turns

    def reset(self) -> SignalTracker:
        """Forget the conversation so far."""
        self._state = _State()
        self.last_acts_ = None
        return self

    def update(self, turn: Turn, embedding: np.ndarray | None = None) -> np.ndarray:
        """Consume the next turn; return its float32 vector aligned with ``feature_names``."""
        st, a = self._state, self.ewma_alpha
        stats = analyse(turn.text)
        tf = turn_values(turn, st.prev_end, stats)
        detector = self.detector if self.detector is not None else _DEFAULT_DETECTOR
        role = turn.role
        acts = detector.detect(stats, role, embedding)
        sl = acts.scores.tolist()  # Python floats: the float32 scores, exactly
        is_rep = role is Role.REP
        words = tf[_T_WORDS]

        # timing
        for t in (turn.start, turn.end):
            if t is not None:
                st.first_time = t if st.first_time is None else min(st.first_time, t)
                st.last_time = t if st.last_time is None else max(st.last_time, t)
        if st.prev_role is not None and st.prev_role != role.value:
            st.switches += 1
        if not is_rep and st.prev_role == _REP and tf[_T_HAS_GAP]:
            st.latency_last = tf[_T_GAP]
            st.latency_sum += tf[_T_GAP]
            st.latency_n += 1

        if is_rep:
            st.n_rep += 1
            st.rep_words += words
            st.rep_questions += tf[_T_QUESTIONS]
            st.rep_urgency += tf[_T_URGENCY]
            st.rep_sent_ewma = _ewma(st.rep_sent_ewma, tf[_T_SENTIMENT], a, st.n_rep == 1)
            st.run_turns += 1
            st.run_words += words
            st.max_run_turns = max(st.max_run_turns, st.run_turns)
            st.max_run_words = max(st.max_run_words, st.run_words)
        else:
            k = float(st.n_cust)  # customer turn index, 0-based
            st.n_cust += 1
            st.cust_words += words
            st.cw_ewma = _ewma(st.cw_ewma, words, a, st.n_cust == 1)
            st.cw_sx += k
            st.cw_sy += words
            st.cw_sxx += k * k
            st.cw_sxy += k * words
            st.cust_questions += tf[_T_QUESTIONS]
            st.cust_hedges += tf[_T_HEDGES]
            st.cust_sent_ewma = _ewma(st.cust_sent_ewma, tf[_T_SENTIMENT], a, st.n_cust == 1)
            objection = max(sl[i] for i in _OBJ_INDEX)
            m = sum(sl[i] for i in _POSITIVE) - sum(sl[i] for i in _NEGATIVE) - objection
            st.momentum = _ewma(st.momentum, max(-1.0, min(1.0, m)), a, st.n_cust == 1)
            st.run_turns = 0
            st.run_words = 0.0
        st.money += tf[_T_MONEY]
        labels = [ACT_INDEX[x] for x in acts.labels]
        self._update_objections(labels, is_rep)
        counts = st.act_counts
        for i in labels:
            counts[i] += 1
        st.n_turns += 1
        st.prev_role = role.value
        st.prev_end = float(turn.end) if turn.end is not None else None
        self.last_acts_ = acts
        # one conversion of all the values (float64, then float32 as before)
        return np.array([*tf, *sl, *self._conversation_values(), *counts],
                        dtype=np.float64).astype(np.float32)

    def _update_objections(self, labels: Sequence[int], is_rep: bool) -> None:
        """Advance each objection type's state given this turn's predicted act indices."""
        obj_state = self._state.obj_state
        if is_rep:
            if _OPEN in obj_state:  # only an open objection can be addressed
                for j, state in enumerate(obj_state):
                    if state == _OPEN and any(r in labels for r in _ADDRESSERS[j]):
                        obj_state[j] = _ADDRESSED
            return
        st = self._state
        for j, obj in enumerate(_OBJ_INDEX):
            state = obj_state[j]
            if obj in labels:
                if state in (_OPEN, _ADDRESSED):
                    st.obj_repeated += 1
                else:
                    st.obj_raised += 1
                obj_state[j] = _OPEN
            elif state == _ADDRESSED:
                obj_state[j] = _RESOLVED
                st.obj_resolved_events += 1

    def _conversation_values(self) -> list[float]:
        """The conversation-so-far signals, :data:`CONVERSATION_FEATURE_NAMES` order."""
        st = self._state
        n = max(st.n_turns, 1)
        elapsed = (st.last_time - st.first_time) if st.first_time is not None else 0.0
        total_words = st.rep_words + st.cust_words
        slope = 0.0
        if st.n_cust >= 2:
            den = st.n_cust * st.cw_sxx - st.cw_sx * st.cw_sx
            if den > 0:
                slope = (st.n_cust * st.cw_sxy - st.cw_sx * st.cw_sy) / den
        obj_state = st.obj_state
        open_flags = [float(s in (_OPEN, _ADDRESSED)) for s in obj_state]
        return [
            st.n_turns, st.n_rep, st.n_cust, elapsed, st.rep_words, st.cust_words,
            st.rep_words / max(st.cust_words, 1.0),
            st.rep_words / total_words if total_words else 0.0,
            st.latency_last, st.latency_sum / st.latency_n if st.latency_n else 0.0,
            st.cw_ewma, slope, st.cust_questions, st.cust_questions / max(st.n_cust, 1),
            st.rep_questions, st.run_turns, st.run_words, st.max_run_turns, st.max_run_words,
            st.switches, st.switches / max(n - 1, 1),
            st.switches / (elapsed / 60.0) if elapsed > 0 else 0.0,
            st.cust_sent_ewma, st.rep_sent_ewma, st.cust_hedges, st.money, st.rep_urgency,
            st.momentum, st.obj_raised, st.obj_repeated, sum(open_flags),
            obj_state.count(_ADDRESSED), obj_state.count(_RESOLVED),
            st.obj_resolved_events,
            st.obj_resolved_events / st.obj_raised if st.obj_raised else 0.0,
            *open_flags,
        ]

    # --- persistence ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable snapshot: version, configuration, detector config and state."""
        detector = self.detector if self.detector is not None else ActDetector()
        return {"version": STATE_VERSION, "ewma_alpha": self.ewma_alpha,
                "detector": detector.to_dict(), "state": asdict(self._state)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], detector: ActDetector | None = None,
                  prototype: PrototypeDetector | None = None) -> SignalTracker:
        """Restore a tracker saved by :meth:`to_dict`.

        Pass the same ``detector`` (or the fitted ``prototype`` detector to rebuild it from the
        saved configuration); without either the saved configuration is used lexicon-only.
        """
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported tracker state version {data.get('version')!r}")
        det = detector if detector is not None else ActDetector.from_dict(data["detector"],
                                                                           prototype=prototype)
        tracker = cls(detector=det, ewma_alpha=float(data["ewma_alpha"]))
        raw = dict(data["state"])
        names = {f.name for f in fields(_State)}
        if set(raw) != names:
            raise ValueError(f"tracker state fields differ: missing {sorted(names - set(raw))}, "
                             f"unexpected {sorted(set(raw) - names)}")
        for key in ("obj_state", "act_counts"):
            raw[key] = [int(v) for v in raw[key]]
        if len(raw["obj_state"]) != len(_OBJ_TYPES) or len(raw["act_counts"]) != len(ALL_ACTS):
            raise ValueError("tracker state has the wrong number of objection types or acts")
        tracker._state = _State(**raw)
        return tracker


def conversation_signals(turns: Conversation | Iterable[Turn],
                         detector: ActDetector | None = None,
                         embeddings: Sequence[np.ndarray] | np.ndarray | None = None,
                         ewma_alpha: float = 0.3) -> np.ndarray:
    """Signals for every prefix of ``turns`` (or a conversation's turns): row i is the vector
    ``update`` returns for turn i, starting from an empty tracker.

    Defined as folding :meth:`SignalTracker.update` over the turns; shape (n, n_features).
    """
    tracker = SignalTracker(detector=detector, ewma_alpha=ewma_alpha)
    turns = list(turns.turns if isinstance(turns, Conversation) else turns)
    if embeddings is not None and len(embeddings) != len(turns):
        raise ValueError(f"{len(embeddings)} embeddings for {len(turns)} turns")
    rows = [tracker.update(t, None if embeddings is None else embeddings[i])
            for i, t in enumerate(turns)]
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    return np.stack(rows)
