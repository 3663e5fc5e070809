"""CachedEmbedder: each distinct text embedded once, across calls, instances and threads."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from salesrl.features.embeddings import CachedEmbedder, EmbeddingBackend


class Counting(EmbeddingBackend):
    """A fake backend: deterministic vectors from the text's hash, and a log of every call."""

    def __init__(self, name: str = "fake", model_id: str = "fake-1", dim: int = 8) -> None:
        super().__init__()
        self.name, self.model_id, self.dim = name, model_id, dim
        self.calls: list[list[str]] = []

    def _embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        seeds = [
            int.from_bytes(hashlib.sha256((self.name + t).encode()).digest()[:4]) for t in texts
        ]
        return np.stack([np.random.default_rng(s).normal(size=self.dim) for s in seeds])

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def test_repeated_texts_are_embedded_once_and_rows_stay_in_order() -> None:
    backend = Counting()
    cache = CachedEmbedder(backend)
    texts = ["hi", "price?", "hi", "deal", "price?"]
    out = cache.embed(texts)
    assert backend.calls == [["hi", "price?", "deal"]]  # one call, deduplicated
    np.testing.assert_allclose(out, Counting().embed(texts), atol=1e-6)
    again = cache.embed(["deal", "new", "hi"])
    assert backend.calls[1] == ["new"]
    np.testing.assert_allclose(again[[0, 2]], out[[3, 0]])
    stats = cache.stats()
    assert (stats.misses, stats.hits, stats.lookups) == (4, 4, 8)
    assert stats.hit_rate == pytest.approx(0.5)


def test_returned_rows_are_copies() -> None:
    cache = CachedEmbedder(Counting())
    first = cache.embed(["x"])
    first[:] = 0
    assert np.linalg.norm(cache.embed(["x"])) == pytest.approx(1.0)


def test_disk_cache_survives_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "emb.sqlite"
    first_backend = Counting()
    with CachedEmbedder(first_backend, cache_path=path) as cache:
        expected = cache.embed(["a", "b"])
    second_backend = Counting()
    with CachedEmbedder(second_backend, cache_path=path) as cache:
        got = cache.embed(["b", "a", "c"])
        stats = cache.stats()
    assert second_backend.embedded == ["c"]
    np.testing.assert_allclose(got[:2], expected[::-1])
    assert (stats.disk_hits, stats.memory_hits, stats.misses) == (2, 0, 1)
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_key_separates_backends_and_models(tmp_path: Path) -> None:
    path = tmp_path / "emb.sqlite"
    a, b, c = Counting("alpha"), Counting("beta"), Counting("alpha", model_id="fake-2")
    va = CachedEmbedder(a, cache_path=path).embed(["same text"])
    vb = CachedEmbedder(b, cache_path=path).embed(["same text"])
    vc = CachedEmbedder(c, cache_path=path).embed(["same text"])
    assert a.embedded == b.embedded == c.embedded == ["same text"]
    assert not np.allclose(va, vb)
    rows = sqlite3.connect(path).execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    assert rows == 3
    np.testing.assert_allclose(vc, va)  # same fake vectors, but stored under its own key


def test_lru_keeps_at_most_memory_items() -> None:
    backend = Counting()
    cache = CachedEmbedder(backend, memory_items=2)
    cache.embed(["a", "b"])
    cache.embed(["a"])  # a is now most recent
    cache.embed(["c"])  # evicts b
    assert len(cache) == 2
    cache.embed(["a", "b"])
    assert backend.calls[-1] == ["b"]


def test_concurrent_callers_get_correct_rows(tmp_path: Path) -> None:
    backend = Counting()
    cache = CachedEmbedder(backend, cache_path=tmp_path / "emb.sqlite", memory_items=16)
    texts = [f"turn {i % 40}" for i in range(200)]
    expected = backend.embed(texts)
    backend.calls.clear()
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            chunk = texts[offset : offset + 50]
            np.testing.assert_allclose(
                cache.embed(chunk), expected[offset : offset + 50], atol=1e-6
            )
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(o,)) for o in (0, 50, 100, 150) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert set(backend.embedded) == set(texts)
    assert cache.stats().lookups == 400
