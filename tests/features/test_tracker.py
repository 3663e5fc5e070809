"""ConversationState / StateBuilder: incremental == batch, prefix-only, persistence, layout."""

from __future__ import annotations

import json

import numpy as np
import pytest

from salesrl.agent import ObsLayout
from salesrl.conversation import Conversation, Outcome, Role, Turn
from salesrl.features import ConversationState, StateBuilder
from salesrl.features.signals import FEATURE_NAMES

R, C = Role.REP, Role.CUSTOMER
LINES = [
    (R, "Hi Sam, thanks for taking the time today. How are you?"),
    (C, "Good thanks."),
    (R, "What tools does your team use for reporting right now?"),
    (C, "Mostly spreadsheets, honestly it takes forever."),
    (R, "How does that delay affect your month-end close?"),
    (C, "That sounds useful but it's too expensive for us, maybe next year."),
    (R, "I understand. I can offer 20% off the first year."),
    (C, "Interesting. How long does setup take?"),
    (R, "About two weeks. Shall we get started with a pilot?"),
    (C, "OK, let's do it. Send me the contract."),
]


def conversation(timed: bool = True, lines: list[tuple[Role, str]] = LINES) -> Conversation:
    turns = [Turn(role=role, text=text, start=4.0 * i if timed else None,
                  end=4.0 * i + 3.0 if timed else None) for i, (role, text) in enumerate(lines)]
    return Conversation(id="c1", turns=turns, outcome=Outcome.CONVERTED)


@pytest.fixture(scope="module")
def builder() -> StateBuilder:
    return StateBuilder(backend="hashing", window=4)


def test_incremental_updates_equal_encode(builder: StateBuilder) -> None:
    conv = conversation()
    batch = builder.encode(conv)
    state = builder.new_state()
    rows = np.stack([state.update(t) for t in conv.turns])  # each turn embedded on its own
    assert batch.shape == (len(conv.turns), builder.obs_dim) and batch.dtype == np.float32
    np.testing.assert_allclose(rows, batch, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(state.row(), rows[-1])
    assert state.n_turns == len(conv.turns)
    assert np.all(np.isfinite(batch))


def test_state_never_depends_on_later_turns(builder: StateBuilder) -> None:
    conv = conversation()
    base = builder.encode(conv)
    for t in (0, 3, 7):
        changed = [*LINES[: t + 1], *[(C, "No. We hate this, cancel everything!!! $999?")]
                   * (len(LINES) - t - 1)]
        rows = builder.encode(conversation(lines=changed))
        np.testing.assert_array_equal(rows[: t + 1], base[: t + 1])
        assert not np.array_equal(rows[t + 1 :], base[t + 1 :])


def test_round_trip_then_continue_gives_identical_rows(builder: StateBuilder) -> None:
    conv = conversation()
    full = builder.encode(conv)
    state = builder.new_state()
    for t in conv.turns[:6]:
        state.update(t)
    saved = json.loads(json.dumps(state.to_dict()))  # through real JSON
    restored = builder.state_from_dict(saved)
    assert isinstance(restored, ConversationState) and restored.n_turns == 6
    np.testing.assert_array_equal(restored.row(), state.row())
    emb = builder.embed([t.text for t in conv.turns])
    rest = np.stack([restored.update(t, e) for t, e in zip(conv.turns[6:], emb[6:], strict=True)])
    np.testing.assert_array_equal(rest, full[6:])
    # a builder configured differently refuses the state
    with pytest.raises(ValueError, match="decay"):
        StateBuilder(backend="hashing", window=4, decay=0.5).state_from_dict(saved)
    with pytest.raises(ValueError, match="version"):
        builder.state_from_dict({**saved, "version": 99})


def test_layout_dims_and_packing(builder: StateBuilder) -> None:
    layout = builder.layout
    e = builder.embedding_dim
    assert isinstance(layout, ObsLayout)
    assert layout == ObsLayout(3 * e + 2 + len(FEATURE_NAMES), 4, e + 1)
    assert layout.obs_dim == builder.obs_dim and len(builder.state_names) == layout.state_dim
    conv = conversation()
    rows = builder.encode(conv)
    state, win, mask, extra = layout.split(rows)
    assert win.shape == (len(conv.turns), 4, e + 1) and extra.shape[-1] == 0
    np.testing.assert_array_equal(mask.sum(1), np.minimum(np.arange(1, len(conv.turns) + 1), 4))
    # the window is the agent's own packing of [embedding | is_rep] per turn
    turns = np.concatenate([builder.embed([t.text for t in conv.turns]),
                            np.array([[t.role is R] for t in conv.turns], dtype=np.float32)], 1)
    np.testing.assert_array_equal(rows, ObsLayout.pack(state, turns, 4))
    no_window = StateBuilder(backend="hashing", window=0)
    assert no_window.encode(conv).shape == (len(conv.turns), no_window.layout.state_dim)
    assert builder.encode(conv.prefix(0)).shape == (0, builder.obs_dim)


def test_history_decay_importance_and_role_means() -> None:
    conv = conversation(timed=False)
    emb = StateBuilder(backend="hashing").embed([t.text for t in conv.turns]).astype(np.float64)
    e = emb.shape[1]
    flat = StateBuilder(backend="hashing", decay=1.0, importance_objection=0.0,
                        importance_buying=0.0, importance_question=0.0, window=0)
    last = flat.encode(conv)[-1]
    np.testing.assert_allclose(last[:e], emb.mean(0), atol=1e-6)  # plain mean
    reps = [i for i, t in enumerate(conv.turns) if t.role is R]
    custs = [i for i, t in enumerate(conv.turns) if t.role is C]
    np.testing.assert_allclose(last[e : 2 * e], emb[reps].mean(0), atol=1e-6)
    np.testing.assert_allclose(last[2 * e : 3 * e], emb[custs].mean(0), atol=1e-6)
    assert last[3 * e + 1] == 1.0  # importance of the last turn with every weight 0
    # a fast decay makes the history follow the latest turn
    fast = StateBuilder(backend="hashing", decay=0.01, window=0).encode(conv)[-1]
    assert np.dot(fast[:e], emb[-1]) > 0.98 * np.linalg.norm(fast[:e])
    # the price objection (turn 5) weighs more than the same turn unweighted
    k = 6
    weighted = StateBuilder(backend="hashing", decay=1.0, window=0).encode(conv)[k - 1]
    w_obj, w_flat = weighted[:e] @ emb[5], flat.encode(conv)[k - 1][:e] @ emb[5]
    assert w_obj > w_flat
    assert weighted[3 * e + 1] > 1.5  # importance of that objection turn


def test_encode_many_and_prefixes_match_encode(builder: StateBuilder) -> None:
    a = conversation()
    b = conversation(lines=LINES[::-1]).model_copy(update={"id": "c2"})
    calls: list[tuple[int, int, str]] = []
    many = builder.encode_many([a, b, a.prefix(0)], progress=lambda *x: calls.append(x))
    np.testing.assert_array_equal(many[0], builder.encode(a))
    np.testing.assert_array_equal(many[1], builder.encode(b))
    assert many[2].shape == (0, builder.obs_dim)
    assert calls[-1] == (3, 3, "encoding") and any(c[2] == "embedding" for c in calls)
    prefixes = [a.prefix(3), b.prefix(2), a.prefix(len(a)), a.prefix(0)]
    rows = builder.encode_prefixes(prefixes)
    np.testing.assert_array_equal(rows[0], many[0][2])
    np.testing.assert_array_equal(rows[1], many[1][1])
    np.testing.assert_array_equal(rows[2], many[0][-1])
    assert not rows[3].any()


def test_each_turn_embedded_once_and_cache_counts() -> None:
    builder = StateBuilder(backend="hashing", prototypes=False)
    conv = conversation()
    builder.encode(conv)
    stats = builder.embedder.stats()
    assert stats.misses == len({t.text for t in conv.turns}) and stats.lookups == len(conv.turns)
    builder.encode(conv)
    assert builder.embedder.stats().misses == stats.misses  # all hits the second time


def test_bad_configuration_and_embedding() -> None:
    with pytest.raises(ValueError, match="decay"):
        StateBuilder(backend="hashing", decay=0.0)
    with pytest.raises(ValueError, match="window"):
        StateBuilder(backend="hashing", window=-1)
    state = StateBuilder(backend="hashing").new_state()
    with pytest.raises(ValueError, match="dim"):
        state.update(Turn(role=R, text="hi"), np.zeros(3))


def test_minilm_incremental_matches_batch(tmp_path) -> None:
    """One small real-model check: single-turn and batched MiniLM embeddings agree closely."""
    builder = StateBuilder(window=2, cache_path=str(tmp_path / "emb.sqlite"))
    conv = conversation(lines=LINES[:4])
    state = builder.new_state()
    rows = np.stack([state.update(t) for t in conv.turns])
    assert builder.layout.turn_dim == 385
    fresh = StateBuilder(window=2, cache_path=str(tmp_path / "other.sqlite"))
    np.testing.assert_allclose(fresh.encode(conv), rows, atol=1e-4)


def test_turn_count_column_holds_log1p_of_the_turns_so_far(builder: StateBuilder) -> None:
    from salesrl.features.tracker import turn_count_column

    col = turn_count_column(builder.state_dim, builder.embedding_dim)
    assert col == builder.state_names.index("sig_n_turns")
    state = builder.new_state()
    for i in range(5):
        role = Role.REP if i % 2 == 0 else Role.CUSTOMER
        row = state.update(Turn(role=role, text=f"turn number {i} about pricing"))
        assert row[col] == pytest.approx(np.log1p(i + 1), rel=1e-6)
    assert turn_count_column(builder.state_dim + 1, builder.embedding_dim) is None
    assert turn_count_column(7, 0) is None
