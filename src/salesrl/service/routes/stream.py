"""WebSocket stream of a conversation's updates.

Connect to ``/v1/conversations/{id}/stream`` with the API key in ``Authorization: Bearer``,
``X-API-Key`` or, for browsers that cannot set headers, ``?token=`` (which may end up in proxy
logs: prefer a header). The first message is ``{"type": "snapshot", "conversation": ...}`` (the
timeline so far); then one ``{"type": "turn", "turn": ...}`` per appended turn, in order. A
missing or invalid key is refused with HTTP 401 and an unknown (or another tenant's)
conversation with HTTP 404, before the WebSocket is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from salesrl.service.auth import key_from_headers
from salesrl.service.broker import CLOSED, OVERFLOW
from salesrl.service.errors import ApiError, error_body
from salesrl.service.routes.common import ID_PATTERN

router = APIRouter(tags=["conversations"])
_ID = re.compile(ID_PATTERN)


async def _deny(ws: WebSocket, status: int, code: str, detail: str) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse(error_body(code, detail), status_code=status))
    else:  # server without the denial extension: close before accepting, 4000 + HTTP status
        await ws.close(code=4000 + status, reason=detail[:120])


@router.websocket("/v1/conversations/{conversation_id}/stream")
async def stream(websocket: WebSocket, conversation_id: str, token: str | None = None) -> None:
    svc = websocket.app.state.service
    key = key_from_headers(websocket.headers, token)
    tenant = await svc.authenticate(key)
    if tenant is None:
        await _deny(websocket, 401, "unauthorized", "missing or invalid API key")
        return
    if not _ID.match(conversation_id) or not await svc.exists(tenant, conversation_id):
        await _deny(websocket, 404, "not_found", f"conversation {conversation_id!r} not found")
        return
    queue = svc.broker.subscribe(conversation_id)  # before the snapshot: no update is missed
    svc.metrics.stream_clients.inc()
    try:
        try:
            snapshot = await svc.timeline(tenant, conversation_id)
        except ApiError:
            await _deny(websocket, 404, "not_found", f"conversation {conversation_id!r} not "
                        "found")
            return
        await websocket.accept()
        await websocket.send_json({"type": "snapshot",
                                   "conversation": snapshot.model_dump(mode="json")})
        seen = snapshot.n_turns

        async def pump() -> None:
            nonlocal seen
            while True:
                message = await queue.get()
                if message is OVERFLOW or message is CLOSED:
                    await websocket.send_json(message)
                    await websocket.close(code=1013 if message is OVERFLOW else 1001)
                    return
                if message["turn"]["turn_index"] < seen:
                    continue  # already in the snapshot
                seen = message["turn"]["turn_index"] + 1
                await websocket.send_json(message)

        async def drain() -> None:
            while True:  # the client sends nothing we need; this notices it leaving
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return

        tasks = [asyncio.create_task(pump()), asyncio.create_task(drain())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect,
                                         RuntimeError):
                    await task
    finally:
        svc.broker.unsubscribe(conversation_id, queue)
        svc.metrics.stream_clients.dec()
