"""The WebSocket stream: snapshot, then every update; 401 / 404 before accepting."""

from __future__ import annotations

import pytest
from service_helpers import Api
from starlette.testclient import WebSocketDenialResponse


def test_stream_sends_a_snapshot_then_every_update(api: Api) -> None:
    conv = api.new_conversation()
    first = api.append(conv, "rep", "Hello").json()
    with api.client.websocket_connect(f"/v1/conversations/{conv}/stream?token={api.key_a}") as ws:
        snap = ws.receive_json()
        assert snap["type"] == "snapshot"
        assert snap["conversation"]["n_turns"] == 1
        assert snap["conversation"]["turns"][0]["prediction"]["probability"] == \
            first["probability"]
        answers = [api.append(conv, "customer", t).json() for t in ("Price?", "Too expensive")]
        for answer in answers:
            msg = ws.receive_json()
            assert msg["type"] == "turn" and msg["conversation_id"] == conv
            assert msg["turn"]["turn_index"] == answer["turn_index"]
            assert msg["turn"]["prediction"]["probability"] == answer["probability"]


def test_stream_accepts_a_header_key(api: Api) -> None:
    conv = api.new_conversation()
    with api.client.websocket_connect(f"/v1/conversations/{conv}/stream",
                                      headers=api.a) as ws:
        assert ws.receive_json()["conversation"]["id"] == conv
        api.append(conv, "customer", "hi")
        assert ws.receive_json()["turn"]["text"] == "hi"


@pytest.mark.parametrize(("who", "status"), [("none", 401), ("bad", 401), ("other", 404),
                                             ("unknown", 404)])
def test_stream_refuses_without_access(api: Api, who: str, status: int) -> None:
    conv = api.new_conversation()
    path = f"/v1/conversations/{'conv_unknown' if who == 'unknown' else conv}/stream"
    token = {"none": None, "bad": "slr_nope", "other": api.key_b, "unknown": api.key_a}[who]
    url = path + (f"?token={token}" if token else "")
    with pytest.raises(WebSocketDenialResponse) as exc, api.client.websocket_connect(url):
        pass
    assert exc.value.status_code == status
    # The other tenant learns nothing: the same answer as for an id that does not exist.
    if status == 404:
        assert exc.value.json()["detail"].endswith("not found")
