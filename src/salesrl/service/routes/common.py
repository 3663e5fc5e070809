"""Shared route helpers: the service of the app, id parameters, documented error responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request

from salesrl.service.live import LiveService
from salesrl.service.schemas import ErrorBody

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ConversationId = Annotated[str, Path(pattern=ID_PATTERN, description="A conversation id.")]


def service(request: Request) -> LiveService:
    return request.app.state.service


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer."""
    text = {400: "Malformed JSON", 401: "Missing or invalid API key",
            404: "Unknown id (or another tenant's)", 409: "Conflict", 413: "Body too large",
            422: "Invalid request (the message names the field)"}
    return {s: {"model": ErrorBody, "description": text.get(s, "Error")} for s in statuses}
