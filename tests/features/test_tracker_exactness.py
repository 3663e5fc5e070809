"""ConversationState's in-place update gives exactly the rows of the plain code it replaced."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from salesrl.conversation import Role, Turn
from salesrl.features import ConversationState, StateBuilder
from salesrl.features.signals import clear_text_caches
from salesrl.features.tracker import _squash
from salesrl.synth.generator import generate


class ReferenceState(ConversationState):
    """``update``, ``state_vector`` and ``row`` as they were before the speed work."""

    def update(self, turn: Turn, embedding: np.ndarray | None = None) -> np.ndarray:
        b, r = self.builder, self._r
        emb = np.asarray(embedding, dtype=np.float32).reshape(-1)
        signals = self.tracker.update(turn, emb)
        w = b.importance(self.tracker.last_acts_.scores)
        e64 = emb.astype(np.float64)
        d = b.config.decay
        r.hist_num = d * r.hist_num + w * e64
        r.hist_den = d * r.hist_den + w
        is_rep = turn.role is Role.REP
        if is_rep:
            r.rep_sum = r.rep_sum + e64
            r.rep_n += 1
        else:
            r.cust_sum = r.cust_sum + e64
            r.cust_n += 1
        r.importance_last = w
        r.signals = _squash(signals.astype(np.float64))
        r.n_turns += 1
        if b.config.window:
            self._window.append(np.append(emb, np.float32(is_rep)))
        return self.row()

    def state_vector(self) -> np.ndarray:
        r = self._r
        hist = r.hist_num / r.hist_den if r.hist_den > 0 else r.hist_num
        rep = r.rep_sum / r.rep_n if r.rep_n else r.rep_sum
        cust = r.cust_sum / r.cust_n if r.cust_n else r.cust_sum
        return np.concatenate([hist, rep, cust, [math.log1p(r.hist_den), r.importance_last],
                               r.signals]).astype(np.float32)

    def row(self) -> np.ndarray:
        b = self.builder
        k, e, d = b.config.window, b.turn_dim, b.state_dim
        out = np.zeros(b.obs_dim, dtype=np.float32)
        out[:d] = self.state_vector()
        n = len(self._window) if k else 0
        if n:
            out[d + (k - n) * e : d + k * e] = np.concatenate(self._window)
            out[d + k * e + k - n :] = 1.0
        return out


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path))


@pytest.fixture(scope="module")
def conversations() -> list[list[Turn]]:
    """Synthetic sales calls (timed) and some of their turns untimed, with random roles."""
    rng = random.Random(1)
    timed = [list(c.turns) for c in generate(30, 3)]
    untimed = [[Turn(role=rng.choice((Role.REP, Role.CUSTOMER)), text=t.text) for t in turns]
               for turns in timed[:10]]
    return timed + untimed


@pytest.mark.parametrize("window", [0, 3])
def test_rows_equal_the_reference_state(conversations, window):
    clear_text_caches()
    builder = StateBuilder(backend="hashing", window=window, decay=0.7)
    n = 0
    for turns in conversations:
        emb = builder.embed([t.text for t in turns])
        state, reference = builder.new_state(), ReferenceState(builder)
        assert state.row().tobytes() == reference.row().tobytes()  # no turn yet
        for turn, e in zip(turns, emb, strict=True):
            row = state.update(turn, e)
            assert row.tobytes() == reference.update(turn, e).tobytes(), turn.text
            assert state.state_vector().tobytes() == reference.state_vector().tobytes()
            assert row[: builder.state_dim].tobytes() == state.state_vector().tobytes()
            n += 1
        assert state.to_dict() == reference.to_dict()
    assert n >= 300
