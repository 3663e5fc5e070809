"""QueueWorker, the lifecycle shared by the scorer and the group writer: lazy start, groups of
what is already waiting (in order, at most ``limit``), items handled alone ending a group, the
stop signal behind the queued items, refusal after close."""

from __future__ import annotations

import threading
import time

import pytest

from salesrl.service.worker import QueueWorker


class _Closed(RuntimeError):
    pass


class _Log(QueueWorker[int]):
    """Records groups; negative items are handled alone; can be held on a gate."""

    closed_error = _Closed
    closed_message = "log closed"

    def __init__(self, limit: int) -> None:
        super().__init__(limit, "test-worker")
        self.events: list[object] = []
        self.gate = threading.Event()
        self.gate.set()
        self.threads: set[str] = set()

    def put(self, item: int) -> None:
        self._put(item)

    def _handle_group(self, items: list[int]) -> None:
        self.gate.wait(5)
        self.threads.add(threading.current_thread().name)
        self.events.append(list(items))

    def _alone(self, item: int) -> bool:
        return item < 0

    def _handle_alone(self, item: int) -> None:
        self.events.append(item)

    def _stopped(self) -> None:
        self.events.append("stopped")


def test_waiting_items_form_ordered_groups_that_an_alone_item_ends() -> None:
    log = _Log(limit=3)
    assert log._thread is None, "nothing starts before the first item"
    log.gate.clear()
    log.put(0)  # the worker takes it and waits on the gate
    time.sleep(0.05)
    for i in (1, 2, 3, 4, 5, -1, 6, 7):
        log.put(i)
    log.gate.set()
    assert log._shut(5)
    assert log.events == [[0], [1, 2, 3], [4, 5], -1, [6, 7], "stopped"]
    assert log.threads == {"test-worker"}
    assert log._thread is not None and not log._thread.is_alive()


def test_close_finishes_queued_items_then_refuses_new_ones() -> None:
    log = _Log(limit=8)
    assert not log._shut(1), "never started: nothing to join"
    log = _Log(limit=8)
    log.gate.clear()
    log.put(1)
    time.sleep(0.05)
    log.put(2)
    threading.Timer(0.1, log.gate.set).start()
    assert log._shut(5)
    assert log.events == [[1], [2], "stopped"]
    with pytest.raises(_Closed, match="log closed"):
        log.put(3)


def test_close_from_the_worker_thread_does_not_wait_on_itself() -> None:
    joined: list[bool] = []

    class _SelfClosing(_Log):
        def _handle_group(self, items: list[int]) -> None:
            joined.append(self._shut(5))
            super()._handle_group(items)

    w = _SelfClosing(limit=4)
    w.put(1)
    deadline = time.monotonic() + 5
    while not joined and time.monotonic() < deadline:
        time.sleep(0.01)
    assert joined == [False]
    assert w.events == [[1]]  # no stop signal was queued: the thread waits, a daemon
    with pytest.raises(_Closed):
        w.put(2)


def test_a_limit_under_one_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="max_things must be >= 1, got 0"):
        QueueWorker(0, "test-worker", "max_things")
