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
The thread's lifecycle and the drain are :class:`~salesrl.service.worker.QueueWorker`'s.

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
from salesrl.service.worker import QueueWorker

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


class Scorer(QueueWorker[_Job]):
    """A single worker thread running every call to ``engine``, micro-batching turns."""

    closed_error = ScorerClosed
    closed_message = "the scorer is closed (the service is shutting down)"

    def __init__(self, engine: Engine, max_batch: int = 16,
                 on_batch: Callable[[int], None] | None = None) -> None:
        # the pipeline's second stage (engines with prepare_turns): prepared batches and calls
        self._prepare = getattr(engine, "prepare_turns", None)
        super().__init__(max_batch, "salesrl-scorer" if self._prepare is None
                         else "salesrl-intake", "max_batch")
        self.engine = engine
        self.max_batch = max_batch
        self.on_batch = on_batch  # called with each scored batch's size (metrics)
        self._ready: queue.Queue[_Job | _Prepared | None] = queue.Queue(maxsize=2)
        self._scoring_thread: threading.Thread | None = None
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
        if self._shut(timeout) and self._scoring_thread is not None:
            self._scoring_thread.join(timeout)

    # --- the worker (QueueWorker's drain: turns form batches, a call ends one) -------------

    def _submit(self, job: _Job) -> Future:
        self._put(job)
        return job.future

    def _start_helpers(self) -> None:
        if self._prepare is not None:
            scoring = threading.Thread(target=self._scoring_loop, name="salesrl-scorer",
                                       daemon=True)
            scoring.start()
            self._scoring_thread = scoring

    def _alone(self, job: _Job) -> bool:
        return job.fn is not None

    def _handle_alone(self, job: _Job) -> None:
        self._call(job)

    def _handle_group(self, jobs: list[_Job]) -> None:
        self._batch(jobs)

    def _stopped(self) -> None:
        self._end_scoring()

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
