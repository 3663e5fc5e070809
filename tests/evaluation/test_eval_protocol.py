from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Self

import numpy as np
import pytest

from salesrl.conversation import Conversation, DataError, Outcome, Turn
from salesrl.evaluation.baselines.engineered import GBMPredictor
from salesrl.evaluation.baselines.tfidf import TfidfPredictor
from salesrl.evaluation.predictor import ConversionPredictor
from salesrl.evaluation.protocol import cv_splits, evaluate, prefix_length, requested_lengths


@pytest.mark.parametrize(("n", "f", "k"), [
    (4, 0.25, 1), (10, 0.25, 3), (1, 0.25, 1), (2, 0.5, 1), (3, 0.5, 2), (30, 0.1, 3),
    (20, 0.75, 15), (7, 1.0, 7),
])
def test_prefix_length(n: int, f: float, k: int) -> None:
    assert prefix_length(n, f) == k


@pytest.mark.parametrize(("n", "f"), [(0, 0.5), (5, 0.0), (5, 1.5)])
def test_prefix_length_rejects(n: int, f: float) -> None:
    with pytest.raises(ValueError):
        prefix_length(n, f)


def test_requested_lengths_deduplicated() -> None:
    assert requested_lengths(8) == list(range(1, 9))
    assert requested_lengths(40, max_turn=30) == [*range(1, 31), 40]
    assert requested_lengths(40, max_turn=0) == [10, 20, 30, 40]


class Spy(ConversionPredictor):
    """Records what the harness hands over."""

    instances: list[Spy] = []

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        Spy.instances.append(self)
        self.fitted_ = list(conversations)
        self.asked_: list[Conversation] = []
        return self

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        self.asked_.extend(prefixes)
        return np.full(len(prefixes), 0.5)


def test_spy_sees_only_clean_prefixes(annotated_convs: list[Conversation]) -> None:
    Spy.instances = []
    by_id = {c.id: c for c in annotated_convs}
    evaluate({"spy": Spy}, annotated_convs, n_splits=4, repeats=2, max_turn=5)
    assert len(Spy.instances) == 8  # a fresh predictor per fold
    assert len({id(s) for s in Spy.instances}) == 8
    for spy in Spy.instances:
        train_ids = {c.id for c in spy.fitted_}
        asked = Counter((p.id, len(p)) for p in spy.asked_)
        assert asked and max(asked.values()) == 1  # each prefix asked once per fold
        test_ids = {i for i, _ in asked}
        assert not train_ids & test_ids
        assert train_ids | test_ids == set(by_id)
        for cid in test_ids:
            want = requested_lengths(len(by_id[cid]), max_turn=5)
            assert sorted(k for i, k in asked if i == cid) == want
        for p in spy.asked_:
            full = by_id[p.id]
            assert 1 <= len(p) <= len(full)
            assert p.outcome is Outcome.UNKNOWN
            assert all(t.annotations is None for t in p.turns)
            assert [(t.role, t.text) for t in p.turns] == \
                [(t.role, t.text) for t in full.turns[: len(p)]]
    # the originals were not stripped in place
    assert all(t.annotations is not None for c in annotated_convs for t in c.turns)


def _alter_future(convs: list[Conversation], cut: dict[str, int]) -> list[Conversation]:
    out = []
    for c in convs:
        k = cut[c.id]
        turns = list(c.turns[:k]) + [
            Turn(role=t.role, text="Yes, sign me up, great value! $99 ok?" if c.label == 0
                 else "No, too expensive, not interested.")
            for t in c.turns[k:]]
        out.append(c.model_copy(update={"turns": turns}))
    return out


@pytest.mark.parametrize("factory", [TfidfPredictor, GBMPredictor])
def test_future_turns_cannot_change_earlier_predictions(factory: type, make_convs) -> None:
    train = make_convs(40, seed=3)
    test = make_convs(16, seed=4, min_turns=6, prefix="t")
    cut = {c.id: len(c) // 2 for c in test}
    altered = _alter_future(test, cut)
    a = evaluate({"m": factory}, train, test=test, max_turn=12).folds[0].predictions["m"]
    b = evaluate({"m": factory}, train, test=altered, max_turn=12).folds[0].predictions["m"]
    changed = 0
    for conv, pa, pb in zip(test, a, b, strict=True):
        assert pa.keys() == pb.keys()
        for k in pa:
            if k <= cut[conv.id]:
                assert pa[k] == pb[k], (conv.id, k)
            else:
                changed += pa[k] != pb[k]
    assert changed > 0  # the alteration does reach the later prefixes


def test_splits_never_share_a_conversation(convs: list[Conversation]) -> None:
    splits = cv_splits(convs)
    assert len(splits) == 15
    ids = np.array([c.id for c in convs])
    for r in range(3):
        tested = Counter()
        for s in (s for s in splits if s.repeat == r):
            assert not set(ids[s.train]) & set(ids[s.test])
            assert len(s.train) + len(s.test) == len(convs)
            tested.update(ids[s.test])
        assert set(tested) == set(ids) and set(tested.values()) == {1}
    first = [frozenset(ids[s.test]) for s in splits if s.repeat == 0]
    second = [frozenset(ids[s.test]) for s in splits if s.repeat == 1]
    assert set(first) != set(second)  # seeds differ


def test_splits_are_stratified(make_convs) -> None:
    convs = make_convs(60, seed=5)
    y = np.array([c.label for c in convs])
    for s in cv_splits(convs, n_splits=5, repeats=2):
        expected = y.sum() * len(s.test) / len(y)
        assert abs(y[s.test].sum() - expected) <= 1


def test_train_test_split_rejects_shared_ids(convs: list[Conversation]) -> None:
    with pytest.raises(DataError, match="both the training and the test"):
        evaluate(["base_rate"], convs[:30], test=convs[25:])


def test_too_few_of_a_class_is_a_data_error(convs: list[Conversation]) -> None:
    few = [c for c in convs if c.label == 0] + [c for c in convs if c.label == 1][:2]
    with pytest.raises(DataError, match="smaller class has 2"):
        cv_splits(few, n_splits=5)


def test_duplicate_ids_rejected(convs: list[Conversation]) -> None:
    with pytest.raises(DataError, match="duplicate"):
        cv_splits([*convs, convs[0]])


def test_bad_predictions_are_refused(convs: list[Conversation]) -> None:
    class Bad(Spy):
        def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
            return np.full(len(prefixes), 1.5)

    with pytest.raises(ValueError, match="outside"):
        evaluate({"bad": Bad}, convs, n_splits=2, repeats=1)
