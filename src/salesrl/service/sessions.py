"""A bounded LRU of live engine sessions, keyed by conversation id.

Each entry remembers how many turns its session has consumed; a lookup that expects another
count (the conversation moved on in another process, or an append failed half-way) is a miss,
and the caller rebuilds the session from storage with ``Engine.restore_session``. An entry also
holds the idempotency keys of the conversation's stored turns, so an append with a new key needs
no database read (a key stored meanwhile by another process makes the insert conflict, and the
caller falls back to reading storage).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from salesrl.service.engine import EngineSession


class Entry(NamedTuple):
    session: EngineSession
    n_turns: int
    owner: str | None  # the tenant id, so a hit never skips the tenant check
    keys: frozenset[str] | set[str] = frozenset()  # idempotency keys of the stored turns


class SessionCache:
    """Thread-safe LRU: ``get`` / ``put`` / ``evict``; at most ``capacity`` sessions."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, n_turns: int) -> EngineSession | None:
        """The session for ``key`` if it has consumed exactly ``n_turns`` turns."""
        item = self.get_entry(key, n_turns)
        return None if item is None else item.session

    def get_entry(self, key: str, n_turns: int) -> Entry | None:
        """The entry for ``key`` if its session has consumed exactly ``n_turns`` turns."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item.n_turns != n_turns:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item

    def peek(self, key: str) -> Entry | None:
        """The entry for ``key`` whatever its turn count (marked as recently used)."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, session: EngineSession, n_turns: int,
            owner: str | None = None, keys: frozenset[str] | set[str] = frozenset()) -> None:
        with self._lock:
            self._items[key] = Entry(session, n_turns, owner, keys)
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def evict(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items
