"""Fixtures of the confidence tests: hashing embeddings, a fitted model on tiny data."""

from __future__ import annotations

import pytest
from confidence_helpers import inputs_of, make_conversations, oof_proba

from salesrl.confidence import ConfidenceModel, TurnInputs
from salesrl.features import StateBuilder


@pytest.fixture(autouse=True)
def _hashing(monkeypatch, tmp_path):
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path))


@pytest.fixture(scope="session")
def builder() -> StateBuilder:
    return StateBuilder(backend="hashing", window=2, cache=False)


@pytest.fixture(scope="session")
def train_inputs(builder) -> TurnInputs:
    return inputs_of(builder, make_conversations(60, seed=1))


@pytest.fixture(scope="session")
def fitted(builder, train_inputs) -> ConfidenceModel:
    p, m = oof_proba(train_inputs)
    return ConfidenceModel(state_dim=builder.state_dim, n_folds=3, max_rows=500,
                           max_turns=200).fit(train_inputs, p, m)
