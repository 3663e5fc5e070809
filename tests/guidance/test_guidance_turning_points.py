"""Turning points: change points on a step series, with causes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from salesrl.guidance.turning_points import turning_points


def test_one_step_up_is_found_with_its_cause() -> None:
    rng = np.random.default_rng(0)
    p = np.r_[np.full(6, 0.3), np.full(6, 0.7)] + rng.normal(0, 0.01, 12)
    acts = ["small_talk", "interest"] * 2 + ["value_proposition", "commitment"] * 4
    acts[6] = "closing_attempt"
    turns = ["hello"] * 12
    points = turning_points(p, turns, acts)
    assert [tp.index for tp in points] == [6]
    assert points[0].delta == pytest.approx(0.4, abs=0.03)
    assert points[0].cause == "closing attempt"


def test_a_drop_after_a_price_objection() -> None:
    p = [0.5, 0.52, 0.5, 0.51, 0.2, 0.21, 0.19]
    turns = ["hi", "hey", "so", "ok", "That price is way over our budget", "hm", "ok"]
    acts = ["small_talk", "small_talk_customer", "value_proposition", "question",
            "objection_price", "discount", "stall"]
    points = turning_points(p, turns, acts)
    assert [tp.index for tp in points] == [4]
    assert points[0].delta < -0.25
    assert points[0].cause == "price discussed"


def test_a_flat_noisy_series_has_no_turning_point() -> None:
    p = 0.4 + np.random.default_rng(1).normal(0, 0.005, 20)
    assert turning_points(p, [], []) == []


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="finite"):
        turning_points([0.1, float("nan")], [], [])
    assert turning_points([0.5], ["hi"], ["small_talk"]) == []


def test_conversation_turning_points_reads_causes_from_the_detectors() -> None:
    from salesrl.conversation import Role, Turn
    from salesrl.guidance.turning_points import conversation_turning_points, detected_acts

    texts = ["Hi, how are you?", "Fine, thanks.", "Our plan fits teams like yours.", "I see.",
             "Shall we go ahead?", "Honestly that is way too expensive for our budget.",
             "We can start smaller.", "Maybe.", "Any questions?", "No."]
    turns = [Turn(role=Role.REP if i % 2 == 0 else Role.CUSTOMER, text=t)
             for i, t in enumerate(texts)]
    acts = detected_acts(turns)
    assert "objection_price" in acts[5]
    p = np.r_[np.full(5, 0.6), np.full(5, 0.25)]
    points = conversation_turning_points(p, turns)
    assert [tp.index for tp in points] == [5]
    assert points[0].delta < 0 and points[0].cause == "price discussed"


def test_live_turning_point_flags_a_jump() -> None:
    from salesrl.guidance.turning_points import LiveTurningPoints

    live = LiveTurningPoints()
    flags = [live.update(p, "price discussed" if i == 6 else None)
             for i, p in enumerate([0.5, 0.51, 0.49, 0.5, 0.52, 0.5, 0.85, 0.86])]
    assert [i for i, f in enumerate(flags) if f is not None] == [6]
    assert flags[6].cause == "price discussed" and flags[6].delta > 0.3
    again = LiveTurningPoints.from_dict(json.loads(json.dumps(live.to_dict())))
    assert again.update(0.2, None) is not None  # the next drop is seen after a restore


def test_live_turning_points_ignore_noise() -> None:
    from salesrl.guidance.turning_points import LiveTurningPoints

    rng = np.random.default_rng(0)
    live = LiveTurningPoints()
    flags = [live.update(float(p), None) for p in 0.4 + rng.normal(0, 0.01, 40)]
    assert not any(flags)  # jitter of a flat series never starts a new level
