"""Storage on SQLite and (when configured) PostgreSQL: migrations, constraints, scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from salesrl.service.storage import Database, Repository
from salesrl.service.storage.models import Base
from salesrl.service.storage.repository import BadCursor, Conflict, ListFilter


@pytest.fixture
def db(db_url: str):
    database = Database(db_url, pool_size=2)
    database.migrate()
    yield database
    database.dispose()


def _turn(conv_id: str, index: int, key: str | None = None, p: float = 0.5) -> dict[str, Any]:
    return {"conversation_id": conv_id, "turn_index": index, "role": "customer",
            "text": f"t{index}", "speaker": None, "start_s": None, "end_s": None,
            "idempotency_key": key, "request_hash": "h", "model_version": "m",
            "prediction": {"turn_index": index, "probability": p}}


def test_migrations_create_the_schema_and_match_the_models(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"tenants", "api_keys", "conversations", "turns", "alembic_version"} <= tables
    db.migrate()  # idempotent
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_is_durable_wal(db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_keys_are_stored_hashed_and_resolve_to_their_tenant(db: Database) -> None:
    repo = Repository(db)
    t1, _ = repo.create_api_key("acme", "a" * 64, "slr_aaaa")
    t2, _ = repo.create_api_key("acme", "b" * 64, "slr_bbbb")  # same tenant, second key
    t3, _ = repo.create_api_key("other", "c" * 64, "slr_cccc")
    assert t1 == t2 != t3
    assert repo.tenant_for_key_hash("a" * 64) == t1
    assert repo.tenant_for_key_hash("d" * 64) is None
    with db.engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT key_hash FROM api_keys"))}
    assert stored == {"a" * 64, "b" * 64, "c" * 64}


def test_conversations_are_scoped_by_tenant(db: Database) -> None:
    repo = Repository(db)
    ta, _ = repo.create_api_key("a", "a" * 64, "x")
    tb, _ = repo.create_api_key("b", "b" * 64, "y")
    conv = repo.create_conversation(ta, {"rep_id": "r1"})
    assert repo.get_conversation(ta, conv.id) is not None
    assert repo.get_conversation(tb, conv.id) is None
    assert repo.get_timeline(tb, conv.id) is None
    assert repo.list_conversations(tb, ListFilter(), 10)[0] == []
    assert [c.id for c in repo.list_conversations(ta, ListFilter(), 10)[0]] == [conv.id]


def test_turn_index_and_idempotency_key_are_unique(db: Database) -> None:
    repo = Repository(db)
    tenant, _ = repo.create_api_key("a", "a" * 64, "x")
    conv = repo.create_conversation(tenant, {})
    repo.append_turn(_turn(conv.id, 0, key="k0", p=0.25))
    with pytest.raises(Conflict):
        repo.append_turn(_turn(conv.id, 0))  # same index
    with pytest.raises(Conflict):
        repo.append_turn(_turn(conv.id, 1, key="k0"))  # same key
    with pytest.raises(Conflict):
        repo.append_turn(_turn(conv.id, 5))  # not the next index
    repo.append_turn(_turn(conv.id, 1))
    repo.append_turn(_turn(conv.id, 2))  # NULL keys do not collide
    row = repo.get_conversation(tenant, conv.id)
    assert row.n_turns == 3 and row.latest_probability == 0.5
    assert [t["turn_index"] for t in repo.turns(conv.id)] == [0, 1, 2]
    assert repo.turn_by_key(conv.id, "k0")["prediction"] == {"turn_index": 0,
                                                              "probability": 0.25}
    assert repo.turn_by_key(conv.id, "nope") is None
    n, meta, existing = repo.append_state(tenant, conv.id, "k0")
    assert (n, meta, existing["turn_index"]) == (3, {}, 0)
    assert repo.append_state("someone-else", conv.id, None) is None
    other = repo.create_conversation(tenant, {})
    repo.append_turn(_turn(other.id, 0, key="k0"))  # keys are unique per conversation only


def test_timestamps_are_utc(db: Database) -> None:
    repo = Repository(db)
    tenant, _ = repo.create_api_key("a", "a" * 64, "x")
    conv = repo.create_conversation(tenant, {})
    got = repo.get_conversation(tenant, conv.id).created_at
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert abs(got - datetime.now(UTC)) < timedelta(minutes=5)


def test_list_filters_and_pagination(db: Database) -> None:
    repo = Repository(db)
    tenant, _ = repo.create_api_key("a", "a" * 64, "x")
    ids = []
    for i in range(7):
        conv = repo.create_conversation(tenant, {"rep_id": "r1" if i % 2 else "r2"})
        repo.append_turn(_turn(conv.id, 0, p=i / 10))
        ids.append(conv.id)
    seen, cursor = [], None
    while True:
        page, cursor = repo.list_conversations(tenant, ListFilter(), 3, cursor)
        seen += [c.id for c in page]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)  # nothing twice, nothing lost
    assert seen[0] == ids[-1] and seen[-1] == ids[0]  # newest first
    r1 = repo.list_conversations(tenant, ListFilter(rep_id="r1"), 10)[0]
    assert {c.id for c in r1} == {ids[i] for i in (1, 3, 5)}
    band = repo.list_conversations(tenant, ListFilter(min_probability=0.2,
                                                      max_probability=0.4), 10)[0]
    assert {c.id for c in band} == {ids[2], ids[3], ids[4]}
    created = repo.get_conversation(tenant, ids[3]).created_at
    after = repo.list_conversations(tenant, ListFilter(created_after=created), 10)[0]
    assert {c.id for c in after} == set(ids[3:])
    before = repo.list_conversations(tenant, ListFilter(created_before=created), 10)[0]
    assert {c.id for c in before} == set(ids[:3])
    with pytest.raises(BadCursor):
        repo.list_conversations(tenant, ListFilter(), 3, "garbage!")
