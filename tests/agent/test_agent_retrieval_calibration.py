"""Retrieval features (exact k-NN, leave-one-conversation-out) and post-hoc calibration."""

from __future__ import annotations

import numpy as np
import pytest

from salesrl.agent.calibration import fit_calibrator, fit_platt, fit_temperature
from salesrl.agent.retrieval import RetrievalIndex


def test_retrieval_excludes_the_query_conversation() -> None:
    rng = np.random.default_rng(0)
    # conversation "a": 5 near-identical positive rows; "b".."e": negatives further away
    a = np.ones((5, 4)) + 0.01 * rng.normal(size=(5, 4))
    others = np.vstack([np.ones((5, 4)) * 0.5 + 0.3 * rng.normal(size=(5, 4)) for _ in range(4)])
    states = np.vstack([a, others])
    labels = np.array([1] * 5 + [0] * 20)
    ids = np.array(["a"] * 5 + [c for c in "bcde" for _ in range(5)], dtype=object)
    idx = RetrievalIndex(k=3, proj_dim=0, metric="l2").fit(states, labels, ids)
    leaky = idx.transform(a)
    loo = idx.transform(a, np.array(["a"] * 5, dtype=object))
    assert np.allclose(leaky[:, 0], 1.0) and np.allclose(leaky[:, 1], 1.0)
    assert np.allclose(loo[:, 0], 0.0) and np.allclose(loo[:, 1], 0.0)
    assert (loo[:, 2] < leaky[:, 2]).all()
    # an unknown id excludes nothing
    np.testing.assert_allclose(idx.transform(a, np.array(["zz"] * 5, dtype=object)), leaky)


def test_retrieval_matches_brute_force_cosine_knn() -> None:
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 10))
    y = (rng.random(300) < 0.4).astype(float)
    idx = RetrievalIndex(k=7, proj_dim=4, metric="cosine").fit(x, y)
    q = rng.normal(size=(20, 10))
    feats = idx.transform(q)
    nn = NearestNeighbors(n_neighbors=7, metric="cosine").fit(idx.vectors_)
    dist, ind = nn.kneighbors(idx._project(q))
    np.testing.assert_allclose(feats[:, 0], y[ind].mean(1), atol=1e-6)
    np.testing.assert_allclose(feats[:, 2], 1 - dist[:, 0], atol=1e-5)
    assert feats.shape == (20, 3)


def test_retrieval_subsamples_to_max_rows_and_roundtrips() -> None:
    rng = np.random.default_rng(2)
    idx = RetrievalIndex(k=5, proj_dim=3, max_rows=50).fit(rng.normal(size=(200, 6)),
                                                           rng.integers(0, 2, 200))
    assert idx.vectors_.shape == (50, 3)
    again = RetrievalIndex.from_arrays(idx.params(), idx.to_arrays())
    q = rng.normal(size=(9, 6))
    np.testing.assert_allclose(again.transform(q), idx.transform(q))


def _logits(rng: np.random.Generator, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    true = rng.normal(0, 2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-true))).astype(float)
    return true, y


def test_temperature_and_platt_recover_known_distortions() -> None:
    rng = np.random.default_rng(0)
    true, y = _logits(rng)
    assert fit_temperature(3.0 * true, y) == pytest.approx(3.0, rel=0.15)
    a, b = fit_platt(true - 1.5, y)
    assert a == pytest.approx(1.0, abs=0.15) and b == pytest.approx(1.5, abs=0.2)


def test_calibration_choice_by_validation_brier() -> None:
    rng = np.random.default_rng(1)
    true, y = _logits(rng)
    groups = np.arange(len(y)) // 10
    overconfident = fit_calibrator(3.0 * true, y, groups)
    assert overconfident.method in ("temperature", "platt")
    assert overconfident.slope == pytest.approx(1 / 3, rel=0.2)
    assert overconfident.cv_brier["temperature"] < overconfident.cv_brier["none"]
    shifted = fit_calibrator(true + 2.0, y, groups)
    assert shifted.method == "platt"  # a temperature cannot remove a shift
    assert shifted.cv_brier["platt"] < shifted.cv_brier["temperature"]
    assert fit_calibrator(true, y, groups, method="temperature").method == "temperature"
    assert fit_calibrator(true, np.ones_like(y), groups).method == "none"
    with pytest.raises(ValueError):
        fit_calibrator(true, y, groups, method="isotonic")  # type: ignore[arg-type]


def test_stack_calibrator_weighs_an_extra_evidence_column() -> None:
    from salesrl.agent.calibration import Calibrator, fit_calibrator

    rng = np.random.default_rng(0)
    n = 2000
    y = (rng.random(n) < 0.5).astype(float)
    evidence = (2 * y - 1) * 1.5 + rng.normal(size=n)  # strong, and unknown to z
    z = 0.3 * (2 * y - 1) + rng.normal(size=n)
    cal = fit_calibrator(z, y, np.arange(n), "auto", extra=evidence[:, None])
    assert cal.method == "stack" and cal.extra_weights[0] > 0.5
    assert cal.cv_brier["stack"] < cal.cv_brier["platt"]
    back = Calibrator.from_dict(cal.to_dict())
    assert np.allclose(back.apply(z, evidence[:, None]), cal.apply(z, evidence[:, None]))
    members = np.column_stack([z, z])
    assert back.apply(members, evidence[:, None]).shape == (n, 2)
    assert fit_calibrator(z, y, np.arange(n), "auto").method != "stack"  # no extra: no stack


def _turn_distorted(rng: np.random.Generator, n: int = 4000
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logits whose over-confidence shrinks with the turn count: ``z = true * 3 / (1 + t)``
    scaled so early rows are over- and late rows under-confident."""
    t = rng.integers(1, 20, n)
    true = rng.normal(0, 2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-true))).astype(float)
    lt = np.log1p(t).astype(float)
    z = true * (3.0 / lt)  # the right slope is lt / 3: it grows with the turn count
    return z, y, lt


def test_turn_aware_platt_fixes_a_slope_that_moves_with_the_turn() -> None:
    from salesrl.agent.calibration import Calibrator

    rng = np.random.default_rng(2)
    z, y, lt = _turn_distorted(rng)
    groups = np.arange(len(y)) // 10
    cal = fit_calibrator(z, y, groups, log_turns=lt)
    assert cal.method == "platt_turn" and cal.uses_turns
    assert cal.cv_brier["platt_turn"] < cal.cv_brier["platt"] - 0.002
    assert cal.turn_weights[0] == pytest.approx(1 / 3, abs=0.1)  # the slope's turn term
    cal.turn_column = 5
    back = Calibrator.from_dict(cal.to_dict())
    assert back.turn_column == 5
    assert np.allclose(back.apply(z, None, lt), cal.apply(z, None, lt))
    assert back.apply(np.column_stack([z, z]), None, lt).shape == (len(z), 2)
    with pytest.raises(ValueError, match="log_turns"):
        cal.apply(z)
    # without turn counts the turn-aware maps are not candidates; asked for, a clear error
    assert not fit_calibrator(z, y, groups).uses_turns
    with pytest.raises(ValueError, match="turn counts"):
        fit_calibrator(z, y, groups, method="platt_turn")
    # a saved calibrator from before the turn-aware maps loads as before
    old = {"method": "platt", "slope": 0.5, "intercept": 0.1, "cv_brier": {}}
    assert not Calibrator.from_dict(old).uses_turns


def test_turn_aware_stack_reads_both_extra_and_turns() -> None:
    rng = np.random.default_rng(3)
    z, y, lt = _turn_distorted(rng)
    evidence = (2 * y - 1) * 1.5 + rng.normal(size=len(y))
    cal = fit_calibrator(z, y, np.arange(len(y)) // 10, extra=evidence[:, None], log_turns=lt)
    assert cal.method == "stack_turn"
    assert len(cal.extra_weights) == 1 and len(cal.turn_weights) == 2
    assert set(cal.cv_brier) == {"none", "temperature", "platt", "stack", "platt_turn",
                                 "stack_turn"}


def test_retrieval_near_ties_do_not_depend_on_float_noise() -> None:
    """Many training prefixes share one state (the same opening line): which of them are the
    k nearest must not follow the 1e-7 noise of a matrix product, or a query would get other
    features alone than in a batch."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=8)
    x = np.vstack([base + 1e-7 * rng.normal(size=(60, 8)), rng.normal(size=(200, 8))])
    y = np.concatenate([np.arange(60) % 2, rng.integers(0, 2, 200)]).astype(float)
    idx = RetrievalIndex(k=10, proj_dim=0, metric="cosine").fit(x, y)
    feats = np.stack([idx.transform(base + 1e-7 * rng.normal(size=(1, 8)))[0]
                      for _ in range(20)])
    np.testing.assert_allclose(feats, np.repeat(feats[:1], 20, axis=0), atol=1e-5)
