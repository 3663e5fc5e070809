"""The one conversation schema every part of salesrl reads and writes.

A :class:`Conversation` is an ordered list of :class:`Turn` objects plus an outcome and
metadata. Per-turn ``annotations`` (dialogue-act labels, reference probabilities from the
simulator) are ground truth for evaluation only: :meth:`Conversation.prefix` strips them, so a
predictor never sees them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Role(StrEnum):
    """Who speaks a turn: the seller's side (``rep``) or the buyer's side (``customer``)."""

    REP = "rep"
    CUSTOMER = "customer"


class Outcome(StrEnum):
    """How the conversation ended, as far as the data says."""

    CONVERTED = "converted"
    NOT_CONVERTED = "not_converted"
    UNKNOWN = "unknown"


class TurnAnnotations(BaseModel):
    """Ground truth attached to a turn; hidden from every predictor.

    ``acts`` are dialogue-act labels (simulator acts or human strategy labels). ``oracle`` is
    P(convert | true hidden state) and ``bayes`` is P(convert | acts seen so far), both after
    this turn, when the data comes from the simulator.
    """

    model_config = ConfigDict(extra="forbid")

    acts: list[str] = Field(default_factory=list)
    oracle: float | None = Field(default=None, ge=0.0, le=1.0)
    bayes: float | None = Field(default=None, ge=0.0, le=1.0)


class Turn(BaseModel):
    """One utterance. ``start`` / ``end`` are seconds from the start of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    text: str
    speaker: str | None = None
    start: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    end: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    annotations: TurnAnnotations | None = None

    @field_validator("text")
    @classmethod
    def _text_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty text")
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> Turn:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class Metadata(BaseModel):
    """What is known about a conversation besides its turns."""

    model_config = ConfigDict(extra="forbid")

    industry: str | None = None
    product: str | None = None
    channel: str | None = None
    rep_id: str | None = None
    deal_id: str | None = None
    source: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Conversation(BaseModel):
    """A whole conversation (or the prefix of one) with its outcome."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    turns: list[Turn]
    outcome: Outcome
    metadata: Metadata = Field(default_factory=Metadata)

    @property
    def converted(self) -> bool | None:
        """True / False for a known outcome, None when unknown."""
        if self.outcome is Outcome.UNKNOWN:
            return None
        return self.outcome is Outcome.CONVERTED

    @property
    def label(self) -> int:
        """1 if converted, 0 if not; raises for an unknown outcome."""
        if self.outcome is Outcome.UNKNOWN:
            raise ValueError(f"conversation {self.id!r} has no known outcome")
        return int(self.outcome is Outcome.CONVERTED)

    def __len__(self) -> int:
        return len(self.turns)

    def prefix(self, n_turns: int) -> Conversation:
        """The first ``n_turns`` turns, with the outcome and every annotation removed.

        This is the only view of a conversation a predictor gets during evaluation.
        """
        if not 0 <= n_turns <= len(self.turns):
            raise ValueError(f"prefix length {n_turns} outside 0..{len(self.turns)}")
        turns = [t.model_copy(update={"annotations": None}) for t in self.turns[:n_turns]]
        return Conversation.model_construct(
            id=self.id,
            turns=turns,
            outcome=Outcome.UNKNOWN,
            metadata=self.metadata.model_copy(deep=True),
        )
