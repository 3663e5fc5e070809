"""Scorer: one thread runs every engine call, queued turns are micro-batched, errors stay put."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from salesrl.conversation import Conversation, Metadata, Role, Turn
from salesrl.service.engine import BaselineEngine, EngineSession, TurnResult
from salesrl.service.scorer import Scorer, ScorerClosed


class _Probe:
    """Counts how many model calls run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1


class _Session:
    def __init__(self, probe: _Probe) -> None:
        self.probe = probe
        self.n = 0

    def add_turn(self, turn: Turn) -> TurnResult:
        self.probe.enter()
        time.sleep(0.002)
        self.probe.leave()
        if turn.text == "boom":
            raise ValueError("bad turn")
        self.n += 1
        return TurnResult(turn_index=self.n - 1, probability=0.5)


class _Engine:
    model_version = "probe"

    def __init__(self, batch: bool) -> None:
        self.probe = _Probe()
        self.batch_sizes: list[int] = []
        if batch:
            self.add_turns = self._add_turns

    def new_session(self, metadata: Metadata) -> _Session:
        return _Session(self.probe)

    def restore_session(self, turns: list[Turn], metadata: Metadata) -> _Session:
        s = self.new_session(metadata)
        for t in turns:
            s.add_turn(t)
        return s

    def score(self, conversations: Sequence[Conversation]) -> list[list[TurnResult]]:
        return []

    def _add_turns(self, items: Sequence[tuple[EngineSession, Turn]]
                   ) -> list[TurnResult | BaseException]:
        self.batch_sizes.append(len(items))
        out: list[TurnResult | BaseException] = []
        for s, t in items:
            try:
                out.append(s.add_turn(t))
            except ValueError as exc:
                out.append(exc)
        return out


def _turn(text: str = "hello") -> Turn:
    return Turn(role=Role.CUSTOMER, text=text)


def _hammer(scorer: Scorer, engine: _Engine, n_conv: int, n_turns: int
            ) -> dict[int, list[int]]:
    """``n_conv`` threads, each appending ``n_turns`` turns to its own session."""
    seen: dict[int, list[int]] = {}

    def worker(i: int) -> None:
        session = engine.new_session(Metadata())
        seen[i] = [scorer.add_turn(session, _turn()).turn_index for _ in range(n_turns)]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_conv)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return seen


@pytest.mark.parametrize("batch", [False, True])
def test_one_model_call_at_a_time_and_order_kept(batch: bool) -> None:
    engine = _Engine(batch)
    scorer = Scorer(engine, max_batch=4)
    seen = _hammer(scorer, engine, n_conv=8, n_turns=5)
    scorer.close()
    assert engine.probe.peak == 1
    assert seen == {i: list(range(5)) for i in range(8)}
    assert scorer.batched_turns_ == 40


def test_queued_turns_are_micro_batched() -> None:
    engine = _Engine(batch=True)
    scorer = Scorer(engine, max_batch=3)
    gate = threading.Event()
    blocker = threading.Thread(target=scorer.run, args=(lambda: gate.wait(5),))
    blocker.start()
    time.sleep(0.05)  # the worker now waits on the gate; the next turns queue up
    results: dict[int, int] = {}

    def worker(i: int) -> None:
        results[i] = scorer.add_turn(engine.new_session(Metadata()), _turn()).turn_index

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    gate.set()
    for t in threads + [blocker]:
        t.join(5)
    scorer.close()
    assert results == {i: 0 for i in range(5)}
    assert max(engine.batch_sizes) == 3 and sum(engine.batch_sizes) == 5


@pytest.mark.parametrize("batch", [False, True])
def test_a_failing_turn_fails_only_its_caller(batch: bool) -> None:
    engine = _Engine(batch)
    scorer = Scorer(engine)
    good = engine.new_session(Metadata())
    with pytest.raises(ValueError, match="bad turn"):
        scorer.add_turn(engine.new_session(Metadata()), _turn("boom"))
    assert scorer.add_turn(good, _turn()).turn_index == 0
    with pytest.raises(RuntimeError, match="nope"):
        scorer.run(lambda: (_ for _ in ()).throw(RuntimeError("nope")))
    assert scorer.run(lambda: 7) == 7
    scorer.close()


def test_closed_scorer_refuses_work_and_bad_batch_size() -> None:
    scorer = Scorer(BaselineEngine())
    session = BaselineEngine().new_session(Metadata())
    assert scorer.add_turn(session, _turn("sounds good, send the contract")).turn_index == 0
    scorer.close()
    with pytest.raises(ScorerClosed, match="closed"):
        scorer.run(lambda: 1)
    with pytest.raises(ValueError, match="max_batch"):
        Scorer(BaselineEngine(), max_batch=0)


class _PipelinedEngine(_Engine):
    """Prepares a batch (tags each text) on the intake thread, scores on the other."""

    def __init__(self) -> None:
        super().__init__(batch=True)
        self.threads: dict[str, set[str]] = {"prepare": set(), "score": set()}
        self.mismatches = 0
        self.add_turns = self._add_prepared  # type: ignore[assignment]

    def prepare_turns(self, turns: Sequence[Turn]) -> list[str]:
        self.threads["prepare"].add(threading.current_thread().name)
        time.sleep(0.002)
        return [t.text.upper() for t in turns]

    def _add_prepared(self, items: Sequence[tuple[EngineSession, Turn]],
                      prepared: list[str] | None = None) -> list[TurnResult | BaseException]:
        self.threads["score"].add(threading.current_thread().name)
        if prepared is None or prepared != [t.text.upper() for _, t in items]:
            self.mismatches += 1
        return self._add_turns(items)


def test_pipelined_engine_prepares_on_one_thread_and_scores_on_another() -> None:
    engine = _PipelinedEngine()
    scorer = Scorer(engine, max_batch=4)
    seen = _hammer(scorer, engine, n_conv=8, n_turns=5)
    calls = [scorer.run(lambda i=i: i) for i in range(3)]  # calls still answered, in order
    scorer.close()
    assert seen == {i: list(range(5)) for i in range(8)}
    assert calls == [0, 1, 2]
    assert engine.mismatches == 0  # every batch scored with what was prepared for it
    assert engine.probe.peak == 1  # sessions are still touched by one thread at a time
    assert engine.threads == {"prepare": {"salesrl-intake"}, "score": {"salesrl-scorer"}}
    assert scorer.batched_turns_ == 40
    with pytest.raises(ScorerClosed):
        scorer.run(lambda: 1)


def test_pipeline_falls_back_when_prepare_fails() -> None:
    engine = _PipelinedEngine()

    def broken(turns: Sequence[Turn]) -> list[str]:
        raise RuntimeError("embedding backend down")

    engine.prepare_turns = broken  # type: ignore[method-assign]
    scorer = Scorer(engine)
    assert scorer.add_turn(engine.new_session(Metadata()), _turn()).turn_index == 0
    scorer.close()
    assert engine.batch_sizes == []  # scored without a prepared batch: one by one
