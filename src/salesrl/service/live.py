"""The service core: live conversations scored turn by turn, persisted before acknowledged.

An append runs, under the conversation's asyncio lock (one writer per conversation in this
process), as one worker-thread call: look the conversation up (scoped by tenant), answer a
retried idempotency key from storage, take the live session from the LRU (or rebuild it by
replaying the stored turns), score the turn, and commit turn + prediction in one durable
transaction. Only then is the result returned and pushed to the stream subscribers. A unique
constraint on (conversation_id, turn_index) backs the lock up across processes.

Every engine call (restore, add_turn, batch score) goes through the service's one
:class:`~salesrl.service.scorer.Scorer` thread, so the model never runs twice at once (on a
small machine, parallel model calls made throughput fall with concurrency); queued turns of
different conversations are scored in micro-batches. The request thread waits for its result,
then stores it, so storage writes overlap with the scoring of the next turns.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn
from salesrl.service.auth import hash_key
from salesrl.service.broker import Broker
from salesrl.service.engine import Engine, EngineSession, TurnResult
from salesrl.service.errors import ApiError
from salesrl.service.metrics import Metrics
from salesrl.service.schemas import (
    AppendResponse,
    ConversationDetail,
    ConversationSummary,
    Prediction,
    ScoreConversation,
    TurnIn,
    TurnOut,
)
from salesrl.service.scorer import Scorer
from salesrl.service.sessions import SessionCache
from salesrl.service.settings import Settings
from salesrl.service.storage import Database, Repository
from salesrl.service.storage.models import ConversationRow
from salesrl.service.storage.repository import Conflict, ListFilter


def request_hash(turn: TurnIn) -> str:
    """Fingerprint of an append request, to tell a retry from a reused idempotency key."""
    payload = turn.model_dump(mode="json", exclude={"idempotency_key"})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def not_found(conv_id: str) -> ApiError:
    return ApiError(404, "not_found", f"conversation {conv_id!r} not found", field="id")


def summary(row: ConversationRow) -> ConversationSummary:
    return ConversationSummary(id=row.id, created_at=row.created_at, updated_at=row.updated_at,
                               metadata=Metadata.model_validate(row.meta), n_turns=row.n_turns,
                               latest_probability=row.latest_probability)


def turn_out(row: Mapping[str, Any]) -> TurnOut:
    """A stored ``turns`` row (column -> value) as the API shows it."""
    return TurnOut(turn_index=row["turn_index"], role=Role(row["role"]), text=row["text"],
                   speaker=row["speaker"], start=row["start_s"], end=row["end_s"],
                   created_at=row["created_at"],
                   prediction=Prediction.model_validate(row["prediction"]))


def stored_turn(row: Mapping[str, Any]) -> Turn:
    return Turn.model_construct(role=Role(row["role"]), text=row["text"], speaker=row["speaker"],
                                start=row["start_s"], end=row["end_s"], annotations=None)


class LiveService:
    """Holds the engine, storage, session cache, locks and stream broker of one app."""

    def __init__(self, settings: Settings, db: Database, engine: Engine,
                 metrics: Metrics) -> None:
        self.settings = settings
        self.db = db
        self.repo = Repository(db)
        self.engine = engine
        self.scorer = Scorer(engine)
        self.metrics = metrics
        self.cache = SessionCache(settings.session_cache_size)
        self.broker = Broker(settings.stream_queue_size)
        self._auth_cache: dict[str, tuple[str, float]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    # --- auth ------------------------------------------------------------------------------

    async def authenticate(self, key: str | None) -> str | None:
        """The tenant id of an active API key, or None.

        Valid keys are remembered for ``auth_cache_seconds`` (so a key revoked in the database
        keeps working that long in a running server); unknown keys are never cached.
        """
        if not key or len(key) > 512:
            return None
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._auth_cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        tenant = await run_in_threadpool(self.repo.tenant_for_key_hash, digest)
        ttl = self.settings.auth_cache_seconds
        if tenant is not None and ttl > 0:
            if len(self._auth_cache) >= 10_000:
                self._auth_cache.clear()
            self._auth_cache[digest] = (tenant, now + ttl)
        return tenant

    # --- conversations ---------------------------------------------------------------------

    async def create(self, tenant_id: str, metadata: Metadata) -> str:
        row = await run_in_threadpool(self.repo.create_conversation, tenant_id,
                                      metadata.model_dump(mode="json"))
        return row.id

    async def timeline(self, tenant_id: str, conv_id: str) -> ConversationDetail:
        found = await run_in_threadpool(self.repo.get_timeline, tenant_id, conv_id)
        if found is None:
            raise not_found(conv_id)
        conv, turns = found
        return ConversationDetail(**summary(conv).model_dump(), turns=[turn_out(t) for t in turns])

    async def exists(self, tenant_id: str, conv_id: str) -> bool:
        row = await run_in_threadpool(self.repo.get_conversation, tenant_id, conv_id)
        return row is not None

    async def list(self, tenant_id: str, flt: ListFilter, limit: int, cursor: str | None
                   ) -> tuple[list[ConversationSummary], str | None]:
        rows, nxt = await run_in_threadpool(self.repo.list_conversations, tenant_id, flt, limit,
                                            cursor)
        return [summary(r) for r in rows], nxt

    # --- appends ---------------------------------------------------------------------------

    def _lock(self, conv_id: str) -> asyncio.Lock:
        lock = self._locks.get(conv_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conv_id] = lock
        return lock

    async def append(self, tenant_id: str, conv_id: str, turn: TurnIn
                     ) -> tuple[AppendResponse, bool]:
        """Score and store one turn; returns (result, replayed-from-idempotency-key)."""
        fingerprint = request_hash(turn)
        # The lock is held until the worker thread is done: anyio does not abandon a running
        # thread on cancellation, so two threads never touch one cached session at once.
        async with self._lock(conv_id):
            row, replayed = await run_in_threadpool(self._append_sync, tenant_id, conv_id, turn,
                                                    fingerprint)
            if replayed:
                self.metrics.idempotent_replays.inc()
            else:
                self.metrics.turns_scored.labels("live").inc()
                if self.broker.subscribers(conv_id):
                    self.broker.publish(conv_id, {"type": "turn", "conversation_id": conv_id,
                                                  "turn": turn_out(row).model_dump(mode="json")})
        return AppendResponse(conversation_id=conv_id, **row["prediction"]), replayed

    def _replay(self, existing: Mapping[str, Any], fingerprint: str, key: str
                ) -> tuple[Mapping[str, Any], bool]:
        if existing["request_hash"] != fingerprint:
            raise ApiError(409, "idempotency_key_reused",
                           f"idempotency_key {key!r} was already used for a different turn "
                           f"(turn {existing['turn_index']})", field="idempotency_key")
        return existing, True

    def _append_sync(self, tenant_id: str, conv_id: str, turn_in: TurnIn,
                     fingerprint: str) -> tuple[Mapping[str, Any], bool]:
        key = turn_in.idempotency_key
        entry = self.cache.peek(conv_id)
        if entry is not None and entry.owner == tenant_id:
            # Fast path: the cached session knows the turn count; the conversation row is not
            # read. If another process appended meanwhile, the insert conflicts and we fall
            # back to the slow path, which rebuilds the session from storage.
            if key is not None and (existing := self.repo.turn_by_key(conv_id, key)) is not None:
                return self._replay(existing, fingerprint, key)
            try:
                return self._score_and_store(tenant_id, conv_id, turn_in, fingerprint,
                                             entry.n_turns, entry.session, None), False
            except Conflict:
                pass
        state = self.repo.append_state(tenant_id, conv_id, key)
        if state is None:
            raise not_found(conv_id)
        n_turns, metadata, existing = state
        if existing is not None:
            return self._replay(existing, fingerprint, key or "")
        try:
            return self._score_and_store(tenant_id, conv_id, turn_in, fingerprint, n_turns,
                                         self.cache.get(conv_id, n_turns), metadata), False
        except Conflict:
            if key is not None and (existing := self.repo.turn_by_key(conv_id, key)) is not None:
                return self._replay(existing, fingerprint, key)
            raise ApiError(409, "conflict", "another writer appended to this conversation at "
                           "the same time; retry", field="turn_index") from None

    def _score_and_store(self, tenant_id: str, conv_id: str, turn_in: TurnIn, fingerprint: str,
                         index: int, session: EngineSession | None,
                         metadata: dict[str, Any] | None) -> dict[str, Any]:
        """Score turn ``index`` with ``session`` (rebuilt if None) and store it durably.

        Raises :class:`Conflict` (session evicted, nothing stored) if the index is taken.
        """
        limit = self.settings.max_turns_per_conversation
        if index >= limit:
            raise ApiError(409, "conversation_full",
                           f"conversation {conv_id!r} already has {index} turns "
                           f"(the limit is {limit})", field="turns")
        try:
            if session is None:
                self.metrics.cache_miss()
                if metadata is None:  # pragma: no cover - the fast path always has a session
                    raise Conflict("no session")
                with self.metrics.time_engine("restore"):
                    turns = [stored_turn(t) for t in self.repo.turns(conv_id)]
                    meta = Metadata.model_validate(metadata)
                    session = self.scorer.run(
                        lambda: self.engine.restore_session(turns, meta))
            else:
                self.metrics.cache_hit()
            with self.metrics.time_engine("add_turn"):
                result = self.scorer.add_turn(session, turn_in.to_turn())
            version = self.engine.model_version
            values = {"conversation_id": conv_id, "turn_index": index,
                      "role": turn_in.role.value, "text": turn_in.text,
                      "speaker": turn_in.speaker, "start_s": turn_in.start, "end_s": turn_in.end,
                      "idempotency_key": turn_in.idempotency_key, "request_hash": fingerprint,
                      "prediction": {**result.model_dump(mode="json"), "turn_index": index,
                                     "model_version": version},
                      "model_version": version}
            self.repo.append_turn(values)
        except BaseException:
            self.cache.evict(conv_id)
            raise
        self.cache.put(conv_id, session, index + 1, owner=tenant_id)
        self.metrics.cache_size.set(len(self.cache))
        return values

    # --- stateless scoring -----------------------------------------------------------------

    async def score(self, conversations: Sequence[ScoreConversation]) -> list[list[TurnResult]]:
        convs = [Conversation.model_construct(
            id=c.id or f"batch-{i}", turns=[t.to_turn() for t in c.turns],
            outcome=Outcome.UNKNOWN, metadata=c.metadata) for i, c in enumerate(conversations)]

        def run() -> list[list[TurnResult]]:
            with self.metrics.time_engine("score"):
                return self.scorer.run(lambda: self.engine.score(convs))

        results = await run_in_threadpool(run)
        self.metrics.turns_scored.labels("batch").inc(sum(len(c.turns) for c in convs))
        return results

    def close(self) -> None:
        self.broker.close_all()
        self.scorer.close()

    def stats(self) -> dict[str, Any]:
        return {"cached_sessions": len(self.cache)}
