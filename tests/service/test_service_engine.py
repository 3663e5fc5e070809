"""The engine protocol and the placeholder baseline."""

from __future__ import annotations

from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn
from salesrl.service.engine import BaselineEngine, Engine, EngineSession, TurnResult

TURNS = [Turn(role=Role.REP, text="Hi, thanks for taking the time."),
         Turn(role=Role.CUSTOMER, text="Sure. What does it cost?"),
         Turn(role=Role.REP, text="It is $20 a month per seat."),
         Turn(role=Role.CUSTOMER, text="Hmm, that's too expensive for us."),
         Turn(role=Role.REP, text="We can start with a pilot."),
         Turn(role=Role.CUSTOMER, text="OK, sounds good, send me the contract.")]


def test_baseline_satisfies_the_protocol() -> None:
    engine = BaselineEngine()
    assert isinstance(engine, Engine)
    assert isinstance(engine.new_session(Metadata()), EngineSession)
    assert engine.model_version


def test_baseline_is_deterministic_and_restore_matches_incremental() -> None:
    engine = BaselineEngine()
    live = engine.new_session(Metadata())
    incremental = [live.add_turn(t) for t in TURNS]
    again = [BaselineEngine().new_session(Metadata()).add_turn(TURNS[0])]
    assert again[0] == incremental[0]
    for k in range(len(TURNS)):
        restored = engine.restore_session(TURNS[:k], Metadata())
        assert restored.add_turn(TURNS[k]) == incremental[k]
    batch = engine.score([Conversation(id="c", turns=TURNS, outcome=Outcome.UNKNOWN)])
    assert batch == [incremental]
    assert [r.turn_index for r in incremental] == list(range(len(TURNS)))


def test_baseline_moves_with_objections_and_commitments() -> None:
    results = BaselineEngine().score(
        [Conversation(id="c", turns=TURNS, outcome=Outcome.UNKNOWN)])[0]
    p = [r.probability for r in results]
    assert p[3] < p[2]  # objection
    assert p[5] > p[4]  # commitment
    assert results[0].abstain and results[0].abstain_reason
    assert not results[1].abstain
    assert results[3].guidance == {"move": "objection_handling",
                                   "reason": "the customer raised an objection"}
    assert results[5].turning_point is not None
    assert results[5].turning_point["direction"] == "up"
    for r in results:
        assert isinstance(r, TurnResult)
        assert 0.0 <= r.probability <= 1.0
        assert r.interval is not None and r.interval[0] <= r.probability <= r.interval[1]
    # More evidence, more confidence.
    conf = [r.confidence for r in results if r.confidence is not None]
    assert conf == sorted(conf)


def test_rejection_lowers_the_probability() -> None:
    engine = BaselineEngine()
    s = engine.new_session(Metadata())
    before = s.add_turn(Turn(role=Role.CUSTOMER, text="Tell me more.")).probability
    after = s.add_turn(Turn(role=Role.CUSTOMER, text="No thanks, not interested.")).probability
    assert after < before - 0.1
