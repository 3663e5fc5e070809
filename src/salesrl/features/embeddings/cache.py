"""An embedding cache: an in-memory LRU in front of an optional SQLite file.

Entries are keyed by (backend name, model id, dim, sha256 of the text) and hold float32 bytes, so
vectors of different models never mix and the text itself is not stored. Conversations repeat
turns ("Thanks!", "Sounds good."), and a re-scored conversation repeats all of them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from salesrl.features.embeddings.base import EmbeddingBackend

__all__ = ["CacheStats", "CachedEmbedder"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    backend TEXT NOT NULL,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    text_sha256 BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (backend, model_id, dim, text_sha256)
) WITHOUT ROWID
"""


@dataclass
class CacheStats:
    """Running counts of texts looked up; a hit is served from memory or disk."""

    memory_hits: int = 0
    disk_hits: int = 0
    misses: int = 0

    @property
    def hits(self) -> int:
        return self.memory_hits + self.disk_hits

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (0.0 before any lookup)."""
        return self.hits / self.lookups if self.lookups else 0.0

    def update(self, memory_hits: int = 0, disk_hits: int = 0, misses: int = 0) -> None:
        """Add counts."""
        self.memory_hits += memory_hits
        self.disk_hits += disk_hits
        self.misses += misses


class CachedEmbedder(EmbeddingBackend):
    """Wrap a backend so each distinct text is embedded once.

    ``embed(texts)`` looks every text up in memory, then on disk, embeds the remaining distinct
    texts in one backend call, stores them, and returns rows in input order. It has the
    backend's ``name``, ``model_id`` and ``dim``, so it can stand wherever a backend does.
    One lock guards the LRU and the SQLite connection; the backend call runs outside it.

    Args:
        backend: the embedding backend.
        cache_path: SQLite file (created if missing, WAL mode); None keeps the cache in memory.
        memory_items: LRU capacity in vectors (0 disables the memory layer).
    """

    def __init__(
        self,
        backend: EmbeddingBackend,
        cache_path: Path | str | None = None,
        memory_items: int = 50_000,
    ) -> None:
        super().__init__()
        if memory_items < 0:
            raise ValueError("memory_items must be >= 0")
        self.backend = backend
        self.name, self.model_id, self.dim = backend.name, backend.model_id, backend.dim
        self.cache_path = Path(cache_path) if cache_path is not None else None
        self.memory_items = memory_items
        self._lock = threading.Lock()
        self._memory: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._db: sqlite3.Connection | None = None
        self._stats = CacheStats()

    # -- storage ------------------------------------------------------------------------------

    def _load(self) -> None:
        if self.cache_path is None:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.cache_path, timeout=30.0, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        db.commit()
        self._db = db

    def _remember(self, key: bytes, vector: np.ndarray) -> None:
        if not self.memory_items:
            return
        self._memory[key] = vector
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)

    def _disk_get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        if self._db is None or not keys:
            return {}
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                "SELECT text_sha256, vector FROM embeddings WHERE backend=? AND model_id=? "
                f"AND dim=? AND text_sha256 IN ({','.join('?' * len(chunk))})",
                (self.name, self.model_id, self.dim, *chunk),
            )
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype="<f4")
                if vector.shape == (self.dim,):  # ignore a damaged row: it is re-embedded
                    found[bytes(key)] = vector.astype(np.float32)
        return found

    def _disk_put(self, items: dict[bytes, np.ndarray]) -> None:
        if self._db is None or not items:
            return
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)",
                [
                    (self.name, self.model_id, self.dim, key, vec.astype("<f4").tobytes())
                    for key, vec in items.items()
                ],
            )

    # -- API ----------------------------------------------------------------------------------

    @staticmethod
    def text_key(text: str) -> bytes:
        """sha256 of the UTF-8 text (surrogates escaped)."""
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()

    def _embed(self, texts: list[str]) -> np.ndarray:
        keys = [self.text_key(t) for t in texts]
        distinct = list(dict.fromkeys(keys))
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for key in distinct:
                if key in self._memory:
                    self._memory.move_to_end(key)
                    found[key] = self._memory[key]
            from_disk = self._disk_get([k for k in distinct if k not in found])
            for key, vec in from_disk.items():
                self._remember(key, vec)
            found.update(from_disk)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}  # distinct misses
        if todo:
            fresh = self.backend.embed(list(todo.values()))
            new = {key: row.copy() for key, row in zip(todo, fresh, strict=True)}
            for vec in new.values():
                vec.setflags(write=False)
            with self._lock:
                for key, vec in new.items():
                    self._remember(key, vec)
                self._disk_put(new)
            found.update(new)
        # Per text: a miss is a distinct text sent to the backend; its repeats in the same call
        # and texts found in memory are memory hits; texts read from SQLite are disk hits.
        disk_hits = sum(1 for k in keys if k in from_disk)
        with self._lock:
            self._stats.update(
                memory_hits=len(keys) - disk_hits - len(todo), disk_hits=disk_hits, misses=len(todo)
            )
        return np.stack([found[k] for k in keys])

    def stats(self) -> CacheStats:
        """A snapshot of the running hit/miss counts."""
        with self._lock:
            return replace(self._stats)

    def __len__(self) -> int:
        """Vectors held in memory."""
        return len(self._memory)

    def clear_memory(self) -> None:
        """Drop the in-memory layer (the SQLite file is kept)."""
        with self._lock:
            self._memory.clear()

    def close(self) -> None:
        """Close the SQLite connection; a later ``embed`` reopens it."""
        with self._lock, self._load_lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._loaded = False

    def __enter__(self) -> CachedEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
