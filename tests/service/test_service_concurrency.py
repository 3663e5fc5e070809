"""Concurrent appends to one conversation: serialised, nothing lost, reordered or duplicated."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from service_helpers import add_key, auth

from salesrl.conversation import Conversation, Outcome, Role, Turn
from salesrl.service import BaselineEngine, Settings, create_app

N = 24


def replay(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    conv = Conversation(id="x", outcome=Outcome.UNKNOWN,
                        turns=[Turn(role=Role(t["role"]), text=t["text"]) for t in turns])
    return [r.model_dump(mode="json") for r in BaselineEngine().score([conv])[0]]


async def _run(apps: list[Any], body: Any) -> Any:
    """Start every app's lifespan, hand ``body`` one client per app."""
    async with _Lifespans(apps):
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t")
                   for a in apps]
        try:
            return await body(clients)
        finally:
            for c in clients:
                await c.aclose()


class _Lifespans:
    def __init__(self, apps: list[Any]) -> None:
        self.contexts = [a.router.lifespan_context(a) for a in apps]

    async def __aenter__(self) -> None:
        for c in self.contexts:
            await c.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        for c in reversed(self.contexts):
            await c.__aexit__(None, None, None)


def _check_timeline(timeline: dict[str, Any], accepted: list[dict[str, Any]]) -> None:
    turns = timeline["turns"]
    assert [t["turn_index"] for t in turns] == list(range(len(turns)))
    texts = [t["text"] for t in turns]
    assert len(set(texts)) == len(texts)  # nothing duplicated
    by_text = {t["text"]: t for t in turns}
    for a in accepted:  # nothing acknowledged is lost; each answer is what was stored
        stored = by_text[a["text"]]
        assert stored["turn_index"] == a["turn_index"]
        assert stored["prediction"]["probability"] == a["probability"]
    # The live session saw the turns in storage order: predictions equal a clean replay.
    assert [{k: v for k, v in t["prediction"].items() if k != "model_version"} for t in turns] \
        == replay(turns)


def test_concurrent_appends_to_one_conversation_are_serialised(db_url: str) -> None:
    key = add_key(db_url, "t")
    app = create_app(Settings(db_url=db_url))

    async def body(clients: list[httpx.AsyncClient]) -> None:
        (c,) = clients
        conv = (await c.post("/v1/conversations", headers=auth(key))).json()["id"]
        payloads = [{"role": "customer" if i % 3 else "rep",
                     "text": f"msg {i}" + ("?" if i % 4 == 1 else "")} for i in range(N)]
        rs = await asyncio.gather(*[c.post(f"/v1/conversations/{conv}/turns", json=p,
                                           headers=auth(key)) for p in payloads])
        assert [r.status_code for r in rs] == [201] * N
        assert sorted(r.json()["turn_index"] for r in rs) == list(range(N))
        accepted = [{**r.json(), "text": p["text"]} for r, p in zip(rs, payloads, strict=True)]
        timeline = (await c.get(f"/v1/conversations/{conv}", headers=auth(key))).json()
        assert timeline["n_turns"] == N
        _check_timeline(timeline, accepted)

    asyncio.run(_run([app], body))


def test_concurrent_retries_with_one_key_append_once(db_url: str) -> None:
    key = add_key(db_url, "t")
    app = create_app(Settings(db_url=db_url))

    async def body(clients: list[httpx.AsyncClient]) -> None:
        (c,) = clients
        conv = (await c.post("/v1/conversations", headers=auth(key))).json()["id"]
        turn = {"role": "customer", "text": "Sounds good", "idempotency_key": "same"}
        rs = await asyncio.gather(*[c.post(f"/v1/conversations/{conv}/turns", json=turn,
                                           headers=auth(key)) for _ in range(10)])
        assert {r.status_code for r in rs} == {201}
        assert len({r.text for r in rs}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in rs) == 9
        timeline = (await c.get(f"/v1/conversations/{conv}", headers=auth(key))).json()
        assert timeline["n_turns"] == 1

    asyncio.run(_run([app], body))


def test_two_processes_on_one_database_are_kept_consistent_by_the_constraint(
        db_url: str) -> None:
    """Two apps (as two server processes would) race on one conversation: the unique
    (conversation_id, turn_index) constraint turns a lost race into a 409, never a bad row."""
    key = add_key(db_url, "t")
    apps = [create_app(Settings(db_url=db_url)), create_app(Settings(db_url=db_url))]

    async def body(clients: list[httpx.AsyncClient]) -> None:
        conv = (await clients[0].post("/v1/conversations", headers=auth(key))).json()["id"]
        payloads = [{"role": "customer", "text": f"m{i}" + ("?" if i % 2 else "")}
                    for i in range(16)]
        rs = await asyncio.gather(*[
            clients[i % 2].post(f"/v1/conversations/{conv}/turns", json=p, headers=auth(key))
            for i, p in enumerate(payloads)])
        assert {r.status_code for r in rs} <= {201, 409}
        assert any(r.status_code == 201 for r in rs)
        accepted = [{**r.json(), "text": p["text"]} for r, p in zip(rs, payloads, strict=True)
                    if r.status_code == 201]
        timeline = (await clients[1].get(f"/v1/conversations/{conv}", headers=auth(key))).json()
        assert timeline["n_turns"] == len(accepted)
        _check_timeline(timeline, accepted)
        # Each app notices the other's writes (stale cached session = miss) and carries on.
        for c in clients:
            r = await c.post(f"/v1/conversations/{conv}/turns", headers=auth(key),
                             json={"role": "customer", "text": f"after {id(c)}"})
            assert r.status_code == 201
        timeline = (await clients[0].get(f"/v1/conversations/{conv}", headers=auth(key))).json()
        _check_timeline(timeline, [])

    asyncio.run(_run(apps, body))
