"""Conversation-reading bases of the confidence evaluation and the cached split predictions."""

from __future__ import annotations

import numpy as np
import pytest
from confidence_helpers import inputs_of, make_conversations

from salesrl.confidence import ConfidenceModel
from salesrl.conversation import Turn
from salesrl.evaluation.confidence_bases import LinearAgentBase, RegisteredAgentBase
from salesrl.evaluation.confidence_eval import (
    BaggedLogistic,
    evaluate_variants,
    predict_base,
    split_predictions,
)


def test_linear_base_reads_prefixes_only(builder) -> None:
    convs = make_conversations(40, seed=7)
    inp = inputs_of(builder, convs)
    base = LinearAgentBase(convs, builder.layout).fit(inp.rows, inp.labels, inp.conv)
    p, m = predict_base(base, inp.rows, inp.conv)
    assert p.shape == (len(inp),) and m.shape == (len(inp), 1)
    assert np.all((p > 0) & (p < 1)) and p.std() > 0
    # changing the last turn of conversation 0 leaves its earlier predictions unchanged
    other = [c.model_copy(deep=True) for c in convs]
    other[0].turns[-1] = Turn(role=other[0].turns[-1].role, text="completely different words")
    inp2 = inputs_of(builder, other)
    base2 = LinearAgentBase(other, builder.layout)
    base2.lexical_, base2.linear_ = base.lexical_, base.linear_
    p2, _ = predict_base(base2, inp2.rows, inp2.conv)
    n0 = len(convs[0].turns)
    np.testing.assert_allclose(p2[: n0 - 1], p[: n0 - 1], rtol=1e-5)
    assert p2[n0 - 1] != pytest.approx(p[n0 - 1], rel=1e-6)


def test_bases_name_a_conversation_with_missing_rows(builder) -> None:
    convs = make_conversations(20, seed=8)
    inp = inputs_of(builder, convs)
    base = LinearAgentBase(convs, builder.layout)
    with pytest.raises(ValueError, match="whole conversations"):
        base.fit(inp.rows[1:], inp.labels[1:], inp.conv[1:])


def test_registered_agent_base_uses_given_rows_and_encodes_the_rest(builder) -> None:
    from salesrl.agent import TrainConfig
    from salesrl.agent.predictor import AgentPredictor

    convs = make_conversations(24, seed=9)
    inp = inputs_of(builder, convs)
    encoded: list[int] = []

    def encode_many(cs):
        encoded.append(len(cs))
        return builder.encode_many(cs)

    def make():  # the registered recipe's shape, with a tiny budget
        cfg = TrainConfig.preset("fast", use_ppo=False, ws_epochs=1, ensemble_size=2,
                                 retrieval=False)
        return AgentPredictor(builder.encode, builder.layout, cfg, lexical=True,
                              small_data=True)

    base = RegisteredAgentBase(convs, encode_many, make).fit(inp.rows, inp.labels, inp.conv)
    # only the counter-examples the recipe derives were encoded, not the given conversations
    assert encoded and sum(encoded) < 2 * len(convs)
    assert base.predictor_.agent_.config_.linear_base  # the small-data narrowing applied
    p, m = predict_base(base, inp.rows, inp.conv)
    assert p.shape == (len(inp),) and m.shape == (len(inp), 2)
    assert np.all((p > 0) & (p < 1))


def test_split_predictions_are_cached_and_checked(builder, tmp_path) -> None:
    inp = inputs_of(builder, make_conversations(40, seed=10))
    tr, te = np.arange(30), np.arange(30, 40)
    calls = []

    def factory():
        calls.append(1)
        return BaggedLogistic(n_members=2, C=1.0, state_dim=builder.state_dim)

    first = split_predictions(inp, (0, 0, tr, te), factory, 2, tmp_path)
    n_fits = len(calls)
    again = split_predictions(inp, (0, 0, tr, te), factory, 2, tmp_path)
    assert len(calls) == n_fits == 3  # 2 inner folds + the refit; none on the second call
    for k in ("oof_p", "oof_m", "inner", "p", "m"):
        np.testing.assert_array_equal(first[k], again[k])
    assert split_predictions(inp, (0, 1, tr, te), None, 2, tmp_path) is None
    with pytest.raises(ValueError, match="inner"):
        split_predictions(inp, (0, 0, tr, te), factory, 3, tmp_path)


def test_evaluation_reports_full_dialogues_and_reads_the_cache(builder, tmp_path) -> None:
    inp = inputs_of(builder, make_conversations(60, seed=11))

    def factory():
        return BaggedLogistic(n_members=2, C=1.0, state_dim=builder.state_dim)

    variants = {"all": lambda: ConfidenceModel(state_dim=builder.state_dim, max_rows=400,
                                               max_turns=200)}
    rep = evaluate_variants(inp, base_factory=factory, variants=variants, n_splits=2,
                            inner_folds=2, cache_dir=tmp_path)["all"]
    full = rep["full_dialogue"]
    assert {"top50", "aurc", "interval", "gain_top50_vs_all"} <= set(full)
    assert rep["protocol"]["splits_evaluated"] == 2
    again = evaluate_variants(inp, base_factory=factory, variants=variants, n_splits=2,
                              inner_folds=2, cache_dir=tmp_path, cached_only=True)["all"]
    assert again["aurc"] == rep["aurc"]
    one = evaluate_variants(inp, base_factory=factory, variants=variants, n_splits=2,
                            inner_folds=2, cache_dir=tmp_path, cached_only=True,
                            only_splits=[1])["all"]
    assert one["protocol"]["splits_evaluated"] == 1
    assert one["aurc"]["mean"] == rep["folds"][1]["aurc"]
    with pytest.raises(ValueError, match="no split"):
        evaluate_variants(inp, base_factory=factory, variants=variants, n_splits=2,
                          inner_folds=2, cache_dir=tmp_path / "empty", cached_only=True)
