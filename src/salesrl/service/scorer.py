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

Pipeline: an engine with ``prepare_turns`` (see :class:`~salesrl.service.engine.PipelinedEngine`;
the agent embeds the batch's texts there) gets a second thread. The intake thread drains the
queue into a batch and runs ``prepare_turns`` on it; the scoring thread runs ``add_turns`` with
what was prepared. Preparing touches no session, and the embedding model releases the GIL, so
batch *k + 1* is embedded on one core while batch *k* is scored on the other (on 2 cores the
serial scorer left one core mostly idle outside the embedding). At most two prepared batches
wait, so under load the intake thread blocks and the next batch grows instead.
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


@dataclass
class _Prepared:
    """A batch of turn jobs and what the engine prepared for it (None: prepare failed)."""

    jobs: list[_Job]
    prepared: Any = None


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
        # the pipeline's second stage (engines with prepare_turns): prepared batches and calls
        self._prepare = getattr(engine, "prepare_turns", None)
        self._ready: queue.Queue[_Job | _Prepared | None] = queue.Queue(maxsize=2)
        self._scoring_thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self.batches_ = 0  # number of worker iterations that scored turns
        self.batched_turns_ = 0  # turns scored through those iterations

    # --- callers ---------------------------------------------------------------------------

    def _on_worker(self) -> bool:
        return threading.current_thread() in (self._thread, self._scoring_thread)

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the scorer thread and return its result (re-raising its error)."""
        if self._on_worker():
            return fn()
        return self._submit(_Job(fn=fn)).result()

    def add_turn(self, session: EngineSession, turn: Turn) -> TurnResult:
        """``session.add_turn(turn)`` on the scorer thread, batched with other queued turns."""
        if self._on_worker():
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
        if thread is not None and not self._on_worker():
            self._queue.put(None)
            thread.join(timeout)
            if self._scoring_thread is not None:
                self._scoring_thread.join(timeout)

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
                    if self._prepare is not None:
                        scoring = threading.Thread(target=self._scoring_loop,
                                                   name="salesrl-scorer", daemon=True)
                        scoring.start()
                        self._scoring_thread = scoring
                    thread = threading.Thread(
                        target=self._loop, daemon=True,
                        name="salesrl-scorer" if self._prepare is None else "salesrl-intake")
                    thread.start()
                    self._thread = thread

    def _loop(self) -> None:
        """The intake: drain queued jobs into batches, in arrival order."""
        while True:
            job = self._queue.get()
            if job is None:
                self._end_scoring()
                return
            if job.fn is not None:
                self._call(job)
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
                    self._batch(turns)
                    turns = []
                    self._call(nxt)
                    break
                turns.append(nxt)
            if turns:
                self._batch(turns)
            if stop:
                self._end_scoring()
                return

    def _call(self, job: _Job) -> None:
        if self._prepare is None:
            _settle(job.future, job.fn)  # type: ignore[arg-type]
        else:
            self._ready.put(job)

    def _batch(self, jobs: list[_Job]) -> None:
        if self._prepare is None:
            self._score(jobs)
            return
        try:
            prepared = self._prepare([j.turn for j in jobs])
        except Exception:  # noqa: BLE001 - add_turns then prepares itself, turn by turn
            prepared = None
        self._ready.put(_Prepared(jobs, prepared))

    def _end_scoring(self) -> None:
        """Tell the scoring thread (if any) to stop once the batches before it are scored."""
        if self._prepare is not None:
            self._ready.put(None)

    def _scoring_loop(self) -> None:
        """The pipeline's second stage: score prepared batches and run calls, in order."""
        while True:
            item = self._ready.get()
            if item is None:
                return
            if isinstance(item, _Prepared):
                self._score(item.jobs, item.prepared)
            else:
                _settle(item.future, item.fn)  # type: ignore[arg-type]

    def _score(self, jobs: Sequence[_Job], prepared: Any = None) -> None:
        self.batches_ += 1
        self.batched_turns_ += len(jobs)
        if self.on_batch is not None:
            self.on_batch(len(jobs))
        batch = getattr(self.engine, "add_turns", None)
        if batch is not None and (len(jobs) > 1 or prepared is not None):
            for job in jobs:
                job.future.set_running_or_notify_cancel()
            try:
                items = [(j.session, j.turn) for j in jobs]
                results = batch(items) if prepared is None else batch(items, prepared)
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
