"""The HTTP API end to end (TestClient), on every configured storage backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import DIALOGUE, Api, make_api

from salesrl.conversation import Conversation, Outcome, Role, Turn
from salesrl.service import BaselineEngine, Settings, create_app


def expected(dialogue: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """What an uninterrupted baseline session says after each turn."""
    conv = Conversation(id="x", outcome=Outcome.UNKNOWN,
                        turns=[Turn(role=Role(r), text=t) for r, t in dialogue])
    return [r.model_dump(mode="json") for r in BaselineEngine().score([conv])[0]]


def prediction_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("turn_index", "probability", "confidence", "interval", "abstain",
                                 "abstain_reason", "turning_point", "guidance")}


@pytest.fixture
def small(db_url: str) -> Iterator[Api]:
    yield from make_api(db_url, max_text_chars=50, max_turns_per_conversation=3,
                        max_body_bytes=2048, max_batch_conversations=2)


def test_append_returns_predictions_and_the_timeline_keeps_them(api: Api) -> None:
    conv = api.new_conversation(rep_id="r1", industry="saas")
    answers = []
    for i, (role, text) in enumerate(DIALOGUE):
        r = api.append(conv, role, text, speaker="Ann" if role == "rep" else "Bob", start=i * 5.0)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["turn_index"] == i and body["conversation_id"] == conv
        assert body["model_version"] == BaselineEngine.model_version
        answers.append(prediction_of(body))
    assert answers == expected(DIALOGUE)
    r = api.client.get(f"/v1/conversations/{conv}", headers=api.a)
    assert r.status_code == 200
    detail = r.json()
    assert detail["n_turns"] == len(DIALOGUE)
    assert detail["metadata"]["rep_id"] == "r1" and detail["metadata"]["industry"] == "saas"
    assert detail["latest_probability"] == answers[-1]["probability"]
    assert [(t["role"], t["text"]) for t in detail["turns"]] == DIALOGUE
    assert [prediction_of(t["prediction"]) for t in detail["turns"]] == answers
    assert detail["turns"][1]["speaker"] == "Bob" and detail["turns"][2]["start"] == 10.0


def test_create_without_a_body(api: Api) -> None:
    r = api.client.post("/v1/conversations", headers=api.a)
    assert r.status_code == 201 and r.json()["id"].startswith("conv_")


def test_list_filters_and_pages(api: Api) -> None:
    convs = [api.new_conversation(rep_id=f"r{i % 2}") for i in range(5)]
    api.append(convs[0], "customer", "No thanks, not interested.")  # low
    api.append(convs[1], "customer", "Sounds good, let's do it!")  # high
    r = api.client.get("/v1/conversations", params={"limit": 2}, headers=api.a)
    assert r.status_code == 200
    page = r.json()
    seen = [c["id"] for c in page["items"]]
    while page["next_cursor"]:
        page = api.client.get("/v1/conversations", headers=api.a, params={
            "limit": 2, "cursor": page["next_cursor"]}).json()
        seen += [c["id"] for c in page["items"]]
    assert sorted(seen) == sorted(convs) and seen[0] == convs[-1]
    r = api.client.get("/v1/conversations", params={"rep_id": "r1"}, headers=api.a)
    assert {c["id"] for c in r.json()["items"]} == {convs[1], convs[3]}
    r = api.client.get("/v1/conversations", params={"min_probability": 0.5}, headers=api.a)
    assert [c["id"] for c in r.json()["items"]] == [convs[1]]
    r = api.client.get("/v1/conversations", params={"max_probability": 0.3}, headers=api.a)
    assert [c["id"] for c in r.json()["items"]] == [convs[0]]
    r = api.client.get("/v1/conversations", headers=api.a, params={
        "created_after": "2000-01-01T00:00:00Z", "created_before": "2000-01-02"})
    assert r.json()["items"] == []
    r = api.client.get("/v1/conversations", params={"created_after": "2000-01-01"},
                       headers=api.a)
    assert len(r.json()["items"]) == 5


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"),
    ({"limit": "many"}, "limit"),
    ({"min_probability": 1.5}, "min_probability"),
    ({"min_probability": 0.8, "max_probability": 0.2}, "min_probability"),
    ({"created_after": "yesterday"}, "created_after"),
    ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_list_rejects_bad_parameters(api: Api, params: dict[str, Any], field: str) -> None:
    r = api.client.get("/v1/conversations", params=params, headers=api.a)
    assert r.status_code == 422
    assert r.json()["field"] == field and field in r.json()["detail"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"role": "boss", "text": "hi"}, "role"),
    ({"text": "hi"}, "role"),
    ({"role": "rep"}, "text"),
    ({"role": "rep", "text": 42}, "text"),
    ({"role": "rep", "text": "   "}, "text"),
    ({"role": "rep", "text": "a\x00b"}, "text"),
    ({"role": "rep", "text": "hi", "start": -1}, "start"),
    ({"role": "rep", "text": "hi", "start": 5, "end": 1}, "body"),
    ({"role": "rep", "text": "hi", "speaker": "x" * 201}, "speaker"),
    ({"role": "rep", "text": "hi", "mood": "happy"}, "mood"),
    ({"role": "rep", "text": "hi", "idempotency_key": ""}, "idempotency_key"),
    (["role", "rep"], "body"),
])
def test_append_rejects_bad_turns_naming_the_field(api: Api, payload: Any, field: str) -> None:
    conv = api.new_conversation()
    r = api.client.post(f"/v1/conversations/{conv}/turns", json=payload, headers=api.a)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_request" and body["field"] == field
    if field != "body":
        assert repr(field) in body["detail"]
    assert api.client.get(f"/v1/conversations/{conv}", headers=api.a).json()["n_turns"] == 0


def test_malformed_json_and_wrong_metadata(api: Api) -> None:
    conv = api.new_conversation()
    r = api.client.post(f"/v1/conversations/{conv}/turns", content=b'{"role": "rep", "text":',
                        headers={**api.a, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"
    r = api.client.post("/v1/conversations", json={"metadata": {"rep": "x"}}, headers=api.a)
    assert r.status_code == 422 and r.json()["field"] == "metadata.rep"
    r = api.client.post("/v1/conversations", json={"metadata": {"extra": {"k": "\x00"}}},
                        headers=api.a)
    assert r.status_code == 422 and "NUL" in r.json()["detail"]


def test_unknown_ids_and_routes(api: Api) -> None:
    r = api.client.get("/v1/conversations/conv_doesnotexist", headers=api.a)
    assert r.status_code == 404 and "conv_doesnotexist" in r.json()["detail"]
    assert api.append("conv_doesnotexist").status_code == 404
    r = api.client.get("/v1/conversations/bad%20id!", headers=api.a)
    assert r.status_code == 422 and r.json()["field"] == "conversation_id"
    r = api.client.get("/v1/nothing-here", headers=api.a)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_auth_is_required(api: Api) -> None:
    conv = api.new_conversation()
    for headers in ({}, {"Authorization": "Bearer slr_wrong"}, {"Authorization": "Basic eDp5"}):
        for method, path in (("GET", "/v1/conversations"), ("GET", f"/v1/conversations/{conv}"),
                             ("POST", "/v1/conversations"), ("POST", "/v1/score")):
            r = api.client.request(method, path, headers=headers, json={})
            assert r.status_code == 401, (method, path, headers)
            assert r.json()["error"] == "unauthorized"
    r = api.client.get(f"/v1/conversations/{conv}", headers={"X-API-Key": api.key_a})
    assert r.status_code == 200


def test_one_tenant_cannot_touch_another_tenants_conversations(api: Api) -> None:
    conv = api.new_conversation(rep_id="r1")
    assert api.append(conv, text="secret").status_code == 201
    r = api.client.get(f"/v1/conversations/{conv}", headers=api.b)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = api.append(conv, text="intrusion", headers=api.b)
    assert r.status_code == 404
    r = api.client.get("/v1/conversations", params={"rep_id": "r1"}, headers=api.b)
    assert r.status_code == 200 and r.json()["items"] == []
    assert api.client.get("/v1/conversations", headers=api.b).json()["items"] == []
    detail = api.client.get(f"/v1/conversations/{conv}", headers=api.a).json()
    assert [t["text"] for t in detail["turns"]] == ["secret"]
    # The same key reused by the other tenant is independent too.
    other = api.new_conversation(headers=api.b)
    assert api.append(other, headers=api.b, idempotency_key="k").status_code == 201
    assert api.client.get(f"/v1/conversations/{other}", headers=api.a).status_code == 404


def test_idempotent_retries_return_the_original_and_never_duplicate(api: Api) -> None:
    conv = api.new_conversation()
    first = api.append(conv, "customer", "What does it cost?", idempotency_key="k1")
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    api.append(conv, "customer", "Too expensive.", idempotency_key="k2")
    again = api.append(conv, "customer", "What does it cost?", idempotency_key="k1")
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # The Idempotency-Key header works the same way.
    h = {**api.a, "Idempotency-Key": "k3"}
    r1 = api.client.post(f"/v1/conversations/{conv}/turns", json={"role": "rep", "text": "Ok"},
                         headers=h)
    r2 = api.client.post(f"/v1/conversations/{conv}/turns", json={"role": "rep", "text": "Ok"},
                         headers=h)
    assert r1.json() == r2.json() and r2.headers["idempotent-replayed"] == "true"
    # Reusing a key for a different turn is refused, not silently answered.
    r = api.append(conv, "customer", "Something else", idempotency_key="k1")
    assert r.status_code == 409 and r.json()["field"] == "idempotency_key"
    r = api.client.post(f"/v1/conversations/{conv}/turns", headers=h,
                        json={"role": "rep", "text": "Ok", "idempotency_key": "other"})
    assert r.status_code == 422 and r.json()["field"] == "idempotency_key"
    detail = api.client.get(f"/v1/conversations/{conv}", headers=api.a).json()
    assert [t["text"] for t in detail["turns"]] == ["What does it cost?", "Too expensive.", "Ok"]


def test_limits_answer_clear_4xx(small: Api) -> None:
    conv = small.new_conversation()
    r = small.append(conv, text="x" * 51)
    assert r.status_code == 422 and r.json()["field"] == "text" and "50" in r.json()["detail"]
    for i in range(3):
        assert small.append(conv, text=f"t{i}", idempotency_key=f"k{i}").status_code == 201
    r = small.append(conv, text="one too many")
    assert r.status_code == 409 and r.json()["error"] == "conversation_full"
    # A retry of an accepted turn is still answered once the conversation is full.
    assert small.append(conv, text="t2", idempotency_key="k2").status_code == 201
    r = small.client.post("/v1/conversations", headers=small.a,
                          json={"metadata": {"extra": {"blob": "x" * 5000}}})
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'{"metadata": {"extra": {"blob": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}}}'

    r = small.client.post("/v1/conversations", content=chunks(),
                          headers={**small.a, "Content-Type": "application/json"})
    assert r.status_code == 413
    turns = [{"role": "customer", "text": "ok"}]
    r = small.client.post("/v1/score", headers=small.a,
                          json={"conversations": [{"turns": turns}] * 3})
    assert r.status_code == 422 and r.json()["field"] == "conversations"
    r = small.client.post("/v1/score", headers=small.a,
                          json={"conversations": [{"turns": turns * 4}]})
    assert r.status_code == 422 and r.json()["field"] == "conversations[0].turns"
    r = small.client.post("/v1/score", headers=small.a, json={"conversations": [
        {"turns": turns}, {"turns": [{"role": "rep", "text": "y" * 60}]}]})
    assert r.status_code == 422 and r.json()["field"] == "conversations[1].turns[0].text"


def test_score_is_stateless_and_matches_the_engine(api: Api) -> None:
    turns = [{"role": r, "text": t} for r, t in DIALOGUE]
    r = api.client.post("/v1/score", headers=api.a, json={"conversations": [
        {"id": "a", "turns": turns}, {"turns": turns[:2], "metadata": {"rep_id": "x"}}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == BaselineEngine.model_version
    assert [c["id"] for c in body["results"]] == ["a", None]
    assert body["results"][0]["predictions"] == expected(DIALOGUE)
    assert body["results"][1]["predictions"] == expected(DIALOGUE[:2])
    assert api.client.get("/v1/conversations", headers=api.a).json()["items"] == []
    r = api.client.post("/v1/score", headers=api.a, json={"conversations": [{"turns": [
        {"role": "robot", "text": "x"}]}]})
    assert r.status_code == 422 and r.json()["field"] == "conversations[0].turns[0].role"


def test_sessions_are_rebuilt_after_a_restart_and_on_cache_misses(db_url: str) -> None:
    gen = make_api(db_url, session_cache_size=1)
    api = next(gen)
    c1, c2 = api.new_conversation(), api.new_conversation()
    for (role, text) in DIALOGUE[:3]:  # interleaved: with one slot, every append misses
        assert api.append(c1, role, text).status_code == 201
        assert api.append(c2, role, text).status_code == 201
    metrics = api.client.get("/metrics").text
    assert "salesrl_session_cache_misses_total 6.0" in metrics
    gen.close()  # shut the app down: every session is gone
    app = create_app(Settings(db_url=db_url))
    with TestClient(app) as client:
        for (role, text) in DIALOGUE[3:]:
            r = client.post(f"/v1/conversations/{c1}/turns", headers=api.a,
                            json={"role": role, "text": text})
            assert r.status_code == 201
        got = client.get(f"/v1/conversations/{c1}", headers=api.a).json()["turns"]
    assert [prediction_of(t["prediction"]) for t in got] == expected(DIALOGUE)


def test_metrics_and_health(api: Api) -> None:
    conv = api.new_conversation()
    api.append(conv, "rep", "hello")
    api.append(conv, "customer", "hi")
    assert api.client.get("/healthz").json() == {
        "status": "ok", "model_version": BaselineEngine.model_version, "database": "ok"}
    text = api.client.get("/metrics").text
    route = 'route="/v1/conversations/{conversation_id}/turns"'
    assert f'salesrl_http_request_duration_seconds_count{{method="POST",{route},status="201"}} ' \
           "2.0" in text
    assert 'salesrl_turns_scored_total{mode="live"} 2.0' in text
    assert "salesrl_session_cache_hit_ratio 0.5" in text  # first append rebuilt, second hit
    assert f'salesrl_model_info{{engine="BaselineEngine",model_version="' \
           f'{BaselineEngine.model_version}"}} 1.0' in text
    # Each app has its own registry: a second one starts from zero, without clashing.
    other = create_app(Settings(db_url=api.url))
    assert other.state.metrics.registry is not api.client.app.state.metrics.registry
