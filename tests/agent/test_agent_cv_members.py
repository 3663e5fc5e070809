"""``cv_members``: member k trains on all but fold k, and the calibrator is fitted on every
training conversation, each row scored by the one member that never saw it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import salesrl.agent.training as training
from salesrl.agent import ConversionAgent, Episodes, TrainConfig
from salesrl.agent.data import stratified_folds
from salesrl.agent.networks import member_logits


def test_folds_cover_every_conversation_once(toy_train: Episodes) -> None:
    folds = stratified_folds(toy_train, 3, seed=0)
    assert folds is not None and len(folds) == 3
    every = np.sort(np.concatenate(folds))
    np.testing.assert_array_equal(every, np.arange(len(toy_train)))
    rates = [toy_train.labels[f].mean() for f in folds]
    assert max(rates) - min(rates) < 0.05  # stratified by outcome
    few = Episodes(toy_train.obs[:4], np.array([1, 0, 0, 0]), toy_train.groups[:4],
                   toy_train.ids[:4], toy_train.layout)
    assert stratified_folds(few, 3, seed=0) is None  # one converted call: no 3 folds


def test_calibrator_reads_out_of_fold_logits_of_every_conversation(
        toy_train: Episodes, tiny: Callable[..., TrainConfig],
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, np.ndarray] = {}
    real = training.fit_calibrator

    def spy(z: np.ndarray, y: np.ndarray, groups: np.ndarray, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.update(z=np.asarray(z), y=np.asarray(y), groups=np.asarray(groups))
        return real(z, y, groups, *args, **kwargs)

    monkeypatch.setattr(training, "fit_calibrator", spy)
    cfg = tiny(use_ppo=False, ensemble_size=3, ws_epochs=4, cv_members=True, retrieval=False)
    agent = ConversionAgent(cfg).fit(toy_train)
    assert len(agent.members_) == 3
    # every training row, once (the split recipe would calibrate on a fifth of them)
    assert len(seen["z"]) == int(toy_train.lengths.sum())
    np.testing.assert_array_equal(np.unique(seen["groups"]), np.arange(len(toy_train)))
    # the rows of fold k carry member k's logit, not the ensemble's
    folds = stratified_folds(toy_train, 3, cfg.seed)
    assert folds is not None
    at = 0
    for k, f in enumerate(folds):
        rows = np.concatenate([toy_train.obs[int(i)] for i in f])
        x = agent._prepare(rows)
        own = member_logits([agent.members_[k]], x, cfg.action_bound)[:, 0] + agent.offsets_[k]
        np.testing.assert_allclose(seen["z"][at : at + len(rows)], own, rtol=1e-5, atol=1e-5)
        other = member_logits([agent.members_[(k + 1) % 3]], x, cfg.action_bound)[:, 0]
        assert not np.allclose(seen["z"][at : at + len(rows)], other + agent.offsets_[k])
        at += len(rows)


def test_cv_members_refuses_shared_rows() -> None:
    with pytest.raises(ValueError, match="cv_members"):
        TrainConfig.preset("large", cv_members=True).validate()
