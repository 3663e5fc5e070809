"""ConfidenceModel: outputs, prefix-only, streaming == batch, persistence, errors, OOD."""

from __future__ import annotations

import numpy as np
import pytest
from confidence_helpers import inputs_of, make_conversations, oof_proba

from salesrl.confidence import SIGNAL_GROUPS, ConfidenceModel, TurnInputs
from salesrl.conversation import Conversation, Outcome, Turn

SPANISH = ["Buenos días, le llamo de parte de nuestra empresa de software",
           "No estoy seguro, el precio me parece bastante alto para nosotros",
           "Podemos ofrecerle un descuento especial durante el primer año",
           "Entonces envíeme la propuesta por correo y la revisamos con calma"]


@pytest.fixture(scope="module")
def test_inputs(builder) -> TurnInputs:
    return inputs_of(builder, make_conversations(20, seed=7, prefix="t"))


def test_outputs_are_well_formed(fitted, test_inputs) -> None:
    p, m = oof_proba(test_inputs, seed=3)
    a = fitted.assess_batch(test_inputs, p, m)
    assert len(a) == len(test_inputs)
    assert np.all((a.confidence >= 0) & (a.confidence <= 1))
    assert np.all((a.lower <= p + 1e-12) & (p - 1e-12 <= a.upper))
    assert np.all((a.lower >= 0) & (a.upper <= 1))
    for i in np.flatnonzero(a.abstain):
        assert isinstance(a.reasons[i], str) and a.reasons[i]
    assert set(a.signals) == {n for g in SIGNAL_GROUPS.values() for n in g}
    one = a.item(0)
    assert one.interval == (a.lower[0], a.upper[0]) and one.to_dict()["probability"] == p[0]


def test_meta_model_learns_which_predictions_are_right(fitted, test_inputs) -> None:
    p, m = oof_proba(test_inputs, seed=4)
    a = fitted.assess_batch(test_inputs, p, m)
    correct = (p >= 0.5) == (test_inputs.labels == 1)
    top = np.argsort(-a.confidence)[: len(p) // 2]
    assert correct[top].mean() > correct.mean() + 0.05


def test_prefix_only(builder, fitted) -> None:
    conv = make_conversations(1, seed=11)[0]
    changed = conv.model_copy(deep=True)
    changed.turns[-1] = Turn(role=changed.turns[-1].role, text="Completely different ending",
                             start=changed.turns[-1].start, end=changed.turns[-1].end)
    a, b = (fitted.assess_batch(x, *oof_proba(x, seed=0)[:1]) for x in
            (inputs_of(builder, [conv]), inputs_of(builder, [changed])))
    np.testing.assert_array_equal(a.confidence[:-1], b.confidence[:-1])
    np.testing.assert_array_equal(a.upper[:-1], b.upper[:-1])


def test_streaming_equals_batch(builder, fitted, test_inputs) -> None:
    convs = make_conversations(3, seed=7, prefix="t")
    inp = inputs_of(builder, convs)
    p, m = oof_proba(inp, seed=5)
    batch = fitted.assess_batch(inp, p, m)
    i = 0
    for conv in convs:
        tracker = fitted.new_tracker()
        for turn in conv.turns:
            got = tracker.update(turn, inp.rows[i], p[i], m[i], inp.embeddings[i])
            assert got.confidence == pytest.approx(batch.confidence[i], abs=1e-6)
            assert got.interval[1] == pytest.approx(batch.upper[i], abs=1e-6)
            assert got.abstain == batch.abstain[i] and got.reason == batch.reasons[i]
            i += 1


def test_save_load_round_trip(fitted, test_inputs, tmp_path) -> None:
    fitted.save(tmp_path / "model")
    assert sorted(f.name for f in (tmp_path / "model").iterdir()) == [
        "confidence.json", "confidence.safetensors"]
    again = ConfidenceModel.load(tmp_path / "model")
    p, m = oof_proba(test_inputs, seed=6)
    a, b = fitted.assess_batch(test_inputs, p, m), again.assess_batch(test_inputs, p, m)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-12)
    assert a.reasons == b.reasons
    with pytest.raises(FileNotFoundError, match="no confidence model"):
        ConfidenceModel.load(tmp_path / "missing")


def test_bad_input_errors(fitted, train_inputs, test_inputs) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        ConfidenceModel().assess_batch(test_inputs, np.zeros(len(test_inputs)))
    with pytest.raises(ValueError, match="probabilities for"):
        fitted.assess_batch(test_inputs, np.zeros(3))
    with pytest.raises(ValueError, match="unknown confidence signal group"):
        ConfidenceModel(groups=["vibes"]).fit(train_inputs, np.zeros(len(train_inputs)))
    with pytest.raises(ValueError, match="out-of-fold probabilities"):
        ConfidenceModel().fit(train_inputs, np.zeros(2))


def test_ablation_uses_only_chosen_groups(builder, train_inputs, test_inputs) -> None:
    p, m = oof_proba(train_inputs)
    model = ConfidenceModel(["prediction", "ensemble"], state_dim=builder.state_dim,
                            n_folds=3, max_rows=300).fit(train_inputs, p, m)
    a = model.assess_batch(test_inputs, *oof_proba(test_inputs, seed=2))
    assert set(a.signals) == {"margin", "side", "log_turn", "member_std",
                              "member_disagree"}
    assert not np.isfinite(model.ood_threshold_)
    assert all(r is None or r.startswith("low confidence") for r in a.reasons)


def test_foreign_conversation_is_flagged(builder, fitted) -> None:
    turns = [Turn(role="rep" if i % 2 == 0 else "customer", text=t, start=4.0 * i,
                  end=4.0 * i + 2) for i, t in enumerate(SPANISH)]
    conv = Conversation(id="es", turns=turns, outcome=Outcome.CONVERTED)
    inp = inputs_of(builder, [conv])
    a = fitted.assess_batch(inp, np.full(len(inp), 0.8))
    home = inputs_of(builder, make_conversations(5, seed=9, prefix="h"))
    b = fitted.assess_batch(home, np.full(len(home), 0.8))
    assert a.ood_score[-1] > np.quantile(b.ood_score, 0.9)
    assert a.abstain[-1] and a.confidence[-1] < b.confidence.mean()
    assert any(w in a.reasons[-1] for w in ("language", "unfamiliar"))


def test_mondrian_bins_cover_each_turn_count_bin(builder, train_inputs, tmp_path) -> None:
    p, m = oof_proba(train_inputs)
    model = ConfidenceModel(state_dim=builder.state_dim, n_folds=3, max_rows=300,
                            conformal_bins=3).fit(train_inputs, p, m)
    assert len(model.conformal_qs_) == len(model.conformal_edges_) + 1 > 1
    # each bin's quantile is its own: a bin of turns 1..k gets a different q from later turns
    assert len(set(np.round(model.conformal_qs_, 12))) > 1
    n_turns = train_inputs.structure[:, 0]
    bins = np.searchsorted(model.conformal_edges_, n_turns, side="right")
    assert np.array_equal(model._band(n_turns), model.conformal_qs_[bins])
    model.save(tmp_path / "m")
    again = ConfidenceModel.load(tmp_path / "m")
    np.testing.assert_array_equal(again.conformal_qs_, model.conformal_qs_)
    a, b = (x.assess_batch(train_inputs, p, m) for x in (model, again))
    np.testing.assert_allclose(a.lower, b.lower, atol=1e-12)


def test_old_files_use_the_global_quantile(fitted, test_inputs, tmp_path) -> None:
    import json

    assert fitted.conformal_bins == 4 and len(fitted.conformal_qs_) > 1
    fitted.save(tmp_path / "m")
    meta_path = tmp_path / "m" / "confidence.json"
    meta = json.loads(meta_path.read_text())
    for k in ("conformal_edges", "conformal_qs"):  # as written before the bins existed
        del meta[k]
    del meta["params"]["conformal_bins"]
    meta_path.write_text(json.dumps(meta))
    old = ConfidenceModel.load(tmp_path / "m")
    np.testing.assert_array_equal(old.conformal_qs_, [old.conformal_q_])
    p, m = oof_proba(test_inputs, seed=8)
    a = old.assess_batch(test_inputs, p, m)
    sigma = 1.1 - a.confidence
    np.testing.assert_allclose(a.lower, np.clip(p - old.conformal_q_ * sigma, 0, 1), atol=1e-12)
    np.testing.assert_allclose(a.upper, np.clip(p + old.conformal_q_ * sigma, 0, 1), atol=1e-12)


def test_only_the_leading_state_columns_matter(builder, train_inputs, fitted, test_inputs
                                               ) -> None:
    """Why ``fit_agent_confidence`` may keep only ``state_dim`` columns of the rows: a model
    fitted and applied on the cut rows answers exactly as on the full ones."""
    d = builder.state_dim
    assert train_inputs.rows.shape[1] > d  # the full rows carry the turn window too

    def cut(x: TurnInputs) -> TurnInputs:
        return TurnInputs(x.rows[:, :d], x.embeddings, x.texts, x.structure, x.conv,
                          x.labels)

    p, m = oof_proba(train_inputs)
    lean = ConfidenceModel(state_dim=d, n_folds=3, max_rows=500, max_turns=200).fit(
        cut(train_inputs), p, m)
    tp, tm = oof_proba(test_inputs, seed=3)
    full, short = fitted.assess_batch(test_inputs, tp, tm), lean.assess_batch(cut(test_inputs),
                                                                              tp, tm)
    np.testing.assert_array_equal(full.confidence, short.confidence)
    np.testing.assert_array_equal(full.lower, short.lower)
