"""Offline advisor: transitions from logs, recommendations, safetensors round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from salesrl.conversation.acts import RepAct
from salesrl.guidance.advisor import Advisor
from salesrl.guidance.logs import ActLog
from salesrl.guidance.observation import OBS_DIM, ActHistory


def test_transitions_put_the_outcome_on_the_last_exchange() -> None:
    rep = np.array([[0, 5, -1], [1, -1, -1]])
    cust = np.array([[1, 9, -1], [10, -1, -1]])
    log = ActLog.from_sim(rep, cust, np.array([2, 1]), np.array([True, False]))
    obs, acts, rewards, terminals, keys = log.transitions()
    assert obs.shape == (3, OBS_DIM)
    assert acts.tolist() == [0, 5, 1]
    assert rewards.tolist() == [0.0, 1.0, 0.0]
    assert terminals.tolist() == [0.0, 1.0, 1.0]
    # the second observation of call 0 knows the first exchange happened
    assert obs[1].sum() > obs[0].sum()
    assert keys[0] != keys[1]


def test_history_tracks_open_objections() -> None:
    hist = ActHistory(1)
    hist.update(np.array([0]), np.array([0]), np.array([2]))  # price objection
    assert hist.open_objection[0]
    hist.update(np.array([0]), np.array([7]), np.array([0]))  # objection handling
    assert not hist.open_objection[0]


def test_recommendation_is_a_supported_rep_act(advisor: Advisor) -> None:
    rec = advisor.recommend(["small_talk"], ["objection_price"])
    assert rec.act in {a.value for a in RepAct}
    assert 0.0 <= rec.value <= 1.0
    assert rec.expected_lift >= 0.0
    assert rec.support >= advisor.config_.min_support
    with pytest.raises(ValueError, match="unknown dialogue act"):
        advisor.recommend(["shouting"], ["interest"])


def test_save_load_round_trip_without_pickle(advisor: Advisor, tmp_path: Path) -> None:
    advisor.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["advisor.json",
                                                          "advisor.safetensors"]
    loaded = Advisor.load(tmp_path)
    obs = np.random.default_rng(0).random((5, OBS_DIM)).astype(np.float32)
    np.testing.assert_allclose(loaded.q_values(obs), advisor.q_values(obs), atol=1e-6)
    keys = np.arange(5)
    np.testing.assert_array_equal(loaded.choose(obs, keys)[0], advisor.choose(obs, keys)[0])


def test_load_rejects_a_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no advisor artifact"):
        Advisor.load(tmp_path)


def test_two_critics_and_multi_step_round_trip(act_log: ActLog, tmp_path: Path) -> None:
    from salesrl.guidance.advisor import AdvisorConfig

    adv = Advisor(AdvisorConfig(n_steps=5, batch_size=32, hidden=[8], n_critics=2, n_step=13,
                                min_support=1)).fit(act_log)
    loaded = Advisor.load(adv.save(tmp_path))
    obs = np.zeros((2, OBS_DIM), dtype=np.float32)
    np.testing.assert_allclose(loaded.q_values(obs), adv.q_values(obs), atol=1e-6)


def test_rare_situation_claims_no_lift(advisor: Advisor) -> None:
    import copy

    rare = copy.copy(advisor)
    rare.support_ = np.zeros_like(advisor.support_)  # nothing logged anywhere
    rec = rare.recommend(["small_talk"], ["objection_price"])
    assert not rec.supported and rec.expected_lift == 0.0
    assert rec.act in {a.value for a in RepAct}  # still the best guess
    assert advisor.recommend(["small_talk"], ["objection_price"]).supported


def test_without_rep_history_the_rep_blocks_are_ignored(act_log: ActLog, tmp_path: Path,
                                                        ) -> None:
    from salesrl.guidance.advisor import AdvisorConfig
    from salesrl.guidance.observation import CUSTOMER_COUNTS, LAST_REP

    adv = Advisor(AdvisorConfig(n_steps=20, batch_size=32, hidden=[8], rep_history=False,
                                min_support=1)).fit(act_log)
    obs = np.random.default_rng(1).random((4, OBS_DIM)).astype(np.float32)
    other = obs.copy()
    other[:, LAST_REP:CUSTOMER_COUNTS] = np.random.default_rng(2).random(
        (4, CUSTOMER_COUNTS - LAST_REP))
    np.testing.assert_array_equal(adv.q_values(obs), adv.q_values(other))
    loaded = Advisor.load(adv.save(tmp_path))
    assert not loaded.config_.rep_history
    np.testing.assert_array_equal(loaded.q_values(other), adv.q_values(obs))


def test_an_artifact_from_before_the_option_keeps_its_rep_history(advisor: Advisor,
                                                                  tmp_path: Path) -> None:
    import json

    advisor.save(tmp_path)
    meta = json.loads((tmp_path / "advisor.json").read_text())
    del meta["config"]["rep_history"]
    (tmp_path / "advisor.json").write_text(json.dumps(meta))
    assert Advisor.load(tmp_path).config_.rep_history


def test_batched_recommendations_equal_one_at_a_time(advisor: Advisor) -> None:
    from salesrl.guidance.observation import observe_sequence, replay

    histories = [([], []), (["small_talk"], ["objection_price"]),
                 (["small_talk", "objection_handling", "demo_offer"],
                  ["objection_price", "interest", "question"]),
                 (["small_talk"], ["interest"])]
    hist = replay(histories)
    for i, (reps, custs) in enumerate(histories):
        np.testing.assert_array_equal(hist.observe()[i], observe_sequence(reps, custs))
    batched = advisor.recommend_many(histories)
    assert len({r.act for r in batched} | {r.value for r in batched}) > 2  # not all alike
    for (reps, custs), rec in zip(histories, batched, strict=True):
        one = advisor.recommend(reps, custs)
        assert (rec.act, rec.support, rec.supported) == (one.act, one.support, one.supported)
        assert rec.value == pytest.approx(one.value, abs=1e-6)
        assert rec.expected_lift == pytest.approx(one.expected_lift, abs=1e-6)
    assert advisor.recommend_many([]) == []
