"""The trained agent behind the service's :class:`~salesrl.service.engine.Engine` protocol.

:class:`AgentEngine` wraps :func:`salesrl.load` (default: the model shipped with salesrl): a
live conversation is an :class:`~salesrl.agent.api.AgentSession` (one embedding, one O(1)
state update and one forward pass per turn); a session evicted from the service's cache is
rebuilt by replaying the stored turns. Confidence, interval and guidance stay empty until the
confidence and guidance modules land; a turn that moves P(sale) by at least
``turning_point_delta`` is flagged as a turning point. :meth:`AgentEngine.add_turns` scores
the next turn of several sessions with one embedding call (the service's scorer batches).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from salesrl.agent.api import AgentSession, SalesAgent, TurnUpdate, load, turn_updates
from salesrl.conversation import Conversation, Metadata, Turn
from salesrl.service.engine import EngineSession, TurnResult


def _result(u: TurnUpdate, delta: float) -> TurnResult:
    turning = None
    if u.change is not None and abs(u.change) >= delta:
        turning = {"delta": u.change, "direction": "up" if u.change > 0 else "down",
                   "cue": None}
    return TurnResult(turn_index=u.turn_index, probability=min(max(u.probability, 0.0), 1.0),
                      confidence=u.confidence, turning_point=turning)


def _one(session: EngineSession, turn: Turn) -> TurnResult | BaseException:
    try:
        return session.add_turn(turn)
    except Exception as exc:  # noqa: BLE001 - handed to that turn's caller
        return exc


class AgentEngineSession:
    """One live conversation of an :class:`AgentEngine`."""

    def __init__(self, session: AgentSession, turning_point_delta: float) -> None:
        self.session = session
        self.turning_point_delta = turning_point_delta

    def add_turn(self, turn: Turn) -> TurnResult:
        return _result(self.session.add(turn), self.turning_point_delta)


class AgentEngine:
    """A loaded :class:`~salesrl.agent.api.SalesAgent` as the service's engine."""

    def __init__(self, agent: SalesAgent, turning_point_delta: float = 0.1) -> None:
        self.agent = agent
        self.turning_point_delta = turning_point_delta
        self.model_version = f"agent:{agent.model_version}"

    @classmethod
    def load(cls, path: str | Path | None = None) -> AgentEngine:
        """Load a model directory (default: the shipped model) and warm its embedder up."""
        agent = load(path)
        agent.builder.load()
        return cls(agent)

    def new_session(self, metadata: Metadata) -> AgentEngineSession:
        return AgentEngineSession(self.agent.session(metadata), self.turning_point_delta)

    def restore_session(self, turns: list[Turn], metadata: Metadata) -> AgentEngineSession:
        """Replay ``turns`` into a fresh session."""
        session = self.new_session(metadata)
        for turn in turns:
            session.session.add(turn)
        return session

    def add_turns(self, items: Sequence[tuple[EngineSession, Turn]]
                  ) -> list[TurnResult | BaseException]:
        """The next turn of several sessions: their texts embedded in one call and their rows
        scored in one forward pass (see :class:`BatchEngine`)."""
        sessions = [s.session for s, _ in items if isinstance(s, AgentEngineSession)]
        if len(sessions) != len(items) or len({id(s) for s in sessions}) != len(items):
            return [_one(s, t) for s, t in items]  # foreign or repeated session: one by one
        try:
            embeddings = self.agent.builder.embed([turn.text for _, turn in items])
        except Exception:  # noqa: BLE001 - nothing updated yet: one by one, so each error
            return [_one(s, t) for s, t in items]  # finds its own turn
        # A failing forward pass raises for the whole batch (the service evicts each session).
        updates = AgentSession.add_many(
            [(s, t) for s, (_, t) in zip(sessions, items, strict=True)], embeddings)
        return [u if isinstance(u, Exception) else _result(u, self.turning_point_delta)
                for u in updates]

    def score(self, conversations: Sequence[Conversation]) -> list[list[TurnResult]]:
        """Every turn of every conversation, batched (prefix-only, as a session would)."""
        probs = self.agent.predict_many(list(conversations))
        return [[_result(u, self.turning_point_delta) for u in turn_updates(c.turns, p)]
                for c, p in zip(conversations, probs, strict=True)]
