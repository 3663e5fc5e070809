"""Live conversations: :class:`AgentSession` consumes one turn at a time, in O(1) per turn.

After each turn a session returns a :class:`TurnUpdate`: P(sale) first (one embedding, one
:meth:`~salesrl.features.ConversationState.update`, one ensemble forward pass), then, when the
model carries them, what the rest of salesrl says about the same prefix: the confidence,
interval and abstention of :mod:`salesrl.confidence` (its O(1) tracker), a live turning point
(:class:`~salesrl.guidance.turning_points.LiveTurningPoints`) and the rep's next move from the
guide (tagger + offline advisor). Nothing here ever reads a later turn. Sessions serialise to
JSON-safe dicts so a service can persist and restore them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from salesrl.conversation import DataError, Metadata, Role, Turn
from salesrl.features.tracker import ConversationState

if TYPE_CHECKING:
    from salesrl.agent.api import SalesAgent
    from salesrl.agent.lexical_state import LexicalState
    from salesrl.confidence import Assessment, ConfidenceTracker
    from salesrl.guidance.turning_points import LiveTurningPoints, TurningPoint

__all__ = ["SESSION_VERSION", "AgentSession", "TurnUpdate", "turn_updates"]

SESSION_VERSION = 2


@dataclass(frozen=True)
class TurnUpdate:
    """What the agent says after one turn.

    ``change`` is the move since the previous turn (None on the first). ``confidence`` (the
    calibrated chance that the probability is on the right side of 0.5), ``interval``,
    ``abstain`` and ``abstain_reason`` come from the model's confidence module, and
    ``next_move`` (act, text, expected lift, examples) from its guide; they stay None when the
    model has none. ``turning_point`` is ``{"delta", "cause"}`` when this turn started a new
    level of P(sale).
    """

    turn_index: int
    role: str
    probability: float
    change: float | None
    confidence: float | None = None
    interval: tuple[float, float] | None = None
    abstain: bool = False
    abstain_reason: str | None = None
    turning_point: dict[str, Any] | None = None
    next_move: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.interval is not None:
            out["interval"] = list(self.interval)
        return out


def turning_point_dict(tp: TurningPoint | None) -> dict[str, Any] | None:
    return None if tp is None else {"delta": round(float(tp.delta), 6), "cause": tp.cause}


def turn_updates(turns: Sequence[Turn], probs: np.ndarray,
                 assessments: Sequence[Assessment] | None = None,
                 points: Mapping[int, TurningPoint] | None = None,
                 next_moves: Sequence[dict[str, Any] | None] | None = None
                 ) -> list[TurnUpdate]:
    """One :class:`TurnUpdate` per turn from per-turn probabilities (and the extras)."""
    out, last = [], None
    for i, (t, p) in enumerate(zip(turns, probs, strict=True)):
        a = assessments[i] if assessments is not None else None
        out.append(TurnUpdate(
            i, t.role.value, float(p), None if last is None else float(p) - last,
            **_assessment_fields(a),
            turning_point=turning_point_dict((points or {}).get(i)),
            next_move=next_moves[i] if next_moves is not None else None))
        last = float(p)
    return out


def _assessment_fields(a: Assessment | None) -> dict[str, Any]:
    if a is None:
        return {}
    return {"confidence": a.confidence, "interval": a.interval, "abstain": a.abstain,
            "abstain_reason": a.reason}


def _metadata(metadata: Metadata | Mapping[str, Any] | None) -> Metadata:
    if metadata is None or isinstance(metadata, Metadata):
        return metadata or Metadata()
    try:
        return Metadata.model_validate(dict(metadata))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataError(err["msg"], field="metadata." + ".".join(map(str, err["loc"]))) from None


class AgentSession:
    """One live conversation: :meth:`add_turn` returns the update after each turn in O(1).

    ``guidance=False`` skips the next-move advice (the service computes it off the
    probability's path).
    """

    def __init__(self, owner: SalesAgent, state: ConversationState, metadata: Metadata,
                 last_probability: float | None = None, lexical: LexicalState | None = None,
                 confidence: ConfidenceTracker | None = None,
                 turning: LiveTurningPoints | None = None,
                 acts: list[str] | None = None, roles: list[Role] | None = None,
                 guidance: bool = True) -> None:
        self.owner = owner
        self.state = state
        self.metadata = metadata
        # the context prior's logit: from the metadata only, the same on every turn
        prior = getattr(owner.agent, "context_", None)
        self.context_logit = (None if prior is None
                              else np.float32(prior.logit_of([metadata])[0]))
        self.last_probability = last_probability
        self.lexical = lexical
        self.confidence = confidence
        if turning is None:
            from salesrl.guidance.turning_points import LiveTurningPoints

            turning = LiveTurningPoints()
        self.turning = turning
        self.acts = acts if acts is not None else []
        self.roles = roles if roles is not None else []
        self.guidance = guidance

    @classmethod
    def start(cls, owner: SalesAgent, metadata: Metadata | Mapping[str, Any] | None = None,
              guidance: bool = True) -> AgentSession:
        """A session of ``owner`` with no turn yet."""
        lexical = None
        if owner.lexical is not None:
            from salesrl.agent.lexical_state import LexicalState

            lexical = LexicalState(owner.lexical)
        tracker = owner.confidence.new_tracker() if owner.confidence is not None else None
        return cls(owner, owner.builder.new_state(), _metadata(metadata), lexical=lexical,
                   confidence=tracker, guidance=guidance)

    @property
    def n_turns(self) -> int:
        return self.state.n_turns

    def add_turn(self, role: Role | str, text: str, start: float | None = None,
                 end: float | None = None) -> TurnUpdate:
        """Consume the next turn (``role`` is ``"rep"`` or ``"customer"``)."""
        try:
            r = role if isinstance(role, Role) else Role(str(role).strip().lower())
        except ValueError:
            raise DataError(f"unknown role {role!r}; use 'rep' or 'customer'",
                            field="role") from None
        try:
            turn = Turn(role=r, text=text, start=start, end=end)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise DataError(err["msg"].removeprefix("Value error, "),
                            field=".".join(map(str, err["loc"])) or None) from None
        return self.add(turn)

    def add(self, turn: Turn) -> TurnUpdate:
        """Consume a :class:`Turn`: one embedding, one state update, one forward pass."""
        embedding = self.owner.builder.embed([turn.text])[0]
        row, full = self._rows(turn, embedding)
        p, m = self.owner.agent.predict_with_members(full[None, :])
        return self._finish(turn, row, embedding, float(p[0]), m[0])

    def _rows(self, turn: Turn, embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(state row, the agent's row with the lexical and context columns when it has
        them)."""
        row = self.state.update(turn, embedding)
        full = row
        if self.lexical is not None:
            full = np.append(full, np.float32(self.lexical.update(turn)))
        if self.context_logit is not None:
            full = np.append(full, self.context_logit)
        return row, full

    def _finish(self, turn: Turn, row: np.ndarray, embedding: np.ndarray, p: float,
                members: np.ndarray, act: str | None = None,
                assessment: Assessment | None = None, advise: bool = True) -> TurnUpdate:
        """The update after the probability: confidence, turning point, next move (``act``
        and ``assessment``: the turn's tagged act and confidence when the caller computed a
        batch at once; ``advise=False`` leaves the next move to a batched caller)."""
        from salesrl.guidance.turning_points import turn_cause

        change = None if self.last_probability is None else p - self.last_probability
        self.last_probability = p
        if assessment is None and self.confidence is not None:
            assessment = self.confidence.update(turn, row, p, members, embedding)
        acts = self.state.tracker.last_acts_
        cause = turn_cause(sorted(acts.labels) if acts is not None else [], turn.text)
        tp = self.turning.update(p, cause)
        next_move = None
        guide = self.owner.guide
        if guide is not None:
            self.acts.append(act if act is not None
                             else guide.tagger.predict([turn.text], turn.role)[0])
            self.roles.append(turn.role)
            if self.guidance and advise:
                next_move = guide.advise_acts(self.acts, self.roles).to_dict()
        return TurnUpdate(self.state.n_turns - 1, turn.role.value, p, change,
                          **_assessment_fields(assessment),
                          turning_point=turning_point_dict(tp), next_move=next_move)

    def next_move(self) -> dict[str, Any] | None:
        """The guide's advice for the rep's next turn given the turns so far (None: no guide)."""
        guide = self.owner.guide
        if guide is None:
            return None
        return guide.advise_acts(self.acts, self.roles).to_dict()

    @staticmethod
    def add_many(items: Sequence[tuple[AgentSession, Turn]], embeddings: np.ndarray
                 ) -> list[TurnUpdate | Exception]:
        """:meth:`add` for the next turn of several sessions of one agent, batched.

        ``embeddings[i]`` is the embedding of ``items[i]``'s turn (computed in one call by the
        caller); the rows are scored in one forward pass. Each session must appear once. An
        item whose state update fails gets its error in its slot; the others go on.
        """
        if len({id(s) for s, _ in items}) != len(items):
            raise ValueError("add_many: a session appears more than once")
        out: list[TurnUpdate | Exception | None] = []
        rows, full, ok = [], [], []
        for i, (session, turn) in enumerate(items):
            try:
                row, f = session._rows(turn, embeddings[i])
            except Exception as exc:  # noqa: BLE001 - reported in this item's slot
                out.append(exc)
                continue
            out.append(None)
            rows.append(row)
            full.append(f)
            ok.append(i)
        if full:
            owner = items[ok[0]][0].owner
            probs, members = owner.agent.predict_with_members(np.stack(full))
            acts: list[str | None] = [None] * len(items)
            if owner.guide is not None:  # one tagger call per role for the whole batch
                for role in Role:
                    idx = [i for i in ok if items[i][1].role is role]
                    tagged = owner.guide.tagger.predict([items[i][1].text for i in idx], role)
                    for i, a in zip(idx, tagged, strict=True):
                        acts[i] = a
            assessments: list[Assessment | None] = [None] * len(ok)
            if owner.confidence is not None:  # one reference search for the whole batch
                from salesrl.confidence import ConfidenceTracker

                trackers = [items[i][0].confidence for i in ok]
                assessments = list(ConfidenceTracker.update_many(
                    trackers, [items[i][1] for i in ok], np.stack(rows), probs, members,
                    embeddings[ok]))
            for j, i in enumerate(ok):
                session, turn = items[i]
                try:
                    out[i] = session._finish(turn, rows[j], embeddings[i], float(probs[j]),
                                             members[j], acts[i], assessments[j], advise=False)
                except Exception as exc:  # noqa: BLE001 - reported in this item's slot
                    out[i] = exc
            if owner.guide is not None:  # one advisor pass for the whole batch
                want = [i for i in ok
                        if isinstance(out[i], TurnUpdate) and items[i][0].guidance]
                moves = owner.guide.advise_many([(items[i][0].acts, items[i][0].roles)
                                                 for i in want])
                for i, move in zip(want, moves, strict=True):
                    out[i] = replace(out[i], next_move=move.to_dict())
        return [u for u in out if u is not None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot (running sums and short per-turn lists, not the texts)."""
        return {"version": SESSION_VERSION, "state": self.state.to_dict(),
                "metadata": self.metadata.model_dump(mode="json"),
                "last_probability": self.last_probability,
                "lexical": self.lexical.to_dict() if self.lexical is not None else None,
                "confidence": (self.confidence.to_dict() if self.confidence is not None
                               else None),
                "turning": self.turning.to_dict(), "acts": list(self.acts),
                "roles": [r.value for r in self.roles], "guidance": self.guidance}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], owner: SalesAgent) -> AgentSession:
        """Continue a session saved by :meth:`to_dict` with ``owner``'s agent and builder."""
        from salesrl.confidence import ConfidenceTracker
        from salesrl.guidance.turning_points import LiveTurningPoints

        if data.get("version") != SESSION_VERSION:
            raise ValueError(f"unsupported session version {data.get('version')!r} "
                             f"(this salesrl reads version {SESSION_VERSION})")
        state = owner.builder.state_from_dict(data["state"])
        last = data.get("last_probability")
        lexical = None
        if owner.lexical is not None:
            if data.get("lexical") is None:
                raise ValueError("saved session has no lexical state but the agent needs one")
            from salesrl.agent.lexical_state import LexicalState

            lexical = LexicalState.from_dict(data["lexical"], owner.lexical)
        tracker = None
        if owner.confidence is not None:
            if data.get("confidence") is None:
                raise ValueError("saved session has no confidence state but the model has a "
                                 "confidence module")
            tracker = ConfidenceTracker.from_dict(data["confidence"], owner.confidence)
        return cls(owner, state, _metadata(data.get("metadata")),
                   None if last is None else float(last), lexical, tracker,
                   LiveTurningPoints.from_dict(data["turning"]), list(data.get("acts", [])),
                   [Role(r) for r in data.get("roles", [])], bool(data.get("guidance", True)))

    def __repr__(self) -> str:
        return f"AgentSession(n_turns={self.n_turns}, last_probability={self.last_probability})"
