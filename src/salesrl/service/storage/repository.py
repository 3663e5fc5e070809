"""Every query the service makes. Each one that touches conversation data is scoped by tenant."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesrl.service.storage.db import Database
from salesrl.service.storage.models import ApiKey, ConversationRow, Tenant, TurnRow, utcnow

CONVERSATIONS = ConversationRow.__table__
TURNS = TurnRow.__table__


class Conflict(Exception):
    """A write lost a race: the turn index or the idempotency key is already taken."""


class BadCursor(ValueError):
    """A pagination cursor that this service did not issue."""


@dataclass(frozen=True)
class ListFilter:
    """Filters of ``GET /v1/conversations``; ``None`` means no filter."""

    rep_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    min_probability: float | None = None
    max_probability: float | None = None


def new_id(prefix: str) -> str:
    """A random, URL-safe identifier such as ``conv_3f2a...`` (128 bits)."""
    return f"{prefix}_{secrets.token_hex(16)}"


def encode_cursor(row: ConversationRow) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, conv_id = json.loads(raw)
        return datetime.fromisoformat(created), str(conv_id)
    except (ValueError, TypeError) as exc:
        raise BadCursor("not a cursor returned by this API") from exc


class Repository:
    """Data access over a :class:`Database`; methods are synchronous (run them in a thread)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- tenants and keys ------------------------------------------------------------------

    def create_api_key(self, tenant_name: str, key_hash: str, prefix: str) -> tuple[str, str]:
        """Store a key hash for ``tenant_name`` (created if new); returns (tenant id, key id)."""
        with self.db.write() as s:
            tenant = s.scalars(select(Tenant).where(Tenant.name == tenant_name)).first()
            if tenant is None:
                tenant = Tenant(id=new_id("ten"), name=tenant_name)
                s.add(tenant)
                s.flush()
            key = ApiKey(id=new_id("key"), tenant_id=tenant.id, key_hash=key_hash, prefix=prefix)
            s.add(key)
            return tenant.id, key.id

    def tenant_for_key_hash(self, key_hash: str) -> str | None:
        """The tenant id owning an active key with this hash, or None."""
        with self.db.read() as s:
            return s.scalars(select(ApiKey.tenant_id).where(
                ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))).first()

    # --- conversations ---------------------------------------------------------------------

    def create_conversation(self, tenant_id: str, metadata: dict[str, Any]) -> ConversationRow:
        now = utcnow()
        row = ConversationRow(id=new_id("conv"), tenant_id=tenant_id, meta=metadata,
                              rep_id=metadata.get("rep_id"), created_at=now, updated_at=now,
                              n_turns=0, latest_probability=None)
        with self.db.write() as s:
            s.add(row)
        return row

    @staticmethod
    def _get(s: Session, tenant_id: str, conv_id: str) -> ConversationRow | None:
        return s.scalars(select(ConversationRow).where(
            ConversationRow.id == conv_id, ConversationRow.tenant_id == tenant_id)).first()

    def get_conversation(self, tenant_id: str, conv_id: str) -> ConversationRow | None:
        with self.db.read() as s:
            return self._get(s, tenant_id, conv_id)

    def get_timeline(self, tenant_id: str, conv_id: str
                     ) -> tuple[ConversationRow, list[RowMapping]] | None:
        """The conversation and all its turns in order, or None if this tenant has no such id."""
        with self.db.read() as s:
            conv = self._get(s, tenant_id, conv_id)
            if conv is None:
                return None
            return conv, self._turns(s.connection(), conv_id)

    def list_conversations(self, tenant_id: str, flt: ListFilter, limit: int,
                           cursor: str | None = None) -> tuple[list[ConversationRow], str | None]:
        """Newest first; returns one page and the cursor of the next one (None at the end)."""
        c = ConversationRow
        q = select(c).where(c.tenant_id == tenant_id)
        if flt.rep_id is not None:
            q = q.where(c.rep_id == flt.rep_id)
        if flt.created_after is not None:
            q = q.where(c.created_at >= flt.created_after)
        if flt.created_before is not None:
            q = q.where(c.created_at < flt.created_before)
        if flt.min_probability is not None:
            q = q.where(c.latest_probability >= flt.min_probability)
        if flt.max_probability is not None:
            q = q.where(c.latest_probability <= flt.max_probability)
        if cursor is not None:
            created, conv_id = decode_cursor(cursor)
            q = q.where(or_(c.created_at < created,
                            and_(c.created_at == created, c.id < conv_id)))
        q = q.order_by(c.created_at.desc(), c.id.desc()).limit(limit + 1)
        with self.db.read() as s:
            rows = list(s.scalars(q))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (encode_cursor(rows[-1]) if more and rows else None)

    # --- turns (Core, the hot path) -------------------------------------------------------

    def append_state(self, tenant_id: str, conv_id: str, key: str | None
                     ) -> tuple[int, dict[str, Any], RowMapping | None] | None:
        """(turn count, metadata, the turn stored under ``key`` or None), or None if this tenant
        has no such conversation."""
        c = CONVERSATIONS
        with self.db.read_conn() as conn:
            row = conn.execute(select(c.c.n_turns, c.c.metadata).where(
                c.c.id == conv_id, c.c.tenant_id == tenant_id)).first()
            if row is None:
                return None
            existing = self._by_key(conn, conv_id, key) if key is not None else None
            return row.n_turns, row.metadata, existing

    @staticmethod
    def _by_key(conn: Connection, conv_id: str, key: str) -> RowMapping | None:
        row = conn.execute(select(TURNS).where(TURNS.c.conversation_id == conv_id,
                                               TURNS.c.idempotency_key == key)).first()
        return row._mapping if row is not None else None

    def turn_by_key(self, conv_id: str, key: str) -> RowMapping | None:
        """The stored turn (a mapping of ``turns`` columns) appended under ``key``, or None."""
        with self.db.read_conn() as conn:
            return self._by_key(conn, conv_id, key)

    def turns(self, conv_id: str) -> list[RowMapping]:
        """Every stored turn of a conversation, in order (mappings of ``turns`` columns)."""
        with self.db.read_conn() as conn:
            return self._turns(conn, conv_id)

    @staticmethod
    def _turns(conn: Connection, conv_id: str) -> list[RowMapping]:
        rows = conn.execute(select(TURNS).where(TURNS.c.conversation_id == conv_id)
                            .order_by(TURNS.c.turn_index))
        return [r._mapping for r in rows]

    def append_turn(self, values: dict[str, Any]) -> None:
        """Insert a ``turns`` row (column -> value) as the next turn and update the summary.

        One durable transaction. Raises :class:`Conflict` when the index or the idempotency key
        is already taken, or the index is not the next one; nothing is written then.
        """
        values.setdefault("created_at", utcnow())
        try:
            with self.db.write_conn() as conn:
                self._insert_turns(conn, [values])
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None

    def append_turns(self, rows: Sequence[dict[str, Any]]) -> list[Exception | None]:
        """:meth:`append_turn` for several rows (of different conversations) in ONE durable
        transaction (group commit, see :mod:`salesrl.service.writer`); one outcome per row.

        If the group fails (a conflicting row, a lost race), it is rolled back and every row is
        retried in its own transaction, so each row gets its own outcome: None when stored,
        :class:`Conflict` when its index or key is taken, or the error that stopped it.
        """
        now = utcnow()
        for values in rows:
            values.setdefault("created_at", now)
        if len(rows) > 1:
            try:
                with self.db.write_conn() as conn:
                    self._insert_turns(conn, rows)
                return [None] * len(rows)
            except (IntegrityError, Conflict):
                pass  # one by one below
        out: list[Exception | None] = []
        for values in rows:
            try:
                self.append_turn(values)
                out.append(None)
            except Exception as exc:  # noqa: BLE001 - that row's caller gets it
                out.append(exc)
        return out

    @staticmethod
    def _insert_turns(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the rows and advance each conversation's summary; Conflict unless each row
        is its conversation's next turn (a conversation appears at most once)."""
        conn.execute(insert(TURNS), list(rows))
        summary = [{"cid": v["conversation_id"], "idx": v["turn_index"],
                    "n": v["turn_index"] + 1, "at": v["created_at"],
                    "p": v["prediction"]["probability"]} for v in rows]
        c = CONVERSATIONS
        done = conn.execute(
            update(c).where(c.c.id == bindparam("cid"), c.c.n_turns == bindparam("idx"))
            .values(n_turns=bindparam("n"), updated_at=bindparam("at"),
                    latest_probability=bindparam("p")),
            summary)
        if done.rowcount != len(rows):
            raise Conflict("a turn is not its conversation's next turn")
