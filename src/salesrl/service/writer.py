"""Group commit: one writer thread stores the waiting turns of many conversations per transaction.

A durable commit costs one fsync (SQLite WAL with ``synchronous=FULL``, or PostgreSQL's WAL
flush), which on a small machine's disk takes milliseconds and, committed one turn at a time,
capped throughput at about one turn per fsync. :class:`GroupWriter` owns a single thread that
takes *every* turn row queued while the previous commit was running and writes them in one
transaction (one fsync), the "group commit" of database logs (DeWitt et al., "Implementation
techniques for main memory database systems", SIGMOD 1984; PostgreSQL's ``commit_delay``).
Nothing waits on purpose: a group is whatever arrived during the last fsync.

The contract is unchanged: a caller's future resolves only after the transaction holding its
row committed, so an acknowledged turn is durable. ``write_many`` (see
:meth:`~salesrl.service.storage.repository.Repository.append_turns`) gives each row its own
outcome, so one conflicting row fails only its own caller. The thread's lifecycle (lazy start,
stop signal, drain, join) is :class:`~salesrl.service.worker.QueueWorker`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from salesrl.service.worker import QueueWorker

#: writes a group of rows; returns one outcome per row (None = stored, else its error)
WriteMany = Callable[[Sequence[dict[str, Any]]], Sequence[BaseException | None]]

_Row = tuple[dict[str, Any], Future]


class WriterClosed(RuntimeError):
    """The writer was closed; no more writes are taken."""


class GroupWriter(QueueWorker[_Row]):
    """A single thread committing queued rows in groups of up to ``max_group``."""

    closed_error = WriterClosed
    closed_message = "the writer is closed (the service is shutting down)"

    def __init__(self, write_many: WriteMany, max_group: int = 64,
                 on_group: Callable[[int], None] | None = None) -> None:
        super().__init__(max_group, "salesrl-writer", "max_group")
        self.write_many = write_many
        self.max_group = max_group
        self.on_group = on_group  # called with each group's size (metrics)
        self.groups_ = 0  # transactions committed (or tried)
        self.rows_ = 0  # rows handed to those transactions

    def submit(self, values: dict[str, Any]) -> Future:
        """Queue one row; the future resolves (None) once it is committed, or to its error.

        The future cannot be cancelled: once queued, the row is written.
        """
        future: Future = Future()
        future.set_running_or_notify_cancel()  # running from now on: cancel() is refused
        self._put((values, future))
        return future

    def write(self, values: dict[str, Any]) -> None:
        """:meth:`submit` and wait for the commit (re-raising the row's error)."""
        self.submit(values).result()

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the thread; later submits raise WriterClosed."""
        self._shut(timeout)

    def _handle_group(self, group: list[_Row]) -> None:
        """One transaction for the group; each row's future gets its own outcome."""
        self.groups_ += 1
        self.rows_ += len(group)
        if self.on_group is not None:
            self.on_group(len(group))
        try:
            outcomes: Sequence[BaseException | None] = self.write_many([v for v, _ in group])
            if len(outcomes) != len(group):
                raise RuntimeError(f"write_many gave {len(outcomes)} outcomes for "
                                   f"{len(group)} rows")
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            outcomes = [exc] * len(group)
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if outcome is None:
                future.set_result(None)
            else:
                future.set_exception(outcome)
