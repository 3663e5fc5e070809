"""In-process fan-out of conversation updates to WebSocket subscribers.

One bounded queue per subscriber; a subscriber that falls ``queue_size`` updates behind is cut
off (it gets an ``overflow`` message and should reconnect, which sends a fresh snapshot) rather
than slowing the appends down. Updates reach only clients of this process: run one worker.
"""

from __future__ import annotations

import asyncio
from typing import Any

OVERFLOW: dict[str, Any] = {"type": "overflow", "detail": "client too slow; reconnect"}
CLOSED: dict[str, Any] = {"type": "closed", "detail": "server shutting down"}


class Broker:
    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._subs: dict[str, set[asyncio.Queue]] = {}

    def subscribe(self, key: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(self.queue_size + 1)
        self._subs.setdefault(key, set()).add(queue)
        return queue

    def unsubscribe(self, key: str, queue: asyncio.Queue) -> None:
        subs = self._subs.get(key)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subs[key]

    def publish(self, key: str, message: dict[str, Any]) -> None:
        for queue in list(self._subs.get(key, ())):
            if queue.qsize() >= self.queue_size:
                self._cut_off(key, queue, OVERFLOW)
            else:
                queue.put_nowait(message)

    def _cut_off(self, key: str, queue: asyncio.Queue, message: dict[str, Any]) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(message)
        self.unsubscribe(key, queue)

    def close_all(self) -> None:
        for key, subs in list(self._subs.items()):
            for queue in list(subs):
                self._cut_off(key, queue, CLOSED)

    def subscribers(self, key: str) -> int:
        return len(self._subs.get(key, ()))
