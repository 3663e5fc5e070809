"""TurnInputs, StructureTracker and the training reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from confidence_helpers import inputs_of, make_conversations

from salesrl.confidence import StructureTracker, TrainingReference, TurnInputs
from salesrl.confidence.inputs import tokens


def test_structure_tracker_running_values() -> None:
    s = StructureTracker()
    s.update("rep", "hello there", 0.0, 2.0)
    s.update("rep", "one two three four", 3.0, 5.0)
    v = s.update("customer", "ok", 9.0, 10.0)
    names = dict(zip(("n", "rep_share", "max_run", "mean_words", "last_words", "mean_gap",
                      "last_gap", "timed"), v, strict=True))
    assert names["n"] == 3 and names["max_run"] == 2 and names["last_words"] == 1
    assert names["rep_share"] == pytest.approx(2 / 3)
    assert names["mean_words"] == pytest.approx(7 / 3)
    assert names["mean_gap"] == pytest.approx((1.0 + 4.0) / 2) and names["last_gap"] == 4.0
    assert names["timed"] == 1.0
    untimed = StructureTracker()
    assert math.isnan(untimed.update("rep", "hi")[5])


def test_tokens_any_script() -> None:
    assert tokens("¿Qué tal? Ça va, 42 times!") == ["qué", "tal", "ça", "va", "times"]


def test_turn_inputs_checks_lengths(builder) -> None:
    convs = make_conversations(3, seed=0)
    inp = inputs_of(builder, convs)
    assert len(inp) == sum(len(c) for c in convs)
    assert inp.turn_index[: len(convs[0])].tolist() == list(range(len(convs[0])))
    with pytest.raises(ValueError, match="embeddings"):
        TurnInputs(inp.rows, inp.embeddings[:-1], inp.texts, inp.structure, inp.conv)
    with pytest.raises(ValueError, match="state rows"):
        TurnInputs.from_conversations(convs, [r[:-1] for r in builder.encode_many(convs)],
                                      builder.embed)
    sub = inp.subset_convs(np.array([2]))
    assert len(sub) == len(convs[2]) and set(sub.conv.tolist()) == {0}


def test_reference_recognises_its_own_material(builder, train_inputs) -> None:
    ref = TrainingReference(state_dim=builder.state_dim, max_rows=400).fit(train_inputs)
    nb = ref.neighbours(train_inputs.rows[ref_rows := slice(0, 5)])
    assert np.all(nb["nn_sim"] <= 1.0 + 1e-5) and np.all(nb["nn_density"] <= nb["nn_sim"])
    sim, gap = ref.turns(train_inputs.embeddings[ref_rows], train_inputs.turn_index[ref_rows])
    assert sim.min() > 0.99 and gap.mean() < 1.0
    n_tok, n_oov, foreign = ref.words(["Tell me more about it",
                                       "Quisiera hablar con usted sobre nuestro producto nuevo"])
    assert n_oov[0] == 0 and n_oov[1] == n_tok[1]
    assert ref.language_ == "en" and foreign[1] > 0.5 > foreign[0]
    z = ref.structure_z(train_inputs.structure)
    assert np.median(z) < 1.0
    odd = train_inputs.structure[:1].copy()
    odd[0, 3] = 500.0  # mean words per turn
    assert ref.structure_z(odd).max() > 5
    with pytest.raises(ValueError, match="columns"):
        ref.neighbours(np.zeros((1, 3)))


def test_trajectory_running_values() -> None:
    from salesrl.confidence.signals import Trajectory, batch_trajectory

    t = Trajectory()
    got = [t.update(p) for p in (0.6, 0.4, 0.3)]
    assert [round(g[0], 6) for g in got] == [0.0, 0.2, 0.1]
    assert [g[1] for g in got] == [0.0, 0.5, pytest.approx(1 / 3)]
    assert [g[2] for g in got] == pytest.approx([math.log1p(1), math.log1p(1), math.log1p(2)])
    batch = batch_trajectory(np.array([0.6, 0.4, 0.3, 0.9]), np.array([0, 0, 0, 1]))
    assert batch["flip_share"].tolist()[2:] == [pytest.approx(1 / 3), 0.0]
