"""AgentPredictor: the agent behind the evaluation interface, with a stand-in state tracker."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from salesrl.agent import ObsLayout
from salesrl.agent.predictor import AgentPredictor
from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn
from salesrl.evaluation.predictor import ConversionPredictor

LAYOUT = ObsLayout(state_dim=2, window=2, turn_dim=2)


def _encode(conv: Conversation) -> np.ndarray:
    """A causal toy tracker: running share of 'yes' / 'no' words; turn vector = the counts."""
    turns = np.array([[t.text.split().count("yes"), t.text.split().count("no")]
                      for t in conv.turns], dtype=np.float32)
    cum = np.cumsum(turns, axis=0) / np.arange(1, len(turns) + 1)[:, None]
    return ObsLayout.pack(cum, turns, window=2)


def _conversations(n: int, seed: int) -> list[Conversation]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        y = int(rng.random() < 0.5)
        turns = []
        for k in range(int(rng.integers(3, 8))):
            word = "yes" if rng.random() < (0.7 if y else 0.3) else "no"
            turns.append(Turn(role=Role.REP if k % 2 == 0 else Role.CUSTOMER,
                              text=f"well {word} maybe"))
        out.append(Conversation(id=f"c{seed}-{i}", turns=turns,
                                outcome=Outcome.CONVERTED if y else Outcome.NOT_CONVERTED,
                                metadata=Metadata(industry="saas" if i % 2 else "retail")))
    return out


def test_agent_predictor_fits_and_reads_prefix_rows(tiny: Callable) -> None:
    pred = AgentPredictor(_encode, LAYOUT, tiny(use_ppo=False, ws_epochs=4,
                                                adversarial_rate=0.2),
                          embedding_backend="counts", embedding_dim=2)
    assert isinstance(pred, ConversionPredictor)
    pred.fit(_conversations(80, 0))
    test = _conversations(10, 1)
    prefixes = [c.prefix(k) for c in test for k in range(len(c.turns) + 1)]
    p = pred.predict_proba(prefixes)
    assert p.shape == (len(prefixes),) and np.all((p >= 0) & (p <= 1))
    # a prefix alone gives the same answer as when asked together with longer prefixes
    lone = pred.predict_proba([prefixes[2]])
    np.testing.assert_allclose(lone, p[2:3], rtol=1e-6)
    direct = pred.agent_.predict_proba_rows(_encode(prefixes[2])[-1:])
    np.testing.assert_allclose(direct, p[2:3], rtol=1e-6)
    assert p[0] == pred.base_rate_  # empty prefix
