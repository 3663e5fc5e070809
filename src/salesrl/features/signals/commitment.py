"""Stated intent: what the customer commits to, refuses or hedges on, and how much.

A sales call often ends with the customer *saying* what they will do ("I'll donate $1",
"we'll take 50 seats", "I'm going to stick with $0"). The act detectors
(:mod:`~salesrl.features.signals.detectors`) score commitment and rejection as acts; this
module adds the number-aware part and its recency, after every turn, from the prefix only:

* counts of customer commitments, refusals and hedges (``log1p``), the polarity of the latest
  of commitment / refusal (+1 / -1, 0 before either) and each one's recency
  ``exp(-(t - t_last) / 4)`` (0 before the first);
* the latest amount or quantity the customer stated (``$5``, ``50 cents``, ``ten seats``):
  whether one was stated, ``log1p`` of it (cents as hundredths), whether it was zero
  ("$0", "nothing"), whether the customer offered all of something ("all of it");
* the rep's acknowledgements of a commitment ("thank you for your order / donation") and their
  recency;
* whether the latest turn itself was a customer commitment / refusal.

A stated positive amount counts as a commitment and a stated zero as a refusal. Hand-written
rather than a library: no maintained library extracts stated commitments and amounts from chat
text; the cue lists follow the commitment / hedging literature the act lexicons cite (Lakoff
1973 for hedges; Rackham 1988 for commitment as the call's outcome) and are deliberately generic
(give, donate, pay, buy, order, sign, take, subscribe). :class:`CommitmentTracker` is O(1) per
turn and JSON-serialisable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

import numpy as np

from salesrl.conversation.schema import Role, Turn

__all__ = ["COMMITMENT_NAMES", "CommitmentTracker", "TurnCues", "commitment_rows", "turn_cues"]

COMMITMENT_NAMES: tuple[str, ...] = (
    "commit_customer_n",  # log1p of customer commitments so far
    "commit_refusals_n",  # log1p of customer refusals so far
    "commit_hedges_n",  # log1p of customer turns with a hedge
    "commit_polarity",  # +1 commitment / -1 refusal: the latest of the two; 0 before either
    "commit_recency",  # exp(-(turns since the latest commitment) / 4); 0 before the first
    "commit_refusal_recency",
    "commit_amount_stated",  # 1 once the customer stated an amount or quantity
    "commit_amount_log",  # log1p of the latest stated amount (cents as hundredths)
    "commit_amount_zero",  # the latest stated amount is zero ("$0", "nothing")
    "commit_amount_all",  # the customer offered all of something ("all of it")
    "commit_rep_ack_n",  # log1p of rep acknowledgements ("thank you for your order")
    "commit_rep_ack_recency",
    "commit_turn",  # the latest turn is a customer commitment
    "commit_refusal_turn",  # the latest turn is a customer refusal
)
RECENCY_TURNS = 4.0

_NUM_WORDS: dict[str, float] = {
    "zero": 0, "one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20,
    "twenty-five": 25, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "thousand": 1000, "half": 0.5, "quarter": 0.25}
_NUM = (r"(\d+(?:[.,]\d+)?|"
        + "|".join(sorted(map(re.escape, _NUM_WORDS), key=len, reverse=True)) + r")")
_UNITS = (r"cents?|dollars?|bucks?|usd|eur|euros?|pounds?|%|percent|seats?|units?|"
          r"licen[cs]es?|users?|boxes|cases|items|copies|accounts?")
_AMOUNT = re.compile(r"[$€£]\s?(\d+(?:[.,]\d+)?)|\b" + _NUM + r"\s*(" + _UNITS + r")(?!\w)|"
                     r"(?<![\d.,$€£])(\d*\.\d\d?)\b(?!\s*(%|percent))", re.I)  # "0.50": money
_VERB = (r"(donate|donating|give|giving|contribute|contributing|pay|paying|buy|buying|purchase|"
         r"order|sign|take|commit|subscribe|go with|do|put|send|upgrade|renew|"
         r"make an? (donation|purchase|payment|order|deal|contribution))")
_COMMIT = re.compile(
    r"\b(i'?ll|i will|i would|i'?d|i can|i want to|i'?d like to|i would like to|i am going to|"
    r"i'?m going to|let'?s|we'?ll|we will|we can|we'?d like to|sure|yes|ok(ay)?|sounds good)"
    r"\b[^.?!]{0,40}?\b" + _VERB + r"\b|\bcount (me|us) in\b|\bsign (me|us) up\b|"
    r"\b(i'?m|we'?re) in\b|\bdeal\b|\bi will\b|\bi'?ll do it\b|\bi can do that\b|"
    r"\bcount on (me|us|my|our)\b", re.I)
_REFUSE = re.compile(
    r"\b(no thanks|no thank you|not today|not right now|not interested|"
    r"(i'?m|i am|we'?re|we are) not (going|interested|donating|buying|able)|i won'?t|i will not|"
    r"i would not|i wouldn'?t|we won'?t|we will not|i can'?t|i cannot|we can'?t|"
    r"i do ?n'?t (want|think i|have)|pass on|stick with (\$?0|zero|nothing)|no,? i|nope|"
    r"rather not|not going to|can'?t afford|don'?t have the|decline)\b", re.I)
_HEDGE = re.compile(r"\b(maybe|might|perhaps|possibly|not sure|think about it|consider|later|"
                    r"in the future|some ?day|unsure|probably)\b", re.I)
_ZERO = re.compile(r"([$€£]\s?0(?![.,]?\d)|\bzero\b|\bnothing\b|\bnone\b|\b0 (cents|dollars))",
                   re.I)
_ALL = re.compile(r"\b(all of (it|my|our)|the (whole|full|entire) (amount|thing|payment)|"
                  r"everything)\b", re.I)
_ACK = re.compile(
    r"\b(thank(s| you) (so much |very much )?for (your|the|agreeing|donating|deciding|choosing|"
    r"committing|signing|ordering|buying)|that'?s (great|wonderful|awesome|amazing|generous))",
    re.I)


@dataclass(frozen=True)
class TurnCues:
    """What one turn says about commitment (see :func:`turn_cues`)."""

    commit: bool
    refuse: bool
    hedge: bool
    amount: float | None  # the latest amount or quantity stated in the turn
    zero: bool
    offers_all: bool
    ack: bool


def _amounts(text: str) -> list[float]:
    out = []
    for m in _AMOUNT.finditer(text):
        if m.group(1) or m.group(4):
            value = float((m.group(1) or m.group(4)).replace(",", "."))
        else:
            tok = m.group(2).lower()
            value = (float(tok.replace(",", ".")) if tok[0].isdigit()
                     else float(_NUM_WORDS.get(tok, 0.0)))
            if m.group(3).lower().startswith("cent"):
                value /= 100.0
        out.append(value)
    return out


@lru_cache(maxsize=65_536)
def turn_cues(text: str, is_rep: bool) -> TurnCues:
    """The cues of one turn (customer cues for a customer turn, acknowledgement for a rep's);
    cached per (text, role)."""
    if is_rep:
        return TurnCues(False, False, False, None, False, False, bool(_ACK.search(text)))
    refuse = bool(_REFUSE.search(text))
    amounts = _amounts(text)
    zero = bool(_ZERO.search(text))
    if zero:  # "$0", "nothing": a refusal with a stated amount of zero
        refuse = True
        amounts.append(0.0)
    commit = bool(_COMMIT.search(text)) or (bool(amounts) and max(amounts) > 0 and not refuse)
    return TurnCues(commit=commit and not refuse, refuse=refuse,
                    hedge=bool(_HEDGE.search(text)),
                    amount=amounts[-1] if amounts else None, zero=zero,
                    offers_all=bool(_ALL.search(text)), ack=False)


@dataclass
class _State:
    n_turns: int = 0
    commits: int = 0
    refusals: int = 0
    hedges: int = 0
    acks: int = 0
    polarity: float = 0.0
    last_commit: int = -1
    last_refusal: int = -1
    last_ack: int = -1
    stated: bool = False
    amount: float = 0.0
    zero: bool = False
    offers_all: bool = False
    commit_turn: bool = False
    refusal_turn: bool = False


class CommitmentTracker:
    """:data:`COMMITMENT_NAMES` after every turn, O(1) per turn, JSON-serialisable."""

    def __init__(self) -> None:
        self._s = _State()

    def update(self, turn: Turn) -> np.ndarray:
        """Consume the next turn; return the signals of the prefix so far (float32)."""
        s = self._s
        t = s.n_turns
        cues = turn_cues(turn.text, turn.role is Role.REP)
        s.commit_turn = s.refusal_turn = False
        if cues.ack:
            s.acks += 1
            s.last_ack = t
        s.hedges += cues.hedge
        if cues.commit:
            s.commits += 1
            s.last_commit, s.polarity, s.commit_turn = t, 1.0, True
        elif cues.refuse:
            s.refusals += 1
            s.last_refusal, s.polarity, s.refusal_turn = t, -1.0, True
        if cues.amount is not None:
            s.stated, s.amount, s.zero = True, cues.amount, cues.amount == 0.0
        s.offers_all = s.offers_all or cues.offers_all
        s.n_turns += 1
        return self.vector()

    def vector(self) -> np.ndarray:
        """The signals after the latest turn (zeros before any)."""
        s = self._s
        t = s.n_turns - 1

        def recency(last: int) -> float:
            return math.exp(-(t - last) / RECENCY_TURNS) if last >= 0 else 0.0

        return np.array([
            math.log1p(s.commits), math.log1p(s.refusals), math.log1p(s.hedges), s.polarity,
            recency(s.last_commit), recency(s.last_refusal), float(s.stated),
            math.log1p(max(s.amount, 0.0)), float(s.stated and s.zero), float(s.offers_all),
            math.log1p(s.acks), recency(s.last_ack), float(s.commit_turn),
            float(s.refusal_turn)], dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self._s)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CommitmentTracker:
        names = {f.name: f.type for f in fields(_State)}
        if set(data) != set(names):
            raise ValueError("commitment state fields differ from this version's: "
                             f"{sorted(set(data) ^ set(names))}")
        obj = cls()
        defaults = _State()
        obj._s = _State(**{k: type(getattr(defaults, k))(v) for k, v in data.items()})
        return obj


def commitment_rows(turns: Sequence[Turn]) -> np.ndarray:
    """``(T, len(COMMITMENT_NAMES))``: :meth:`CommitmentTracker.update` folded over ``turns``
    (row ``t`` from turns ``0..t``)."""
    tracker = CommitmentTracker()
    if not turns:
        return np.zeros((0, len(COMMITMENT_NAMES)), dtype=np.float32)
    return np.stack([tracker.update(t) for t in turns])
