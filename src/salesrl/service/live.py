"""The service core: live conversations scored turn by turn, persisted before acknowledged.

An append holds the conversation's asyncio lock (one writer per conversation in this process)
until its turn is committed. Fast path (the live session is cached, and the idempotency key, if
any, is not one of the conversation's stored keys, which the cache entry remembers): nothing is
read; the event loop hands the turn to the :class:`~salesrl.service.scorer.Scorer` thread, then
the scored row to the :class:`~salesrl.service.writer.GroupWriter` thread, and awaits both, so
no request thread is tied up. Slow path (one worker-thread call): look the conversation up
(scoped by tenant), answer a retried idempotency key from storage, rebuild the live session by
replaying the stored turns, then score and store the same way. Only after the commit is the
result returned and pushed to the stream subscribers. A unique constraint on
(conversation_id, turn_index) and on (conversation_id, idempotency_key) backs the lock up across
processes: a lost race conflicts and the append falls back to the slow path.

Every engine call (restore, add_turn, batch score) goes through the service's one scorer thread,
so the model never runs twice at once (on a small machine, parallel model calls made throughput
fall with concurrency); queued turns of different conversations are scored in micro-batches.
Every turn row goes through the one writer thread, which commits all the rows waiting for it in
one transaction (group commit: one fsync for many conversations' turns), so scoring the next
turns overlaps with the durable write of the previous ones.
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

from salesrl.conversation import Conversation, DataError, Metadata, Outcome, Role, Turn
from salesrl.service.auth import hash_key
from salesrl.service.broker import Broker
from salesrl.service.engine import Engine, TurnResult
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
from salesrl.service.sessions import Entry, SessionCache
from salesrl.service.settings import Settings
from salesrl.service.storage import Database, Repository
from salesrl.service.storage.models import ConversationRow
from salesrl.service.storage.repository import Conflict, ListFilter
from salesrl.service.writer import GroupWriter


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


def _consume(task: asyncio.Future) -> None:
    """Retrieve a shielded task's outcome, so an abandoned one logs no 'never retrieved'."""
    if not task.cancelled():
        task.exception()


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
        self.scorer = Scorer(engine, on_batch=metrics.score_batch.observe)
        self.writer = GroupWriter(self.repo.append_turns, on_group=metrics.commit_group.observe)
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

    def _check_metadata(self, metadata: Metadata, where: str = "metadata") -> None:
        """A 422 naming the field when the engine's model cannot read ``metadata``."""
        check = getattr(self.engine, "check_metadata", None)
        if check is None:
            return
        try:
            check(metadata)
        except DataError as exc:
            field = (exc.field or "metadata").replace("metadata", where, 1)
            raise ApiError(422, "invalid_metadata", exc.reason, field=field) from None

    async def create(self, tenant_id: str, metadata: Metadata) -> str:
        self._check_metadata(metadata)
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
        # A task shielded from the request's cancellation: once a turn is handed to the scorer
        # and the writer, the conversation's lock stays held until its commit resolved, so two
        # turns never touch one cached session at once and the next append sees this one.
        task = asyncio.ensure_future(self._append_locked(tenant_id, conv_id, turn, fingerprint))
        task.add_done_callback(_consume)
        row, replayed = await asyncio.shield(task)
        if replayed:
            self.metrics.idempotent_replays.inc()
        else:
            self.metrics.turns_scored.labels("live").inc()
            if self.broker.subscribers(conv_id):
                self.broker.publish(conv_id, {"type": "turn", "conversation_id": conv_id,
                                              "turn": turn_out(row).model_dump(mode="json")})
        return AppendResponse(conversation_id=conv_id, **row["prediction"]), replayed

    async def _append_locked(self, tenant_id: str, conv_id: str, turn: TurnIn,
                             fingerprint: str) -> tuple[Mapping[str, Any], bool]:
        async with self._lock(conv_id):
            entry = self.cache.peek(conv_id)
            key = turn.idempotency_key
            if (entry is not None and entry.owner == tenant_id
                    and (key is None or key not in entry.keys)):
                # Fast path, no thread of its own: the cached session knows the turn count and
                # the stored keys, so nothing is read; the turn goes to the scorer, then to the
                # group writer. If another process appended meanwhile, the insert conflicts
                # and the slow path rebuilds the session from storage.
                try:
                    return await self._score_and_store(tenant_id, conv_id, turn, fingerprint,
                                                       entry), False
                except Conflict:
                    pass
            return await run_in_threadpool(self._append_slow, tenant_id, conv_id, turn,
                                           fingerprint)

    def _replay(self, existing: Mapping[str, Any], fingerprint: str, key: str
                ) -> tuple[Mapping[str, Any], bool]:
        if existing["request_hash"] != fingerprint:
            raise ApiError(409, "idempotency_key_reused",
                           f"idempotency_key {key!r} was already used for a different turn "
                           f"(turn {existing['turn_index']})", field="idempotency_key")
        return existing, True

    def _check_room(self, conv_id: str, index: int) -> None:
        limit = self.settings.max_turns_per_conversation
        if index >= limit:
            raise ApiError(409, "conversation_full",
                           f"conversation {conv_id!r} already has {index} turns "
                           f"(the limit is {limit})", field="turns")

    def _row(self, conv_id: str, turn_in: TurnIn, fingerprint: str, index: int,
             result: TurnResult) -> dict[str, Any]:
        """The ``turns`` row (column -> value) of a scored turn."""
        version = self.engine.model_version
        return {"conversation_id": conv_id, "turn_index": index, "role": turn_in.role.value,
                "text": turn_in.text, "speaker": turn_in.speaker, "start_s": turn_in.start,
                "end_s": turn_in.end, "idempotency_key": turn_in.idempotency_key,
                "request_hash": fingerprint,
                "prediction": {**result.model_dump(mode="json"), "turn_index": index,
                               "model_version": version},
                "model_version": version}

    def _remember(self, tenant_id: str, conv_id: str, entry: Entry, key: str | None) -> None:
        """Cache the session after its turn was stored (one more turn, and its key)."""
        keys = entry.keys if isinstance(entry.keys, set) else set(entry.keys)
        if key is not None:
            keys.add(key)  # only under the conversation's lock
        self.cache.put(conv_id, entry.session, entry.n_turns + 1, owner=tenant_id, keys=keys)
        self.metrics.cache_size.set(len(self.cache))

    async def _score_and_store(self, tenant_id: str, conv_id: str, turn_in: TurnIn,
                               fingerprint: str, entry: Entry) -> dict[str, Any]:
        """Score turn ``entry.n_turns`` with the cached session and commit it (group commit),
        awaiting both on the event loop. Raises :class:`Conflict` (session evicted, nothing
        stored) if the index or the key is taken in storage."""
        index = entry.n_turns
        self._check_room(conv_id, index)
        self.metrics.cache_hit()
        try:
            with self.metrics.time_engine("add_turn"):
                result = await asyncio.wrap_future(
                    self.scorer.submit_turn(entry.session, turn_in.to_turn()))
            values = self._row(conv_id, turn_in, fingerprint, index, result)
            await asyncio.wrap_future(self.writer.submit(values))
        except BaseException:
            self.cache.evict(conv_id)
            raise
        self._remember(tenant_id, conv_id, entry, turn_in.idempotency_key)
        return values

    def _append_slow(self, tenant_id: str, conv_id: str, turn_in: TurnIn,
                     fingerprint: str) -> tuple[Mapping[str, Any], bool]:
        """An append that reads storage first (a worker thread): answers a stored idempotency
        key, and rebuilds the live session by replaying the stored turns when it is not cached
        (or is stale)."""
        key = turn_in.idempotency_key
        state = self.repo.append_state(tenant_id, conv_id, key)
        if state is None:
            raise not_found(conv_id)
        n_turns, metadata, existing = state
        if existing is not None:
            return self._replay(existing, fingerprint, key or "")
        self._check_room(conv_id, n_turns)
        try:
            entry = self.cache.get_entry(conv_id, n_turns)
            if entry is None or entry.owner != tenant_id:
                self.metrics.cache_miss()
                with self.metrics.time_engine("restore"):
                    rows = self.repo.turns(conv_id)
                    turns = [stored_turn(t) for t in rows]
                    meta = Metadata.model_validate(metadata)
                    session = self.scorer.run(lambda: self.engine.restore_session(turns, meta))
                entry = Entry(session, n_turns, tenant_id, {
                    t["idempotency_key"] for t in rows if t["idempotency_key"] is not None})
            else:
                self.metrics.cache_hit()
            with self.metrics.time_engine("add_turn"):
                result = self.scorer.add_turn(entry.session, turn_in.to_turn())
            values = self._row(conv_id, turn_in, fingerprint, n_turns, result)
            self.writer.write(values)
        except Conflict:
            self.cache.evict(conv_id)
            if key is not None and (existing := self.repo.turn_by_key(conv_id, key)) is not None:
                return self._replay(existing, fingerprint, key)
            raise ApiError(409, "conflict", "another writer appended to this conversation at "
                           "the same time; retry", field="turn_index") from None
        except BaseException:
            self.cache.evict(conv_id)
            raise
        self._remember(tenant_id, conv_id, entry, key)
        return values, False

    # --- stateless scoring -----------------------------------------------------------------

    async def score(self, conversations: Sequence[ScoreConversation]) -> list[list[TurnResult]]:
        for i, c in enumerate(conversations):
            self._check_metadata(c.metadata, f"conversations[{i}].metadata")
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
        self.writer.close()

    def stats(self) -> dict[str, Any]:
        return {"cached_sessions": len(self.cache)}
