"""The meta-model's candidates and their selection on validation folds."""

from __future__ import annotations

import json

import numpy as np
from confidence_helpers import inputs_of, make_conversations, oof_proba

from salesrl.confidence import SIGNAL_GROUPS, ConfidenceModel
from salesrl.confidence.meta import SELECT_C, MetaSpec, candidates, select
from salesrl.confidence.signals import OOD_SIGNALS


def test_candidates_stay_within_the_enabled_signals() -> None:
    enabled = [*SIGNAL_GROUPS["prediction"], *SIGNAL_GROUPS["novelty"]]
    assert len(candidates(enabled, True, 1.0, select=False)) == 1
    specs = candidates(enabled, True, 1.0, select=True)
    sets = {s.names for s in specs}
    assert sets == {tuple(enabled), SIGNAL_GROUPS["prediction"]}
    assert len(specs) == len(sets) * 2 * len(SELECT_C)


def test_select_prefers_the_signal_that_predicts_errors() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    margin = rng.uniform(0, 0.5, n)
    correct = (rng.random(n) < 0.5 + margin).astype(int)
    sig = {"margin": margin, "noise": rng.normal(size=n)}
    folds = rng.integers(0, 4, n)
    specs = [*candidates(["margin", "noise"], True, 1.0, select=True),
             MetaSpec(("noise",), False, 1.0)]
    best, cf, losses = select(sig, specs, correct, folds)
    assert "margin" in best.names and losses[specs.index(best)] == min(losses)
    assert losses[-1] > min(losses) + 0.01  # noise alone is clearly worse
    assert np.corrcoef(cf, margin)[0, 1] > 0.8


def test_selected_model_round_trips_and_keeps_every_ood_signal(builder, tmp_path) -> None:
    inp = inputs_of(builder, make_conversations(60, seed=12))
    p, m = oof_proba(inp)
    model = ConfidenceModel(state_dim=builder.state_dim, n_folds=3, max_rows=500,
                            max_turns=200, select=True).fit(inp, p, m)
    assert set(model.meta_names_) <= set(model.signal_names_)
    assert model.ood_names_ == list(OOD_SIGNALS)
    assert model.validation_["candidates"] > 1
    a = model.assess_batch(inp, p, m)
    back = ConfidenceModel.load(model.save(tmp_path / "c"))
    assert back.meta_names_ == model.meta_names_ and back.C_ == model.C_
    np.testing.assert_allclose(back.assess_batch(inp, p, m).confidence, a.confidence)
    # an artifact written before selection existed reads as "every signal, given C"
    meta = json.loads((tmp_path / "c" / "confidence.json").read_text())
    for key in ("meta_names", "meta_interactions", "meta_C"):
        meta.pop(key)
    old = tmp_path / "old"
    old.mkdir()
    (old / "confidence.json").write_text(json.dumps(meta))
    (old / "confidence.safetensors").write_bytes(
        (tmp_path / "c" / "confidence.safetensors").read_bytes())
    legacy = ConfidenceModel.load(old)
    assert legacy.meta_names_ == legacy.signal_names_ and legacy.C_ == 1.0
