"""The generated data set: determinism, schema, lengths, conversion rate, metadata, timing."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest

from salesrl.conversation import (
    Conversation,
    CustomerAct,
    DataError,
    RepAct,
    Role,
    read_jsonl,
    write_jsonl,
)
from salesrl.synth import SimulatorConfig, generate, generate_to_jsonl, iter_generate
from salesrl.synth.industries import load_industries


def test_same_seed_gives_byte_identical_jsonl(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    generate_to_jsonl(a, 300, seed=7)
    generate_to_jsonl(b, 300, seed=7)
    generate_to_jsonl(c, 300, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_first_conversations_do_not_depend_on_n() -> None:
    small = generate(5, seed=3, config=SimulatorConfig(batch_size=64))
    large = generate(70, seed=3, config=SimulatorConfig(batch_size=64))  # crosses a batch
    assert [c.model_dump() for c in small] == [c.model_dump() for c in large[:5]]
    assert len({c.id for c in large}) == 70


def test_jsonl_round_trip_validates_and_matches(tmp_path: Path) -> None:
    convs = generate(200, seed=1)
    written = tmp_path / "written.jsonl"
    streamed = tmp_path / "streamed.jsonl"
    assert write_jsonl(convs, written) == 200
    stats = generate_to_jsonl(streamed, 200, seed=1)
    assert stats.n == 200
    assert stats.converted == sum(c.label for c in convs)
    assert streamed.read_bytes() == written.read_bytes()  # the fast writer matches pydantic's
    back = read_jsonl(written, require_outcome=True)  # full pydantic validation
    again = read_jsonl(streamed, require_outcome=True)
    dumped = [c.model_dump() for c in convs]
    assert [c.model_dump() for c in back] == dumped
    assert [c.model_dump() for c in again] == dumped


def test_iter_generate_streams_the_same_conversations() -> None:
    assert ([c.model_dump() for c in iter_generate(20, seed=4)]
            == [c.model_dump() for c in generate(20, seed=4)])


def test_bad_arguments_raise_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="0 or more"):
        generate(-1, seed=0)
    with pytest.raises(DataError, match="seed"):
        generate(3, seed=-2)
    with pytest.raises(DataError, match="directory"):
        generate_to_jsonl(tmp_path, 3, seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        SimulatorConfig(batch_size=0)
    assert generate(0, seed=0) == []


def test_length_distribution(conversations: list[Conversation]) -> None:
    lengths = [len(c) for c in conversations]
    assert min(lengths) >= 3
    assert max(lengths) <= 27
    assert 7 <= statistics.median(lengths) <= 9
    assert len(set(lengths)) >= 15  # varied, not a handful of fixed lengths


def test_conversion_rate(conversations: list[Conversation], simulator) -> None:
    rate = np.mean([c.label for c in conversations])
    assert abs(rate - 0.44) <= 0.03
    assert abs(simulator.conversion_rate() - 0.44) < 0.005  # exact, from the DP tables


def test_metadata(conversations: list[Conversation]) -> None:
    industries = {c.metadata.industry for c in conversations}
    assert industries == {i.key for i in load_industries()}
    assert len(industries) == 15
    assert {c.metadata.source for c in conversations} == {"synthetic"}
    assert {c.metadata.channel for c in conversations} == {"phone", "video", "chat"}
    assert len({c.id for c in conversations}) == len(conversations)
    assert len({c.metadata.rep_id for c in conversations}) > 20
    products = {(c.metadata.industry, c.metadata.product) for c in conversations}
    assert len(products) == sum(len(i.products) for i in load_industries())


def test_act_labels_and_turn_order(conversations: list[Conversation]) -> None:
    rep_values = {a.value for a in RepAct}
    customer_values = {a.value for a in CustomerAct}
    seen_rep, seen_customer = set(), set()
    for conv in conversations:
        for k, turn in enumerate(conv.turns):
            assert turn.annotations is not None and len(turn.annotations.acts) == 1
            act = turn.annotations.acts[0]
            if k % 2 == 0:
                assert turn.role is Role.REP and act in rep_values
                seen_rep.add(act)
            else:
                assert turn.role is Role.CUSTOMER and act in customer_values
                seen_customer.add(act)
    assert seen_rep == rep_values
    assert seen_customer == customer_values


def test_reference_probabilities_on_every_turn(conversations: list[Conversation]) -> None:
    for conv in conversations:
        for turn in conv.turns:
            assert 0.0 <= turn.annotations.oracle <= 1.0
            assert 0.0 <= turn.annotations.bayes <= 1.0


def test_timestamps_increase(conversations: list[Conversation]) -> None:
    for conv in conversations:
        assert conv.turns[0].start == 0.0
        for prev, turn in zip(conv.turns, conv.turns[1:], strict=False):
            assert prev.start <= prev.end <= turn.start <= turn.end


def test_engaged_customers_answer_faster_and_longer(conversations: list[Conversation]) -> None:
    latency: dict[str, list[float]] = {}
    words: dict[str, list[int]] = {}
    for conv in conversations:
        if conv.metadata.channel == "chat":
            continue
        for prev, turn in zip(conv.turns, conv.turns[1:], strict=False):
            if turn.role is Role.CUSTOMER:
                act = turn.annotations.acts[0]
                latency.setdefault(act, []).append(turn.start - prev.end)
                words.setdefault(act, []).append(len(turn.text.split()))
    engaged = ["interest", "commitment", "question"]
    cold = ["stall", "rejection"]

    def med(d: dict, acts: list[str]) -> float:
        return float(np.median(sum((d[a] for a in acts), [])))

    assert med(latency, engaged) < 0.6 * med(latency, cold)
    assert med(words, engaged) > med(words, cold)
def test_untimed_share_drops_times_and_keeps_the_text() -> None:
    from salesrl.synth.config import SimulatorConfig

    timed = generate(120, 4)
    mixed = generate(120, 4, SimulatorConfig(untimed_share=0.5))
    untimed = [c for c in mixed if all(t.start is None and t.end is None for t in c.turns)]
    assert 30 < len(untimed) < 90  # about half, chosen per conversation
    assert all(t.start is not None for c in mixed if c not in untimed for t in c.turns)
    assert [[t.text for t in c.turns] for c in mixed] == [[t.text for t in c.turns]
                                                         for c in timed]
    assert generate(120, 4, SimulatorConfig(untimed_share=0.5)) == mixed  # deterministic
    with pytest.raises(ValueError, match="untimed_share"):
        SimulatorConfig(untimed_share=1.5)
