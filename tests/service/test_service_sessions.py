"""The LRU of live sessions and the stream broker."""

from __future__ import annotations

import asyncio

import pytest

from salesrl.conversation import Metadata
from salesrl.service.broker import CLOSED, OVERFLOW, Broker
from salesrl.service.engine import BaselineEngine
from salesrl.service.sessions import SessionCache


def test_lru_evicts_least_recently_used() -> None:
    engine = BaselineEngine()
    cache = SessionCache(2)
    a, b, c = (engine.new_session(Metadata()) for _ in range(3))
    cache.put("a", a, 0)
    cache.put("b", b, 0)
    assert cache.get("a", 0) is a  # a is now the most recent
    cache.put("c", c, 0)
    assert "b" not in cache and "a" in cache and "c" in cache
    assert len(cache) == 2


def test_lru_turn_count_mismatch_is_a_miss() -> None:
    cache = SessionCache(4)
    s = BaselineEngine().new_session(Metadata())
    cache.put("a", s, 3)
    assert cache.get("a", 4) is None
    assert "a" not in cache  # a stale entry is dropped
    cache.put("a", s, 3)
    cache.evict("a")
    assert cache.get("a", 3) is None
    with pytest.raises(ValueError):
        SessionCache(0)


def test_broker_fans_out_and_cuts_off_slow_subscribers() -> None:
    async def main() -> None:
        broker = Broker(queue_size=2)
        fast, slow = broker.subscribe("c"), broker.subscribe("c")
        for i in range(2):
            broker.publish("c", {"i": i})
            assert (await fast.get()) == {"i": i}
        broker.publish("c", {"i": 2})  # slow has 2 queued: cut off
        assert (await slow.get()) is OVERFLOW
        assert slow.empty()
        assert broker.subscribers("c") == 1
        assert (await fast.get()) == {"i": 2}
        broker.close_all()
        assert (await fast.get()) is CLOSED
        assert broker.subscribers("c") == 0

    asyncio.run(main())
