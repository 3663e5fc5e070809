"""The service feeds a conversation's metadata to the agent's context prior; metadata the
prior cannot read is a 422 naming the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_helpers import DIALOGUE, add_key, auth

from salesrl.agent.api import SalesAgent
from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn
from salesrl.service import Settings, create_app
from salesrl.service.agent_engine import AgentEngine

pytestmark = pytest.mark.usefixtures("hashing_env")
TURNS = [Turn(role=Role(r), text=t) for r, t in DIALOGUE]
META = {"rep_id": "rep-008", "industry": "healthcare", "extra": {"persona": "analytical"}}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, tiny_training: dict) -> SalesAgent:
    from salesrl.agent.pipeline import train_agent
    from salesrl.synth import generate

    root = tmp_path_factory.mktemp("ctx-engine")
    return train_agent(generate(60, 5), preset="fast", embedding="hashing",
                       overrides={**tiny_training, "context_prior": True},
                       cache_path=root / "cache.sqlite", backend_options={"dim": 32},
                       out=root / "model", confidence_folds=0, guide=False)


def test_service_uses_the_conversation_metadata(agent: SalesAgent, tmp_path: Path) -> None:
    assert agent.context is not None
    url = f"sqlite:///{tmp_path / 'service.db'}"
    key = add_key(url, "tenant-a")
    engine = AgentEngine(agent)
    with TestClient(create_app(Settings(db_url=url), engine=lambda: engine)) as client:
        r = client.post("/v1/conversations", json={"metadata": META}, headers=auth(key))
        assert r.status_code == 201, r.text
        conv = r.json()["id"]
        probs = []
        for role, text in DIALOGUE:
            r = client.post(f"/v1/conversations/{conv}/turns", json={"role": role, "text": text},
                            headers=auth(key))
            assert r.status_code == 201, r.text
            probs.append(r.json()["probability"])
        bad = client.post("/v1/conversations", headers=auth(key),
                          json={"metadata": {"extra": {"persona": 3}}})
        assert bad.status_code == 422, bad.text
        assert bad.json()["field"] == "metadata.extra.persona"
    call = Conversation(id="c", turns=TURNS, outcome=Outcome.UNKNOWN,
                        metadata=Metadata.model_validate(META))
    np.testing.assert_allclose(probs, agent.predict(call), rtol=1e-5)
    assert not np.allclose(agent.predict(call), agent.predict(TURNS))  # metadata mattered
