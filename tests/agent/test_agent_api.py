"""salesrl.load / SalesAgent: save-load round trip, backend refusal, incremental sessions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from salesrl.agent.api import STATE_FILE, SalesAgent, StateDriftWarning, load
from salesrl.agent.artifacts import IncompatibleArtifactError
from salesrl.agent.lexical_state import LexicalState
from salesrl.agent.pipeline import parse_overrides, train_agent
from salesrl.conversation import Conversation, DataError, Outcome, Role, Turn
from salesrl.synth import generate

pytestmark = pytest.mark.usefixtures("hashing_env")
HASH = {"dim": 32}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory,
          tiny_training: dict) -> tuple[SalesAgent, Path, Path]:
    root = tmp_path_factory.mktemp("api")
    cache = root / "cache.sqlite"
    model = train_agent(generate(40, 3), preset="fast", embedding="hashing",
                        overrides=tiny_training, out=root / "model", cache_path=cache,
                        backend_options=HASH, confidence_folds=2, guide_steps=200)
    return model, root / "model", cache


@pytest.fixture(scope="module")
def call() -> Conversation:
    return next(c for c in generate(30, 99) if len(c.turns) >= 9).prefix(9)


def test_load_round_trip_predicts_the_same(saved: tuple, call: Conversation) -> None:
    model, path, cache = saved
    p = model.predict(call)
    assert p.shape == (len(call.turns),) and np.all((p > 0) & (p < 1))
    again = load(path, cache_path=cache)
    np.testing.assert_allclose(again.predict(call), p, rtol=1e-6)
    assert again.embedding_backend == "hashing" and again.builder.embedding_dim == 32
    assert again.card["data"]["conversations"] == 40 and again.card["preset"] == "fast"
    assert model.predict([]).shape == (0,)


def test_prediction_uses_prefixes_only(saved: tuple, call: Conversation) -> None:
    model = saved[0]
    full = model.predict(call)
    changed = call.model_copy(update={"turns": [*call.turns[:4], Turn(
        role=Role.CUSTOMER, text="No, we are not interested at all, goodbye.")]})
    np.testing.assert_allclose(model.predict(changed)[:4], full[:4], rtol=1e-6)


def test_other_backend_is_refused(saved: tuple) -> None:
    _, path, cache = saved
    with pytest.raises(IncompatibleArtifactError, match="'hashing'.*retrain"):
        load(path, embedding="minilm", cache_path=cache)
    load(path, embedding="hashing", cache_path=cache)  # the model's own backend is fine


def test_state_config_mismatch_is_refused(saved: tuple, tmp_path: Path) -> None:
    import shutil

    _, path, cache = saved
    copy = tmp_path / "m"
    shutil.copytree(path, copy)
    doc = json.loads((copy / STATE_FILE).read_text())
    doc["config"]["backend_options"] = {"dim": 64}  # another embedding width
    (copy / STATE_FILE).write_text(json.dumps(doc))
    with pytest.raises(IncompatibleArtifactError):
        load(copy, cache_path=cache)
    (copy / STATE_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="state.json"):
        load(copy, cache_path=cache)
    with pytest.raises(FileNotFoundError, match="no model directory"):
        load(tmp_path / "nowhere")


def test_changed_features_code_warns(saved: tuple, tmp_path: Path) -> None:
    import shutil
    import warnings

    _, path, cache = saved
    with warnings.catch_warnings():
        warnings.simplefilter("error", StateDriftWarning)
        load(path, cache_path=cache)  # same code, same rows: no warning
    copy = tmp_path / "m"
    shutil.copytree(path, copy)
    doc = json.loads((copy / STATE_FILE).read_text())
    assert len(doc["probe"]["digest"]) == 8  # 4 probe turns x (sum |x|, sum x)
    doc["probe"]["digest"][3] += 0.5  # as if a signal had changed since training
    (copy / STATE_FILE).write_text(json.dumps(doc))
    with pytest.warns(StateDriftWarning, match="retrain"):
        load(copy, cache_path=cache)


def test_session_matches_predict_and_embeds_each_turn_once(
        saved: tuple, call: Conversation, monkeypatch: pytest.MonkeyPatch) -> None:
    model = saved[0]
    expected = model.predict(call)
    embedded: list[str] = []
    real = model.builder.embed

    def spy(texts):  # noqa: ANN001, ANN202
        embedded.extend(texts)
        return real(texts)

    monkeypatch.setattr(model.builder, "embed", spy)
    session = model.session({"industry": "saas"})
    updates = [session.add_turn(t.role.value, t.text, t.start, t.end) for t in call.turns]
    assert embedded == [t.text for t in call.turns]  # each turn once, none re-embedded
    got = np.array([u.probability for u in updates])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert [u.turn_index for u in updates] == list(range(len(call.turns)))
    assert updates[0].change is None and updates[0].confidence is not None
    assert updates[3].change == pytest.approx(got[3] - got[2])
    assert [u.to_dict() for u in model.analyze(call)][1]["role"] == call.turns[1].role.value


def test_session_serialises_and_continues(saved: tuple, call: Conversation) -> None:
    model = saved[0]
    expected = model.predict(call)
    session = model.session()
    for t in call.turns[:5]:
        session.add_turn(t.role, t.text, start=t.start, end=t.end)
    data = json.loads(json.dumps(session.to_dict()))  # survives JSON
    restored = model.restore(data)
    assert restored.n_turns == 5 and restored.last_probability == session.last_probability
    rest = [restored.add(t) for t in call.turns[5:]]
    np.testing.assert_allclose([u.probability for u in rest], expected[5:], rtol=1e-5,
                               atol=1e-6)
    assert rest[0].turn_index == 5 and rest[0].change is not None


def test_lexical_agent_session_matches_predict(tmp_path_factory: pytest.TempPathFactory,
                                              call: Conversation, tiny_training: dict) -> None:
    root = tmp_path_factory.mktemp("lex")
    cache = root / "cache.sqlite"
    # the turn-aware stacking calibrator too: it reads the lexical column and the turn count
    model = train_agent(generate(40, 4), preset="fast", embedding="hashing",
                        overrides={**tiny_training, "calibration": "stack_turn",
                                   "calibration_by_turn": True},
                        out=root / "model", cache_path=cache, backend_options=HASH,
                        lexical=True, confidence_folds=0, guide=False)
    assert model.lexical is not None and model.card["lexical"]
    cal = model.agent.calibrator_
    assert cal.method == "stack_turn" and cal.uses_turns
    assert cal.turn_column == model.builder.state_names.index("sig_n_turns")
    loaded = load(root / "model", cache_path=cache)
    lex = LexicalState(loaded.lexical)  # the incremental logit equals the batch one
    z = [lex.update(t) for t in call.turns]
    np.testing.assert_allclose(z, loaded.lexical.logits([call])[0], rtol=1e-4, atol=1e-5)
    assert np.ptp(z) > 0
    expected = loaded.predict(call)
    np.testing.assert_allclose(expected, model.predict(call), rtol=1e-6)
    session = loaded.session()
    got = [session.add(t).probability for t in call.turns[:4]]
    restored = loaded.restore(json.loads(json.dumps(session.to_dict())))
    got += [restored.add(t).probability for t in call.turns[4:]]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_session_rejects_bad_turns(saved: tuple) -> None:
    session = saved[0].session()
    with pytest.raises(DataError, match="unknown role 'boss'"):
        session.add_turn("boss", "hello")
    with pytest.raises(DataError, match="empty text"):
        session.add_turn("rep", "   ")
    assert session.n_turns == 0


def test_parse_overrides() -> None:
    assert parse_overrides(["ensemble_size=2", "retrieval=false", "state_hidden=[16, 8]",
                            "ensemble-combine=prob"]) == {
        "ensemble_size": 2, "retrieval": False, "state_hidden": (16, 8),
        "ensemble_combine": "prob"}
    with pytest.raises(DataError, match="unknown training setting 'nope'"):
        parse_overrides(["nope=1"])
    with pytest.raises(DataError, match="KEY=VALUE"):
        parse_overrides(["ensemble_size"])


def test_train_refuses_unusable_data(tmp_path: Path) -> None:
    few = generate(5, 0)
    with pytest.raises(DataError, match="at least 10"):
        train_agent(few, embedding="hashing", cache_path=tmp_path / "c.sqlite")
    same = [c.model_copy(update={"outcome": Outcome.CONVERTED}) for c in generate(12, 0)]
    with pytest.raises(DataError, match="same outcome"):
        train_agent(same, embedding="hashing", cache_path=tmp_path / "c.sqlite")


def test_import_salesrl_stays_light() -> None:
    import salesrl

    code = "import sys, salesrl; print('torch' in sys.modules, 'load' in salesrl.__all__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "True"]
    assert salesrl.load is load  # resolved lazily, on first use


# -- confidence, turning points and next moves -------------------------------------------------
def test_saved_model_carries_confidence_and_guide(saved: tuple) -> None:
    model, path, cache = saved
    assert model.confidence is not None and model.guide is not None
    assert (path / "confidence" / "confidence.json").is_file()
    assert (path / "guide" / "advisor" / "advisor.json").is_file()
    bare = load(path, cache_path=cache, confidence=False, guide=False)
    assert bare.confidence is None and bare.guide is None
    assert model.card["confidence"]["folds"] == 2 and model.card["guide"]["advisor_steps"] == 200


def test_analyze_returns_every_extra_per_turn(saved: tuple, call: Conversation) -> None:
    model = load(saved[1], cache_path=saved[2])
    updates = model.analyze(call)
    assert len(updates) == len(call.turns)
    np.testing.assert_allclose([u.probability for u in updates], model.predict(call),
                               rtol=1e-6)
    for u in updates:
        assert 0.0 <= u.confidence <= 1.0
        lo, hi = u.interval
        assert 0.0 <= lo <= u.probability <= hi <= 1.0
        assert isinstance(u.abstain, bool) and (u.abstain_reason is None or u.abstain)
        assert u.next_move["act"] and u.next_move["text"] and u.next_move["expected_lift"] >= 0
        assert u.turning_point is None or set(u.turning_point) == {"delta", "cause"}
    json.dumps([u.to_dict() for u in updates])  # JSON-safe


def test_extras_use_the_prefix_only(saved: tuple, call: Conversation, same_move) -> None:
    model = saved[0]
    full = model.analyze(call)
    changed = call.model_copy(update={"turns": [*call.turns[:5], Turn(
        role=Role.CUSTOMER, text="No, we are not interested at all, goodbye.")]})
    again = model.analyze(changed)
    for a, b in zip(full[:5], again[:5], strict=False):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-6)
        assert a.interval == pytest.approx(b.interval, abs=1e-6)
        same_move(a.next_move, b.next_move)


def test_session_extras_equal_analyze_and_survive_a_restore(saved: tuple, call: Conversation,
                                                           same_move) -> None:
    model = saved[0]
    expected = model.analyze(call)
    session = model.session()
    got = [session.add(t) for t in call.turns[:4]]
    restored = model.restore(json.loads(json.dumps(session.to_dict())))
    got += [restored.add(t) for t in call.turns[4:]]
    for g, e in zip(got, expected, strict=True):
        assert g.probability == pytest.approx(e.probability, rel=1e-5, abs=1e-6)
        assert g.confidence == pytest.approx(e.confidence, abs=1e-5)
        assert g.interval == pytest.approx(e.interval, abs=1e-5)
        assert g.abstain == e.abstain
        same_move(g.next_move, e.next_move)
    quiet = model.session(guidance=False)
    assert quiet.add(call.turns[0]).next_move is None and quiet.next_move() is not None


def test_guide_needs_act_labels(tmp_path: Path) -> None:
    convs = [c.model_copy(update={"turns": [t.model_copy(update={"annotations": None})
                                            for t in c.turns]}) for c in generate(12, 0)]
    with pytest.raises(DataError, match="act labels"):
        train_agent(convs, embedding="hashing", cache_path=tmp_path / "c.sqlite",
                    backend_options=HASH, guide=True, confidence_folds=0)


def test_load_turns_off_onnxruntime_spinning_unless_asked(tmp_path: Path) -> None:
    """Spinning intra-op workers doubled the CPU per served turn; a caller can still ask."""
    from salesrl.agent.api import DEFAULT_MODEL_DIR

    quiet = dict(check_state=False, confidence=False, guide=False)
    agent = load(DEFAULT_MODEL_DIR, cache_path=tmp_path / "c.sqlite", **quiet)
    assert agent.builder._backend.allow_spinning is False
    agent = load(DEFAULT_MODEL_DIR, cache_path=tmp_path / "c.sqlite",
                 backend_options={"allow_spinning": True}, **quiet)
    assert agent.builder._backend.allow_spinning is True


def test_shipped_model_matches_todays_state_builder(tmp_path: Path) -> None:
    """A features change that moves the state rows must come with a retrained shipped model
    (bench/train_default_model.sh); otherwise every user's first `salesrl analyze` warns."""
    import warnings

    from salesrl.agent.api import DEFAULT_MODEL_DIR

    with warnings.catch_warnings():
        warnings.simplefilter("error", StateDriftWarning)
        load(DEFAULT_MODEL_DIR, cache_path=tmp_path / "c.sqlite", confidence=False, guide=False)
