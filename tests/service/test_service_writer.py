"""Group commit: the writer thread stores many conversations' turns per transaction, and no
acknowledged turn is lost, duplicated or reordered; a conflicting row fails only its caller."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from service_helpers import add_key, auth
from test_service_concurrency import _check_timeline, _run

from salesrl.service import Settings, create_app
from salesrl.service.schemas import TurnIn
from salesrl.service.storage import Database, Repository
from salesrl.service.storage.repository import Conflict
from salesrl.service.writer import GroupWriter, WriterClosed


def _row(conv_id: str, index: int, key: str | None = None, p: float = 0.5) -> dict[str, Any]:
    return {"conversation_id": conv_id, "turn_index": index, "role": "customer",
            "text": f"{conv_id} t{index}", "speaker": None, "start_s": None, "end_s": None,
            "idempotency_key": key, "request_hash": "h", "model_version": "m",
            "prediction": {"turn_index": index, "probability": p}}


class _Recorder:
    """A ``write_many`` that records each group, can be held shut, and fails marked rows."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, rows: Sequence[dict[str, Any]]) -> list[BaseException | None]:
        self.gate.wait(5)
        self.groups.append([r["i"] for r in rows])
        if any(r.get("crash") for r in rows):
            raise RuntimeError("disk on fire")
        return [ValueError(f"row {r['i']}") if r.get("bad") else None for r in rows]


def test_queued_rows_are_committed_together_in_order() -> None:
    rec = _Recorder()
    sizes: list[int] = []
    writer = GroupWriter(rec, max_group=4, on_group=sizes.append)
    rec.gate.clear()
    first = writer.submit({"i": 0})  # the writer takes it and waits on the gate
    time.sleep(0.05)
    rest = [writer.submit({"i": i}) for i in range(1, 8)]  # these queue up meanwhile
    assert not first.cancel(), "a queued row cannot be cancelled"
    rec.gate.set()
    for f in [first, *rest]:
        assert f.result(5) is None
    writer.close()
    assert rec.groups == [[0], [1, 2, 3, 4], [5, 6, 7]]  # arrival order, at most max_group
    assert sizes == [1, 4, 3] and (writer.groups_, writer.rows_) == (3, 8)
    with pytest.raises(WriterClosed, match="closed"):
        writer.submit({"i": 9})
    with pytest.raises(ValueError, match="max_group"):
        GroupWriter(rec, max_group=0)


def test_a_failing_row_fails_only_its_caller_and_a_crash_fails_its_group() -> None:
    rec = _Recorder()
    writer = GroupWriter(rec)
    rec.gate.clear()
    held = writer.submit({"i": 0})
    time.sleep(0.05)
    good, bad = writer.submit({"i": 1}), writer.submit({"i": 2, "bad": True})
    rec.gate.set()
    assert held.result(5) is None and good.result(5) is None
    with pytest.raises(ValueError, match="row 2"):
        bad.result(5)
    with pytest.raises(RuntimeError, match="disk on fire"):
        writer.write({"i": 3, "crash": True})
    writer.write({"i": 4})  # the thread survived
    writer.close()


@pytest.fixture
def db(db_url: str):
    database = Database(db_url, pool_size=2)
    database.migrate()
    yield database
    database.dispose()


def test_append_turns_writes_a_group_and_isolates_a_conflicting_row(db: Database) -> None:
    repo = Repository(db)
    tenant, _ = repo.create_api_key("a", "a" * 64, "x")
    a, b, c = (repo.create_conversation(tenant, {}).id for _ in range(3))
    assert repo.append_turns([_row(a, 0, "k"), _row(b, 0, p=0.75), _row(c, 0)]) == [None] * 3
    # One bad row (c's turn 5 is not its next turn; a's key is taken) rolls the group back,
    # then each row is retried alone: the others are stored, the bad ones get Conflict.
    out = repo.append_turns([_row(a, 1), _row(c, 5), _row(b, 1, p=0.25), _row(a, 2, "k")])
    assert out[0] is None and out[2] is None
    assert isinstance(out[1], Conflict) and isinstance(out[3], Conflict)
    assert [t["turn_index"] for t in repo.turns(a)] == [0, 1]
    assert [t["turn_index"] for t in repo.turns(b)] == [0, 1]
    assert [t["turn_index"] for t in repo.turns(c)] == [0]
    assert repo.get_conversation(tenant, b).latest_probability == 0.25
    assert repo.get_conversation(tenant, a).n_turns == 2


N_CONV, N_TURNS = 6, 8


def test_group_commit_loses_and_reorders_nothing(db_url: str) -> None:
    """Appends to several conversations at once, some concurrent within a conversation and
    some retried with an idempotency key: commits are grouped, and every acknowledged turn is
    stored once, in order, with the answer it got."""
    key = add_key(db_url, "t")
    app = create_app(Settings(db_url=db_url))

    async def body(clients: list[httpx.AsyncClient]) -> None:
        (c,) = clients
        writer = app.state.service.writer
        write_many = writer.write_many

        def slow_write_many(rows: Sequence[dict[str, Any]]) -> list[Exception | None]:
            time.sleep(0.01)  # a slow disk: rows queue up behind each commit
            return write_many(rows)

        writer.write_many = slow_write_many
        convs = [(await c.post("/v1/conversations", headers=auth(key))).json()["id"]
                 for _ in range(N_CONV)]
        payloads = {conv: [{"role": "customer" if i % 3 else "rep",
                            "text": f"{conv[-6:]} msg {i}" + ("?" if i % 4 == 1 else ""),
                            "idempotency_key": f"k{i}"} for i in range(N_TURNS)]
                    for conv in convs}

        async def post(conv: str, p: dict[str, Any]) -> httpx.Response:
            return await c.post(f"/v1/conversations/{conv}/turns", json=p, headers=auth(key))

        async def sequential(conv: str) -> list[httpx.Response]:
            return [await post(conv, p) for p in payloads[conv]]

        # Half the conversations append in order, the other half all at once (serialised by
        # the conversation's lock); each also retries its turn 0 concurrently.
        half = N_CONV // 2
        results = await asyncio.gather(
            *(sequential(conv) for conv in convs[:half]),
            *(asyncio.gather(*(post(conv, p) for p in payloads[conv])) for conv in convs[half:]),
            *(post(conv, payloads[conv][0]) for conv in convs))
        assert writer.rows_ > writer.groups_, "no two turns were committed together"
        for conv, rs, retry in zip(convs, results[:N_CONV], results[N_CONV:], strict=True):
            assert [r.status_code for r in rs] == [201] * N_TURNS and retry.status_code == 201
            assert sorted(r.json()["turn_index"] for r in rs) == list(range(N_TURNS))
            # turn 0 was sent twice: one append, one replay with the same answer
            assert retry.json() == rs[0].json()
            replayed = [r.headers.get("idempotent-replayed") == "true" for r in [*rs, retry]]
            assert sum(replayed) == 1 and replayed.index(True) in (0, N_TURNS)
            accepted = [{**r.json(), "text": p["text"]}
                        for r, p in zip(rs, payloads[conv], strict=True)]
            timeline = (await c.get(f"/v1/conversations/{conv}", headers=auth(key))).json()
            assert timeline["n_turns"] == N_TURNS
            _check_timeline(timeline, accepted)

    asyncio.run(_run([app], body))


def test_a_key_stored_by_another_process_is_replayed_not_duplicated(db_url: str) -> None:
    """The cached session's key set is only a hint: a key that another process stored meanwhile
    makes the insert conflict, and the append answers the stored turn."""
    key = add_key(db_url, "t")
    apps = [create_app(Settings(db_url=db_url)), create_app(Settings(db_url=db_url))]

    async def body(clients: list[httpx.AsyncClient]) -> None:
        one, two = clients
        conv = (await one.post("/v1/conversations", headers=auth(key))).json()["id"]
        url = f"/v1/conversations/{conv}/turns"
        for c in clients:  # both processes now hold a cached session
            r = await c.post(url, headers=auth(key), json={"role": "rep", "text": f"hi {id(c)}"})
            assert r.status_code == 201
        turn = {"role": "customer", "text": "sounds good", "idempotency_key": "k"}
        first = await one.post(url, headers=auth(key), json=turn)
        again = await two.post(url, headers=auth(key), json=turn)
        assert first.status_code == again.status_code == 201
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
        timeline = (await two.get(f"/v1/conversations/{conv}", headers=auth(key))).json()
        assert timeline["n_turns"] == 3
        _check_timeline(timeline, [])

    asyncio.run(_run(apps, body))


def test_a_cancelled_append_still_commits_before_the_next_one_runs(db_url: str) -> None:
    """Cancelling a request does not abandon its turn half-way: the next append of the
    conversation waits for it, and the stored predictions equal a clean replay."""
    key = add_key(db_url, "t")
    app = create_app(Settings(db_url=db_url))

    async def body(clients: list[httpx.AsyncClient]) -> None:
        (c,) = clients
        svc = app.state.service
        tenant = await svc.authenticate(key)
        conv = (await c.post("/v1/conversations", headers=auth(key))).json()["id"]
        await svc.append(tenant, conv, TurnIn(role="rep", text="hello"))
        task = asyncio.ensure_future(svc.append(tenant, conv, TurnIn(
            role="customer", text="too expensive?")))
        await asyncio.sleep(0)  # under way
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        r = await c.post(f"/v1/conversations/{conv}/turns", headers=auth(key),
                         json={"role": "customer", "text": "ok, sounds good"})
        assert r.status_code == 201 and r.json()["turn_index"] == 2
        timeline = (await c.get(f"/v1/conversations/{conv}", headers=auth(key))).json()
        assert [t["text"] for t in timeline["turns"]] == [
            "hello", "too expensive?", "ok, sounds good"]
        _check_timeline(timeline, [])

    asyncio.run(_run([app], body))
