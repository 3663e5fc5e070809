"""The trained agent behind the service's :class:`~salesrl.service.engine.Engine` protocol.

:class:`AgentEngine` wraps :func:`salesrl.load` (default: the model shipped with salesrl): a
live conversation is an :class:`~salesrl.agent.api.AgentSession` (one embedding, one O(1)
state update and one forward pass per turn, then the confidence tracker and the live turning
point); a session evicted from the service's cache is rebuilt by replaying the stored turns.
:meth:`AgentEngine.add_turns` scores the next turn of several sessions with one embedding call
(the service's scorer batches), and :meth:`AgentEngine.prepare_turns` embeds a batch apart from
the sessions, so the scorer can embed one batch while it scores the previous one.

Guidance never delays the probability: every turn of a batch is scored first, then the guide's
next move is added turn by turn while the batch is within ``guidance_budget_s``; a turn past
the budget gets ``{"status": "pending"}`` instead, and its advice is computed with the next
turn (the advice before a rep's move depends only on the acts so far).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from salesrl.agent.api import AgentSession, SalesAgent, TurnUpdate, load
from salesrl.conversation import Conversation, Metadata, Turn
from salesrl.service.engine import EngineSession, TurnResult

#: what a turn carries when its advice did not fit in the batch's time budget
PENDING = {"status": "pending", "reason": "guidance time budget spent on this batch"}


def _result(u: TurnUpdate, guidance: dict[str, Any] | None) -> TurnResult:
    turning = None
    if u.turning_point is not None:
        delta = u.turning_point["delta"]
        turning = {"delta": delta, "direction": "up" if delta > 0 else "down",
                   "cause": u.turning_point["cause"]}
    interval = None
    if u.interval is not None:
        interval = (min(max(u.interval[0], 0.0), 1.0), min(max(u.interval[1], 0.0), 1.0))
    return TurnResult(turn_index=u.turn_index, probability=min(max(u.probability, 0.0), 1.0),
                      confidence=u.confidence, interval=interval, abstain=u.abstain,
                      abstain_reason=u.abstain_reason, turning_point=turning,
                      guidance=guidance)


def _one(session: EngineSession, turn: Turn) -> TurnResult | BaseException:
    try:
        return session.add_turn(turn)
    except Exception as exc:  # noqa: BLE001 - handed to that turn's caller
        return exc


class AgentEngineSession:
    """One live conversation of an :class:`AgentEngine`."""

    def __init__(self, session: AgentSession) -> None:
        self.session = session

    def add_turn(self, turn: Turn) -> TurnResult:
        update = self.session.add(turn)
        return _result(update, self.session.next_move())


class AgentEngine:
    """A loaded :class:`~salesrl.agent.api.SalesAgent` as the service's engine."""

    def __init__(self, agent: SalesAgent, guidance_budget_s: float = 0.02) -> None:
        self.agent = agent
        self.guidance_budget_s = guidance_budget_s
        self.model_version = f"agent:{agent.model_version}"

    @classmethod
    def load(cls, path: str | Path | None = None) -> AgentEngine:
        """Load a model directory (default: the shipped model) and warm its embedder up."""
        agent = load(path)
        agent.builder.load()
        return cls(agent)

    def check_metadata(self, metadata: Metadata) -> None:
        """Raise :class:`~salesrl.conversation.DataError` (naming the field) when the model's
        context prior cannot read ``metadata`` (e.g. text where it learned a number)."""
        prior = getattr(self.agent.agent, "context_", None)
        if prior is not None:
            prior.logit_of([metadata])

    def new_session(self, metadata: Metadata) -> AgentEngineSession:
        # guidance=False: the engine asks for the next move itself, after the probability
        return AgentEngineSession(self.agent.session(metadata, guidance=False))

    def restore_session(self, turns: list[Turn], metadata: Metadata) -> AgentEngineSession:
        """Replay ``turns`` into a fresh session."""
        session = self.new_session(metadata)
        for turn in turns:
            session.session.add(turn)
        return session

    def prepare_turns(self, turns: Sequence[Turn]) -> np.ndarray:
        """The batch's text embeddings (one call; no session is touched), so the service's
        scorer can embed the next batch while this one is scored (see
        :class:`~salesrl.service.engine.PipelinedEngine`)."""
        return self.agent.builder.embed([turn.text for turn in turns])

    def add_turns(self, items: Sequence[tuple[EngineSession, Turn]],
                  prepared: np.ndarray | None = None) -> list[TurnResult | BaseException]:
        """The next turn of several sessions: their texts embedded in one call (or given, from
        :meth:`prepare_turns`) and their rows scored in one forward pass (see
        :class:`BatchEngine`), then the advice per turn within the time budget."""
        sessions = [s.session for s, _ in items if isinstance(s, AgentEngineSession)]
        if len(sessions) != len(items) or len({id(s) for s in sessions}) != len(items):
            return [_one(s, t) for s, t in items]  # foreign or repeated session: one by one
        embeddings = prepared
        if embeddings is None or len(embeddings) != len(items):
            try:
                embeddings = self.prepare_turns([turn for _, turn in items])
            except Exception:  # noqa: BLE001 - nothing updated yet: one by one, so each
                return [_one(s, t) for s, t in items]  # error finds its own turn
        # A failing forward pass raises for the whole batch (the service evicts each session).
        updates = AgentSession.add_many(
            [(s, t) for s, (_, t) in zip(sessions, items, strict=True)], embeddings)
        start = time.perf_counter()
        out: list[TurnResult | BaseException] = []
        for session, u in zip(sessions, updates, strict=True):
            if isinstance(u, Exception):
                out.append(u)
                continue
            guidance = None
            if self.agent.guide is not None:
                in_time = time.perf_counter() - start < self.guidance_budget_s
                guidance = session.next_move() if in_time else dict(PENDING)
            out.append(_result(u, guidance))
        return out

    def score(self, conversations: Sequence[Conversation]) -> list[list[TurnResult]]:
        """Every turn of every conversation, batched (prefix-only, as a session would; turning
        points are those of the whole conversation, as in ``salesrl analyze``)."""
        return [[_result(u, u.next_move) for u in ups]
                for ups in self.agent.analyze_many(list(conversations))]
