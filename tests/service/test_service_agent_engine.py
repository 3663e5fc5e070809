"""AgentEngine: the trained agent behind the service (tiny hashing model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_helpers import DIALOGUE, add_key, auth

from salesrl.agent.api import AgentSession, SalesAgent
from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn
from salesrl.service import Settings, create_app
from salesrl.service.agent_engine import AgentEngine
from salesrl.service.engine import Engine, EngineSession

pytestmark = pytest.mark.usefixtures("hashing_env")
TURNS = [Turn(role=Role(r), text=t) for r, t in DIALOGUE]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, tiny_training: dict) -> SalesAgent:
    from salesrl.agent.pipeline import train_agent
    from salesrl.synth import generate

    root = tmp_path_factory.mktemp("engine")
    return train_agent(generate(40, 7), preset="fast", embedding="hashing", overrides=tiny_training,
                       cache_path=root / "cache.sqlite", backend_options={"dim": 32},
                       out=root / "model", confidence_folds=2, guide_steps=200)


def test_engine_protocol_restore_and_score_agree(agent: SalesAgent) -> None:
    engine = AgentEngine(agent)
    assert isinstance(engine, Engine) and engine.model_version.startswith("agent:")
    live = engine.new_session(Metadata(industry="saas"))
    assert isinstance(live, EngineSession)
    incremental = [live.add_turn(t) for t in TURNS]
    expected = agent.predict(TURNS)
    np.testing.assert_allclose([r.probability for r in incremental], expected, rtol=1e-5)
    for k in (1, 4):
        restored = engine.restore_session(TURNS[:k], Metadata())
        assert restored.add_turn(TURNS[k]).probability == pytest.approx(
            incremental[k].probability, rel=1e-5)
    batch = engine.score([Conversation(id="c", turns=TURNS, outcome=Outcome.UNKNOWN)])[0]
    assert [r.turn_index for r in batch] == list(range(len(TURNS)))
    np.testing.assert_allclose([r.probability for r in batch], expected, rtol=1e-5)


def test_service_serves_the_agent(agent: SalesAgent, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    key = add_key(url, "tenant-a")
    engine = AgentEngine(agent)
    with TestClient(create_app(Settings(db_url=url), engine=lambda: engine)) as client:
        r = client.post("/v1/conversations", json={"metadata": {}}, headers=auth(key))
        conv = r.json()["id"]
        probs = []
        for role, text in DIALOGUE:
            r = client.post(f"/v1/conversations/{conv}/turns", json={"role": role, "text": text},
                            headers=auth(key))
            assert r.status_code == 201, r.text
            assert r.json()["model_version"] == engine.model_version
            probs.append(r.json()["probability"])
    np.testing.assert_allclose(probs, agent.predict(TURNS), rtol=1e-5)


def test_serve_loads_the_model_it_is_given(agent: SalesAgent, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import salesrl.cli.serve  # noqa: F401  (registers serve)
    import salesrl.service.server as server
    from salesrl.cli.app import app

    seen: list[dict] = []
    monkeypatch.setattr(server, "run", lambda settings, **kw: seen.append(kw))
    db = ["--db", str(tmp_path / "s.db")]
    result = CliRunner().invoke(app, ["serve", "--model", str(agent.path), *db])
    assert result.exit_code == 0, result.output
    loaded = seen[-1]["engine"]()  # the zero-argument loader the app calls at start-up
    assert isinstance(loaded, AgentEngine) and loaded.agent.path == agent.path
    result = CliRunner().invoke(app, ["serve", "--baseline", *db])
    assert result.exit_code == 0 and seen[-1]["engine"] is None
    result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path / "none"), *db])
    assert result.exit_code == 2 and "no model here" in result.output


def test_add_turns_batch_matches_one_by_one(agent: SalesAgent) -> None:
    engine = AgentEngine(agent)
    one = [engine.new_session(Metadata()) for _ in range(3)]
    many = [engine.new_session(Metadata()) for _ in range(3)]
    for k in range(3):  # three sessions, each one turn further per round
        expected = [s.add_turn(TURNS[k + i]) for i, s in enumerate(one)]
        got = engine.add_turns([(s, TURNS[k + i]) for i, s in enumerate(many)])
        assert [r.probability for r in got] == pytest.approx(  # type: ignore[union-attr]
            [r.probability for r in expected], rel=1e-5)
        assert [r.turn_index for r in got] == [k] * 3  # type: ignore[union-attr]
        # confidence is searched for the whole batch at once: same numbers as one by one
        for r, e in zip(got, expected, strict=True):
            assert r.confidence == pytest.approx(e.confidence, abs=1e-6)  # type: ignore
            assert r.interval == pytest.approx(e.interval, abs=1e-6)  # type: ignore
            assert r.abstain == e.abstain  # type: ignore[union-attr]
            assert r.abstain_reason == e.abstain_reason  # type: ignore[union-attr]


def test_add_turns_with_a_repeated_session_goes_one_by_one(agent: SalesAgent) -> None:
    engine = AgentEngine(agent)
    ref, rep = engine.new_session(Metadata()), engine.new_session(Metadata())
    expected = [ref.add_turn(t) for t in TURNS[:2]]
    got = engine.add_turns([(rep, TURNS[0]), (rep, TURNS[1])])
    assert [r.probability for r in got] == pytest.approx(  # type: ignore[union-attr]
        [r.probability for r in expected], rel=1e-5)
    with pytest.raises(ValueError, match="more than once"):
        AgentSession.add_many([(rep.session, TURNS[2])] * 2, np.zeros((2, 32), np.float32))


def test_results_carry_confidence_interval_and_guidance(agent: SalesAgent, same_move) -> None:
    engine = AgentEngine(agent)
    session = engine.new_session(Metadata())
    expected = agent.analyze(TURNS)
    for t, e in zip(TURNS, expected, strict=True):
        r = session.add_turn(t)
        assert r.confidence == pytest.approx(e.confidence, abs=1e-5)
        assert r.interval == pytest.approx(e.interval, abs=1e-5)
        assert r.abstain == e.abstain
        same_move(r.guidance, e.next_move)
        assert r.turning_point is None or r.turning_point["direction"] in ("up", "down")
    scored = engine.score([Conversation(id="c", turns=TURNS, outcome=Outcome.UNKNOWN)])[0]
    for r, e in zip(scored, expected, strict=True):
        same_move(r.guidance, e.next_move)


def test_guidance_past_the_budget_is_pending(agent: SalesAgent) -> None:
    engine = AgentEngine(agent, guidance_budget_s=0.0)
    sessions = [engine.new_session(Metadata()) for _ in range(2)]
    got = engine.add_turns([(s, TURNS[0]) for s in sessions])
    assert all(r.guidance["status"] == "pending" for r in got)  # type: ignore[union-attr]
    assert all(r.confidence is not None for r in got)  # type: ignore[union-attr]
    engine.guidance_budget_s = 10.0
    got = engine.add_turns([(s, TURNS[1]) for s in sessions])
    assert all(r.guidance["act"] for r in got)  # type: ignore[union-attr]
