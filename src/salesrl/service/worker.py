"""The queue-worker lifecycle the service's two worker threads share.

:class:`~salesrl.service.scorer.Scorer` (micro-batched model calls) and
:class:`~salesrl.service.writer.GroupWriter` (group commit) each own one daemon thread that
takes items from a queue, started on the first item. :class:`QueueWorker` holds that part
once: the lazy start, refusing items after :meth:`QueueWorker._shut`, the stop signal (a
``None`` queued behind the items, so everything queued before it is still handled), the
join, and the drain that hands the subclass every item already waiting (up to ``limit``)
as one group. A hand-written queue rather than an executor: an executor cannot hand its
worker several queued jobs at once.

Subclasses implement :meth:`~QueueWorker._handle_group`, and may mark items that must be
handled on their own, in arrival order (:meth:`~QueueWorker._alone`: the scorer's calls end a
batch of turns), start helper threads with the worker (:meth:`~QueueWorker._start_helpers`)
and act once the stop signal is reached (:meth:`~QueueWorker._stopped`).
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

Item = TypeVar("Item")


class QueueWorker(Generic[Item]):
    """One lazily started daemon thread draining a queue in groups of up to ``limit``
    (``limit_name``: what the subclass calls it, in the error for a limit under 1)."""

    closed_error: type[RuntimeError] = RuntimeError
    closed_message = "the worker is closed"

    def __init__(self, limit: int, thread_name: str, limit_name: str = "limit") -> None:
        if limit < 1:
            raise ValueError(f"{limit_name} must be >= 1, got {limit}")
        self._limit = limit
        self._thread_name = thread_name
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    # --- for subclasses --------------------------------------------------------------------

    def _handle_group(self, items: list[Item]) -> None:
        """Handle items taken together (never empty, in arrival order)."""
        raise NotImplementedError

    def _alone(self, item: Item) -> bool:
        """Whether ``item`` is handled on its own (it ends the group waiting before it)."""
        return False

    def _handle_alone(self, item: Item) -> None:
        """Handle an item :meth:`_alone` marked."""
        raise NotImplementedError

    def _start_helpers(self) -> None:
        """Start threads the worker hands work to (called once, before the worker starts)."""

    def _stopped(self) -> None:
        """Called on the worker thread once the stop signal is reached."""

    def _on_worker(self) -> bool:
        """Whether the calling thread is one of this worker's own."""
        return threading.current_thread() is self._thread

    # --- lifecycle -------------------------------------------------------------------------

    def _put(self, item: Item) -> None:
        """Queue ``item`` (starting the thread on first use); refused once closed."""
        if self._closed:
            raise self.closed_error(self.closed_message)
        self._ensure_started()
        self._queue.put(item)

    def _shut(self, timeout: float) -> bool:
        """Refuse new items, let the queued ones finish, then stop and join the thread.

        Returns whether it joined (False: never started, or called from the worker itself).
        """
        self._closed = True
        thread = self._thread
        if thread is None or self._on_worker():
            return False
        self._queue.put(None)
        thread.join(timeout)
        return True

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._start_helpers()
                    thread = threading.Thread(target=self._loop, name=self._thread_name,
                                              daemon=True)
                    thread.start()
                    self._thread = thread

    def _loop(self) -> None:
        """Take an item, then what is already waiting (without waiting), in arrival order."""
        while True:
            item = self._queue.get()
            if item is None:
                break
            if self._alone(item):
                self._handle_alone(item)
                continue
            group, after, stop = [item], None, False
            while len(group) < self._limit:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                if self._alone(nxt):
                    after = nxt  # runs after the group, keeping arrival order
                    break
                group.append(nxt)
            self._handle_group(group)
            if after is not None:
                self._handle_alone(after)
            if stop:
                break
        self._stopped()
