"""Shared tiny data for the guidance tests: a logged batch, a fitted advisor and tagger."""

from __future__ import annotations

import numpy as np
import pytest

from salesrl.conversation import Conversation
from salesrl.guidance.advisor import Advisor, AdvisorConfig
from salesrl.guidance.logs import ActLog
from salesrl.guidance.tagger import ActTagger
from salesrl.synth import Simulator, generate


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
                 ) -> None:
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def act_log() -> ActLog:
    batch = Simulator().run(np.random.default_rng(0), 400)
    return ActLog.from_sim(batch.rep_acts, batch.customer_acts, batch.n_exchanges,
                           batch.converted)


@pytest.fixture(scope="session")
def advisor(act_log: ActLog) -> Advisor:
    return Advisor(AdvisorConfig(n_steps=30, batch_size=64, hidden=[16], min_support=5)
                   ).fit(act_log)


@pytest.fixture(scope="session")
def conversations() -> list[Conversation]:
    return generate(30, seed=3)


@pytest.fixture(scope="session")
def tagger(conversations: list[Conversation]) -> ActTagger:
    return ActTagger(max_iter=40, n_features=2**12).fit(conversations)
