"""Live conversations: create, append a turn, read the timeline, list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from salesrl.service.auth import require_tenant
from salesrl.service.errors import ApiError
from salesrl.service.routes.common import ConversationId, errors, service
from salesrl.service.schemas import (
    AppendResponse,
    ConversationCreate,
    ConversationDetail,
    ConversationPage,
    Created,
    ShortStr,
    TurnIn,
)
from salesrl.service.storage.repository import BadCursor, ListFilter

router = APIRouter(prefix="/v1", tags=["conversations"])
Tenant = Annotated[str, Depends(require_tenant)]
MAX_PAGE = 100


@router.post("/conversations", status_code=201, response_model=Created,
             responses=errors(400, 401, 413, 422))
async def create_conversation(request: Request, tenant: Tenant,
                              body: ConversationCreate | None = None) -> Created:
    """Start a live conversation (metadata optional); answers its id."""
    body = body or ConversationCreate()
    return Created(id=await service(request).create(tenant, body.metadata))


@router.post("/conversations/{conversation_id}/turns", status_code=201,
             response_model=AppendResponse, responses=errors(400, 401, 404, 409, 413, 422))
async def append_turn(
    request: Request, response: Response, conversation_id: ConversationId, turn: TurnIn,
    tenant: Tenant,
    idempotency_key: Annotated[ShortStr | None, Header(alias="Idempotency-Key")] = None,
) -> AppendResponse:
    """Append one turn and answer P(sale) after it.

    A retry with the same ``idempotency_key`` (body field or ``Idempotency-Key`` header) answers
    the original result (with ``Idempotent-Replayed: true``) and never appends twice.
    """
    svc = service(request)
    limit = svc.settings.max_text_chars
    if len(turn.text) > limit:
        raise ApiError(422, "invalid_request", f"'text': at most {limit} characters (got "
                       f"{len(turn.text)})", field="text")
    if idempotency_key is not None:
        if turn.idempotency_key not in (None, idempotency_key):
            raise ApiError(422, "invalid_request", "'idempotency_key' differs from the "
                           "Idempotency-Key header", field="idempotency_key")
        turn = turn.model_copy(update={"idempotency_key": idempotency_key})
    result, replayed = await svc.append(tenant, conversation_id, turn)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail,
            responses=errors(401, 404, 422))
async def get_conversation(request: Request, conversation_id: ConversationId,
                           tenant: Tenant) -> ConversationDetail:
    """The timeline: every turn with the prediction made after it."""
    return await service(request).timeline(tenant, conversation_id)


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError(422, "invalid_request", f"query parameter {name!r}: out of range",
                       field=name) from None


@router.get("/conversations", response_model=ConversationPage, responses=errors(401, 422))
async def list_conversations(
    request: Request, tenant: Tenant,
    rep_id: Annotated[ShortStr | None, Query(description="Only this rep's.")] = None,
    created_after: Annotated[datetime | None, Query(
        description="Created at or after (ISO 8601; naive = UTC).")] = None,
    created_before: Annotated[datetime | None, Query(description="Created before.")] = None,
    min_probability: Annotated[float | None, Query(
        ge=0.0, le=1.0, description="Latest P(sale) at least this.")] = None,
    max_probability: Annotated[float | None, Query(
        ge=0.0, le=1.0, description="Latest P(sale) at most this.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=512, description="From next_cursor.")] = None,
) -> ConversationPage:
    """This tenant's conversations, newest first, filtered and paginated."""
    if (min_probability is not None and max_probability is not None
            and min_probability > max_probability):
        raise ApiError(422, "invalid_request", "query parameter 'min_probability' is above "
                       "'max_probability'", field="min_probability")
    flt = ListFilter(rep_id=rep_id, created_after=_utc(created_after, "created_after"),
                     created_before=_utc(created_before, "created_before"),
                     min_probability=min_probability, max_probability=max_probability)
    try:
        items, nxt = await service(request).list(tenant, flt, limit, cursor)
    except BadCursor as exc:
        raise ApiError(422, "invalid_request", f"query parameter 'cursor': {exc}",
                       field="cursor") from None
    return ConversationPage(items=items, next_cursor=nxt)
