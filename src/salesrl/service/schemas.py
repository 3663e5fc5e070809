"""Request and response models of the HTTP API (the OpenAPI schema at /docs comes from here)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from salesrl.conversation import Metadata, Role, Turn
from salesrl.service.engine import TurnResult

MAX_SHORT = 200  # speaker, rep_id, ids, idempotency keys


def clean_text(value: str) -> str:
    """Reject what no database stores faithfully: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("invalid Unicode (lone surrogate)") from None
    return value


def clean_json(value: Any, path: str = "") -> None:
    """:func:`clean_text` on every string and key of a JSON value; also no NaN / infinity."""
    if isinstance(value, str):
        try:
            clean_text(value)
        except ValueError as exc:
            raise ValueError(f"{path or 'value'}: {exc}") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path or 'value'}: NaN and infinity are not allowed")
    elif isinstance(value, dict):
        for k, v in value.items():
            clean_json(str(k), path)
            clean_json(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            clean_json(v, f"{path}[{i}]")


CleanStr = Annotated[str, AfterValidator(clean_text)]
ShortStr = Annotated[str, Field(min_length=1, max_length=MAX_SHORT), AfterValidator(clean_text)]


def check_metadata(meta: Metadata) -> Metadata:
    for name in ("industry", "product", "channel", "rep_id", "deal_id", "source"):
        value = getattr(meta, name)
        if value is not None and len(value) > MAX_SHORT:
            raise ValueError(f"{name}: at most {MAX_SHORT} characters")
    clean_json(meta.model_dump(mode="python"))
    return meta


CleanMetadata = Annotated[Metadata, AfterValidator(check_metadata)]


class TurnBase(BaseModel):
    """One utterance, as sent by a client."""

    model_config = ConfigDict(extra="forbid")

    role: Role = Field(description="Who speaks: 'rep' (seller side) or 'customer'.")
    text: CleanStr = Field(min_length=1, description="What was said (not blank).")
    speaker: ShortStr | None = Field(None, description="Speaker name or id.")
    start: float | None = Field(None, ge=0.0, allow_inf_nan=False,
                                description="Seconds from the start of the conversation.")
    end: float | None = Field(None, ge=0.0, allow_inf_nan=False)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty text")
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> TurnBase:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    def to_turn(self) -> Turn:
        """The shared :class:`~salesrl.conversation.Turn` (already validated here)."""
        return Turn(role=self.role, text=self.text, speaker=self.speaker, start=self.start,
                    end=self.end)


class TurnIn(TurnBase):
    """A turn to append; a retry with the same ``idempotency_key`` never appends twice."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"role": "customer", "text": "That sounds good, what does it cost?",
         "idempotency_key": "call-42-turn-7"}]})

    idempotency_key: ShortStr | None = Field(
        None, description="Client-chosen key, unique per conversation (or the Idempotency-Key "
        "header).")


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: CleanMetadata = Field(default_factory=Metadata)


class Created(BaseModel):
    id: str


class Prediction(TurnResult):
    """The engine's result after a turn, with the model version that produced it."""

    model_config = ConfigDict(extra="ignore")

    model_version: str


class AppendResponse(Prediction):
    conversation_id: str


class TurnOut(BaseModel):
    turn_index: int
    role: Role
    text: str
    speaker: str | None = None
    start: float | None = None
    end: float | None = None
    created_at: datetime
    prediction: Prediction


class ConversationSummary(BaseModel):
    id: str
    created_at: datetime
    updated_at: datetime
    metadata: Metadata
    n_turns: int
    latest_probability: float | None = Field(
        None, description="P(sale) after the latest turn (None before the first turn).")


class ConversationDetail(ConversationSummary):
    turns: list[TurnOut] = Field(description="Every turn with its prediction, in order.")


class ConversationPage(BaseModel):
    items: list[ConversationSummary]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page.")


class ScoreConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ShortStr | None = Field(None, description="Echoed back; not stored.")
    metadata: CleanMetadata = Field(default_factory=Metadata)
    turns: list[TurnBase]


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversations: list[ScoreConversation]


class ScoredConversation(BaseModel):
    id: str | None = None
    predictions: list[TurnResult]


class ScoreResponse(BaseModel):
    model_version: str
    results: list[ScoredConversation]


class Health(BaseModel):
    status: str
    model_version: str
    database: str


class ErrorBody(BaseModel):
    """Every error: a machine code, a message naming the field, and the field."""

    error: str
    detail: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None
