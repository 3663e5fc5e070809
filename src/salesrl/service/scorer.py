"""One scorer thread per service: the model never runs twice at once.

Concurrent requests that each ran the model in their own worker thread made throughput *fall*
with concurrency on a small machine (the embedding model's intra-op threads and the ensemble
members of every request competed for the same cores). :class:`Scorer` owns a single worker
thread that runs every engine call (``add_turn``, ``restore_session``, ``score``) in arrival
order. Callers (the service's request threads) block on the result, so a turn is still
acknowledged only after the caller has stored it.

Micro-batching: when several turns are waiting, the worker takes up to ``max_batch`` queued
turn jobs at once and, if the engine has ``add_turns`` (see
:class:`~salesrl.service.engine.BatchEngine`), scores them with one call (the agent embeds all
their texts in one embedding call). Jobs are drained in order, and one conversation never has
two turns in flight (the service's per-conversation lock), so per-conversation order holds.
A hand-written queue rather than ``ThreadPoolExecutor``: an executor cannot hand its worker
several queued jobs at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from salesrl.conversation import Turn
from salesrl.service.engine import Engine, EngineSession, TurnResult

T = TypeVar("T")


@dataclass
class _Job:
    """A call to run (``fn``) or a turn to score (``session`` + ``turn``)."""

    fn: Callable[[], Any] | None = None
    session: EngineSession | None = None
    turn: Turn | None = None
    future: Future = field(default_factory=Future)


class ScorerClosed(RuntimeError):
    """The scorer was closed; no more engine calls are taken."""


class Scorer:
    """A single worker thread running every call to ``engine``, micro-batching turns."""

    def __init__(self, engine: Engine, max_batch: int = 16,
                 on_batch: Callable[[int], None] | None = None) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.engine = engine
        self.max_batch = max_batch
        self.on_batch = on_batch  # called with each scored batch's size (metrics)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self.batches_ = 0  # number of worker iterations that scored turns
        self.batched_turns_ = 0  # turns scored through those iterations

    # --- callers ---------------------------------------------------------------------------

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the scorer thread and return its result (re-raising its error)."""
        if threading.current_thread() is self._thread:
            return fn()
        return self._submit(_Job(fn=fn)).result()

    def add_turn(self, session: EngineSession, turn: Turn) -> TurnResult:
        """``session.add_turn(turn)`` on the scorer thread, batched with other queued turns."""
        if threading.current_thread() is self._thread:
            return session.add_turn(turn)
        return self.submit_turn(session, turn).result()

    def submit_turn(self, session: EngineSession, turn: Turn) -> Future:
        """Queue ``session.add_turn(turn)`` without waiting: a future of its TurnResult (an
        event loop awaits it with ``asyncio.wrap_future``, no thread of its own blocked)."""
        return self._submit(_Job(session=session, turn=turn))

    def close(self, timeout: float = 5.0) -> None:
        """Finish the queued jobs, then stop the thread; later calls raise ScorerClosed."""
        self._closed = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            self._queue.put(None)
            thread.join(timeout)

    # --- the worker ------------------------------------------------------------------------

    def _submit(self, job: _Job) -> Future:
        if self._closed:
            raise ScorerClosed("the scorer is closed (the service is shutting down)")
        self._ensure_started()
        self._queue.put(job)
        return job.future

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    thread = threading.Thread(target=self._loop, name="salesrl-scorer",
                                              daemon=True)
                    thread.start()
                    self._thread = thread

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job.fn is not None:
                _settle(job.future, job.fn)
                continue
            turns = [job]
            stop = False
            # Drain what is already waiting: turns join the batch; a call ends it (it runs
            # after the batch, keeping arrival order); the stop sentinel ends the loop.
            while len(turns) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                if nxt.fn is not None:
                    self._score(turns)
                    turns = []
                    _settle(nxt.future, nxt.fn)
                    break
                turns.append(nxt)
            if turns:
                self._score(turns)
            if stop:
                return

    def _score(self, jobs: Sequence[_Job]) -> None:
        self.batches_ += 1
        self.batched_turns_ += len(jobs)
        if self.on_batch is not None:
            self.on_batch(len(jobs))
        batch = getattr(self.engine, "add_turns", None)
        if batch is not None and len(jobs) > 1:
            for job in jobs:
                job.future.set_running_or_notify_cancel()
            try:
                results = batch([(j.session, j.turn) for j in jobs])
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                for job in jobs:
                    job.future.set_exception(exc)
                return
            for job, res in zip(jobs, results, strict=True):
                if isinstance(res, BaseException):
                    job.future.set_exception(res)
                else:
                    job.future.set_result(res)
            return
        for job in jobs:
            session, turn = job.session, job.turn
            assert session is not None and turn is not None
            _settle(job.future, lambda s=session, t=turn: s.add_turn(t))


def _settle(future: Future, fn: Callable[[], Any]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn()
    except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
        future.set_exception(exc)
    else:
        future.set_result(result)
