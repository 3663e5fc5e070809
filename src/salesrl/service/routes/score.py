"""Stateless batch scoring of whole conversations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from salesrl.service.auth import require_tenant
from salesrl.service.errors import ApiError
from salesrl.service.routes.common import errors, service
from salesrl.service.schemas import ScoredConversation, ScoreRequest, ScoreResponse

router = APIRouter(prefix="/v1", tags=["scoring"])


def _invalid(field: str, detail: str) -> ApiError:
    return ApiError(422, "invalid_request", f"{field!r}: {detail}", field=field)


@router.post("/score", response_model=ScoreResponse, responses=errors(400, 401, 413, 422))
async def score(request: Request, body: ScoreRequest,
                tenant: Annotated[str, Depends(require_tenant)]) -> ScoreResponse:
    """Score every turn of each conversation from scratch; nothing is stored."""
    svc = service(request)
    s = svc.settings
    if len(body.conversations) > s.max_batch_conversations:
        raise _invalid("conversations", f"at most {s.max_batch_conversations} conversations "
                       f"per request (got {len(body.conversations)})")
    for i, conv in enumerate(body.conversations):
        if len(conv.turns) > s.max_turns_per_conversation:
            raise _invalid(f"conversations[{i}].turns", f"at most "
                           f"{s.max_turns_per_conversation} turns (got {len(conv.turns)})")
        for j, turn in enumerate(conv.turns):
            if len(turn.text) > s.max_text_chars:
                raise _invalid(f"conversations[{i}].turns[{j}].text",
                               f"at most {s.max_text_chars} characters (got {len(turn.text)})")
    results = await svc.score(body.conversations)
    return ScoreResponse(model_version=svc.engine.model_version, results=[
        ScoredConversation(id=c.id, predictions=r) for c, r in zip(body.conversations, results,
                                                                    strict=True)])
