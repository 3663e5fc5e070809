"""The scoring engine the service depends on, and a placeholder baseline that works today.

The service only sees the small :class:`Engine` protocol below, so the trained agent can be
plugged in later through an adapter (``salesrl.load(path).session()``) without touching the
routes, the storage or the cache. An engine is loaded once at start-up; a live conversation is an
:class:`EngineSession` that consumes one turn at a time and can be rebuilt after a restart by
replaying the stored turns (:meth:`Engine.restore_session`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from salesrl.conversation import Conversation, Metadata, Role, Turn


class TurnResult(BaseModel):
    """What the engine says after one turn."""

    model_config = ConfigDict(extra="forbid")

    turn_index: int = Field(ge=0, description="0-based index of the turn just scored.")
    probability: float = Field(ge=0.0, le=1.0, description="P(sale) after this turn.")
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    interval: tuple[float, float] | None = Field(
        default=None, description="A (low, high) range for the probability.")
    abstain: bool = Field(default=False, description="True when the engine would rather not say.")
    abstain_reason: str | None = None
    turning_point: dict[str, Any] | None = Field(
        default=None, description="Set when this turn moved the probability markedly.")
    guidance: dict[str, Any] | None = Field(
        default=None, description="A suggested next move for the rep, when the engine has one.")


@runtime_checkable
class EngineSession(Protocol):
    """The incremental state of one live conversation."""

    def add_turn(self, turn: Turn) -> TurnResult:
        """Consume the next turn and score the conversation so far."""
        ...


@runtime_checkable
class Engine(Protocol):
    """A loaded model: makes live sessions and scores whole conversations."""

    model_version: str

    def new_session(self, metadata: Metadata) -> EngineSession:
        """A session for a conversation with no turn yet."""
        ...

    def restore_session(self, turns: list[Turn], metadata: Metadata) -> EngineSession:
        """A session in the state reached after ``turns`` (rebuilt by replaying them)."""
        ...

    def score(self, conversations: Sequence[Conversation]) -> list[list[TurnResult]]:
        """Stateless batch scoring: one result per turn of each conversation."""
        ...


@runtime_checkable
class BatchEngine(Engine, Protocol):
    """An engine that can score the next turn of several live sessions in one call.

    Optional: the service's scorer (:mod:`salesrl.service.scorer`) uses ``add_turns`` when an
    engine has it, else calls ``session.add_turn`` one by one.
    """

    def add_turns(self, items: Sequence[tuple[EngineSession, Turn]]
                  ) -> list[TurnResult | BaseException]:
        """``session.add_turn(turn)`` of each item, in order; a failed item gives its error."""
        ...


@runtime_checkable
class PipelinedEngine(BatchEngine, Protocol):
    """A batch engine whose per-batch work splits into a session-free part and the rest.

    Optional: the scorer runs ``prepare_turns`` (which must touch no session, e.g. embedding
    the texts) on one thread and ``add_turns(items, prepared)`` on another, so consecutive
    batches overlap.
    """

    def prepare_turns(self, turns: Sequence[Turn]) -> Any:
        """Session-free work for a batch of turns (may run while another batch is scored)."""
        ...

    def add_turns(self, items: Sequence[tuple[EngineSession, Turn]], prepared: Any = None
                  ) -> list[TurnResult | BaseException]:
        """:meth:`BatchEngine.add_turns`, given what :meth:`prepare_turns` returned for the
        same turns (None: prepare it here)."""
        ...


# --- the placeholder baseline ----------------------------------------------------------------

_OBJECTION = re.compile(
    r"\b(too (expensive|pricey|much)|over (our|my) budget|(no|tight|limited) budget|"
    r"can't afford|not (right )?now|next (quarter|year)|later|talk to my (boss|manager|team)|"
    r"not my (call|decision)|already (use|have|work with)|competitor|not sure|don't (think|see) "
    r"(we|i) need|not convinced)\b")
_COMMITMENT = re.compile(
    r"\b(let's do it|sign (me|us) up|sounds (good|great)|send (me |us )?the (contract|"
    r"proposal|invoice|paperwork)|go ahead|we'll take it|i'll take it|deal|book (a|the) demo|"
    r"ready to (buy|start|move forward)|count (me|us) in)\b")
_REJECTION = re.compile(
    r"\b(not interested|no thanks|no thank you|don't call|stop calling|we'll pass|not for us)\b")


@dataclass(frozen=True)
class BaselineWeights:
    """Weights of the baseline's logistic score (hand-set, not learned)."""

    bias: float = -0.4
    question: float = 0.2  # each customer question (capped at ``question_cap``)
    question_cap: int = 4
    objection: float = -0.45
    commitment: float = 0.9
    rejection: float = -1.3
    length: float = 0.1  # times log(1 + turns)
    turning_point_delta: float = 0.1


class BaselineSession:
    """Running counts over the turns seen so far; see :class:`BaselineEngine`."""

    def __init__(self, weights: BaselineWeights) -> None:
        self.weights = weights
        self.n_turns = 0
        self.customer_turns = 0
        self.questions = 0
        self.objections = 0
        self.commitments = 0
        self.rejections = 0
        self.last_probability: float | None = None

    def _probability(self) -> float:
        w = self.weights
        z = (w.bias + w.question * min(self.questions, w.question_cap)
             + w.objection * self.objections + w.commitment * self.commitments
             + w.rejection * self.rejections + w.length * math.log1p(self.n_turns))
        return 1.0 / (1.0 + math.exp(-z))

    def add_turn(self, turn: Turn) -> TurnResult:
        """Update the counts with one turn and return the new estimate."""
        index = self.n_turns
        self.n_turns += 1
        cue = None
        if turn.role is Role.CUSTOMER:
            self.customer_turns += 1
            text = turn.text.lower().replace("\u2019", "'")
            if "?" in text:
                self.questions += 1
            if _REJECTION.search(text):
                self.rejections += 1
                cue = "rejection"
            elif _COMMITMENT.search(text):
                self.commitments += 1
                cue = "commitment"
            elif _OBJECTION.search(text):
                self.objections += 1
                cue = "objection"
        p = self._probability()
        # Evidence grows with customer turns; a heuristic, not a calibrated confidence.
        confidence = self.customer_turns / (self.customer_turns + 3.0)
        half = 0.5 / math.sqrt(1.0 + self.customer_turns)
        turning_point = None
        if self.last_probability is not None:
            delta = p - self.last_probability
            if abs(delta) >= self.weights.turning_point_delta:
                turning_point = {"delta": delta, "direction": "up" if delta > 0 else "down",
                                 "cue": cue}
        self.last_probability = p
        guidance = None
        if cue == "objection":
            guidance = {"move": "objection_handling", "reason": "the customer raised an objection"}
        elif cue == "commitment":
            guidance = {"move": "next_step", "reason": "the customer signalled commitment"}
        abstain = self.customer_turns == 0
        return TurnResult(
            turn_index=index, probability=p, confidence=confidence,
            interval=(max(0.0, p - half), min(1.0, p + half)),
            abstain=abstain, abstain_reason="no customer turn yet" if abstain else None,
            turning_point=turning_point, guidance=guidance)


class BaselineEngine:
    """PLACEHOLDER until the trained agent is wired in: a transparent incremental estimator.

    P(sale) is a logistic function of a few running counts over the customer's turns: questions
    (a sign of engagement), objection, commitment and rejection keywords, and the number of turns
    (see :class:`BaselineWeights`). It is deterministic, needs no model file and costs
    microseconds per turn. It abstains until the customer has spoken. Its confidence and interval
    are heuristics that widen with little evidence; none of it is calibrated or learned.
    """

    model_version = "baseline-0.1"

    def __init__(self, weights: BaselineWeights | None = None) -> None:
        self.weights = weights or BaselineWeights()

    def new_session(self, metadata: Metadata) -> BaselineSession:
        """A session with no turn yet (the baseline ignores the metadata)."""
        return BaselineSession(self.weights)

    def restore_session(self, turns: list[Turn], metadata: Metadata) -> BaselineSession:
        """Replay ``turns`` into a fresh session."""
        session = self.new_session(metadata)
        for turn in turns:
            session.add_turn(turn)
        return session

    def score(self, conversations: Sequence[Conversation]) -> list[list[TurnResult]]:
        """Score every turn of every conversation, each from a fresh session."""
        out = []
        for conv in conversations:
            session = self.new_session(conv.metadata)
            out.append([session.add_turn(turn) for turn in conv.turns])
        return out
