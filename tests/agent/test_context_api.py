"""The context prior through the product API: train with it, save / load, live sessions (and
their restore) equal batch prediction, bad metadata is a located DataError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from salesrl.agent.api import SalesAgent, load
from salesrl.agent.pipeline import train_agent
from salesrl.conversation import Conversation, DataError, Metadata
from salesrl.synth import generate

pytestmark = pytest.mark.usefixtures("hashing_env")
HASH = {"dim": 32}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory,
          tiny_training: dict) -> tuple[SalesAgent, Path, Path]:
    root = tmp_path_factory.mktemp("ctx")
    cache = root / "cache.sqlite"
    model = train_agent(generate(60, 5), preset="fast", embedding="hashing",
                        overrides={**tiny_training, "context_prior": True}, out=root / "model",
                        cache_path=cache, backend_options=HASH, lexical=True,
                        confidence_folds=2, guide=False)
    return model, root / "model", cache


@pytest.fixture(scope="module")
def call() -> Conversation:
    return next(c for c in generate(30, 98) if len(c.turns) >= 8).prefix(8)


def test_trained_with_context_and_loaded_back(saved: tuple, call: Conversation) -> None:
    model, path, cache = saved
    prior = model.agent.context_
    assert prior is not None and "metadata.rep_id" in prior.categorical_
    assert model.agent.input_layout_.obs_dim == model.builder.obs_dim + 2  # lexical, context
    doc = json.loads((path / "agent.json").read_text())
    assert doc["context"] is not None
    loaded = load(path, cache_path=cache)
    assert loaded.context is not None
    np.testing.assert_allclose(loaded.predict(call), model.predict(call), rtol=1e-6)
    # the metadata move the prediction; the same turns under another rep read differently
    other = call.model_copy(update={"metadata": Metadata(rep_id="nobody-seen")})
    assert not np.allclose(loaded.predict(other), loaded.predict(call))


def test_session_equals_batch_and_survives_a_restore(saved: tuple, call: Conversation) -> None:
    _, path, cache = saved
    loaded = load(path, cache_path=cache)
    expected = loaded.predict(call)
    session = loaded.session(metadata=call.metadata)
    got = [session.add(t).probability for t in call.turns[:3]]
    restored = loaded.restore(json.loads(json.dumps(session.to_dict())))
    got += [restored.add(t).probability for t in call.turns[3:]]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # a session started without metadata reads the prior of "nothing known"
    bare = loaded.session()
    p0 = bare.add(call.turns[0]).probability
    blank = call.model_copy(update={"metadata": Metadata()})
    assert p0 == pytest.approx(float(loaded.predict(blank)[0]), rel=1e-5)


def test_bad_metadata_types_are_located(saved: tuple) -> None:
    model = saved[0]
    with pytest.raises(DataError, match=r"metadata\.extra\.persona"):
        model.session(metadata={"rep_id": "rep-001", "extra": {"persona": 3}})
