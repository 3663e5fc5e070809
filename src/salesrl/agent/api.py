"""The Python API: ``agent = salesrl.load(path)``, then ``predict`` or a live ``session``.

A model directory holds the trained :class:`~salesrl.agent.model.ConversionAgent`
(``agent.json`` + ``weights.safetensors``, see :mod:`~salesrl.agent.artifacts`) and
``state.json``, the configuration of the :class:`~salesrl.features.StateBuilder` it was
trained on (embedding backend, its options and model id, decay, window, importance weights).
Loading rebuilds that exact builder, so the rows the agent reads at run time are made the way
its training rows were; asking for another embedding backend raises
:class:`~salesrl.agent.artifacts.IncompatibleArtifactError`.

``predict(conversation)`` scores every prefix of a whole conversation (row ``t`` from turns
``0..t``); a :class:`AgentSession` consumes one turn at a time: one embedding of the new turn,
an O(1) :meth:`~salesrl.features.ConversationState.update` and one forward pass, never a
recomputation of earlier turns. Sessions serialise to JSON-safe dicts for the service. When
the agent was trained with the lexical-evidence column (:mod:`salesrl.agent.lexical`), that
column is appended to each row, incrementally in sessions (:mod:`~.lexical_state`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from salesrl.agent.artifacts import (
    IncompatibleArtifactError,
    check_embedding,
    read_config,
)
from salesrl.agent.model import ConversionAgent
from salesrl.conversation import Conversation, DataError, Metadata, Outcome, Role, Turn
from salesrl.features.tracker import (
    ConversationState,
    StateBuilder,
    StateConfig,
    default_cache_path,
)
from salesrl.models import DEFAULT_MODEL_DIR

if TYPE_CHECKING:
    from salesrl.agent.lexical_state import LexicalState

__all__ = ["DEFAULT_MODEL_DIR", "AgentSession", "SalesAgent", "StateDriftWarning", "TurnUpdate",
           "load", "turn_updates"]

STATE_FILE = "state.json"
CARD_FILE = "model_card.json"
STATE_FORMAT = "salesrl-state-builder"
SESSION_VERSION = 1
# StateConfig fields that say where to cache, not what the rows are: not saved.
_RUNTIME_FIELDS = ("cache", "cache_path")
# A fixed call whose rows are summarised in state.json at training time and recomputed at load:
# if the features code changed since, the rows differ and load() warns (StateDriftWarning).
PROBE = [Turn(role=Role.REP, text="Hi, thanks for taking the time today. How are things?",
              start=0.0, end=3.5),
         Turn(role=Role.CUSTOMER, text="Busy. Honestly it's too expensive for us right now, "
              "maybe next quarter.", start=4.0, end=8.0),
         Turn(role=Role.REP, text="I understand. What if we start with a small pilot at half "
              "the price?", start=8.5, end=12.0),
         Turn(role=Role.CUSTOMER, text="OK, that sounds good. Send me the contract.",
              start=12.5, end=15.0)]
PROBE_RTOL, PROBE_ATOL = 1e-3, 1e-4


class StateDriftWarning(UserWarning):
    """The state builder now makes other rows than the ones the model was trained on."""


def probe_digest(builder: StateBuilder) -> list[float]:
    """Per-row ``[sum |x|, sum x]`` of :data:`PROBE`'s rows: a fingerprint of the features code."""
    rows = builder.encode(PROBE).astype(np.float64)
    return np.stack([np.abs(rows).sum(1), rows.sum(1)], axis=1).reshape(-1).round(6).tolist()


@dataclass(frozen=True)
class TurnUpdate:
    """What the agent says after one turn.

    ``change`` is the move since the previous turn (None on the first turn); ``confidence``
    stays None until the confidence module lands.
    """

    turn_index: int
    role: str
    probability: float
    change: float | None
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def turn_updates(turns: Sequence[Turn], probs: np.ndarray) -> list[TurnUpdate]:
    """One :class:`TurnUpdate` per turn from per-turn probabilities."""
    out, last = [], None
    for i, (t, p) in enumerate(zip(turns, probs, strict=True)):
        out.append(TurnUpdate(i, t.role.value, float(p),
                              None if last is None else float(p) - last))
        last = float(p)
    return out


def _as_conversation(conversation: Conversation | Sequence[Turn] | Mapping[str, Any]
                     ) -> Conversation:
    if isinstance(conversation, Conversation):
        return conversation
    if isinstance(conversation, Mapping):
        from salesrl.conversation import parse_conversation

        return parse_conversation(dict(conversation))
    return Conversation(id="conversation", turns=list(conversation), outcome=Outcome.UNKNOWN)


def _metadata(metadata: Metadata | Mapping[str, Any] | None) -> Metadata:
    if metadata is None or isinstance(metadata, Metadata):
        return metadata or Metadata()
    try:
        return Metadata.model_validate(dict(metadata))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataError(err["msg"], field="metadata." + ".".join(map(str, err["loc"]))) from None


def state_config_to_dict(config: StateConfig) -> dict[str, Any]:
    """The :class:`StateConfig` fields that define the rows (not where the cache lives)."""
    return {f.name: getattr(config, f.name) for f in fields(StateConfig)
            if f.name not in _RUNTIME_FIELDS}


class SalesAgent:
    """A trained agent together with the state builder it was trained with.

    Make one with :func:`load` (or :func:`salesrl.agent.pipeline.train_agent`); ``agent`` and
    ``builder`` are public for callers that need the rows or the ensemble members.
    """

    def __init__(self, agent: ConversionAgent, builder: StateBuilder,
                 card: Mapping[str, Any] | None = None, path: Path | None = None) -> None:
        self.agent = agent
        self.builder = builder
        self.card = dict(card or {})
        self.path = path
        self.lexical = getattr(agent, "lexical_", None)

    # -- identity ---------------------------------------------------------------------------
    @property
    def embedding_backend(self) -> str:
        return self.builder.backend_name

    @property
    def model_version(self) -> str:
        """A short name for logs and the service: ``<dir name>@<creation time>``."""
        name = self.path.name if self.path is not None else "in-memory"
        return f"{name}@{self.card.get('created', 'unsaved')}"

    # -- whole conversations ----------------------------------------------------------------
    def predict(self, conversation: Conversation | Sequence[Turn] | Mapping[str, Any]
                ) -> np.ndarray:
        """P(sale) after every turn, shape ``(T,)``; entry ``t`` uses turns ``0..t`` only."""
        return self.predict_many([_as_conversation(conversation)])[0]

    def rows(self, conversations: Sequence[Conversation]) -> list[np.ndarray]:
        """The agent's input rows of every prefix of each conversation (``(T_i, obs_dim)``)."""
        rows = self.builder.encode_many(conversations)
        if self.lexical is not None:
            z = self.lexical.logits(conversations)
            rows = [np.concatenate([r, zi[:, None].astype(np.float32)], axis=1)
                    for r, zi in zip(rows, z, strict=True)]
        return rows

    def predict_many(self, conversations: Sequence[Conversation]) -> list[np.ndarray]:
        """:meth:`predict` of each conversation, embedding the distinct turns in batches."""
        convs = [_as_conversation(c) for c in conversations]
        return [self.agent.predict_proba_rows(r).astype(np.float64) if len(r)
                else np.zeros(0, dtype=np.float64) for r in self.rows(convs)]

    def analyze(self, conversation: Conversation | Sequence[Turn] | Mapping[str, Any]
                ) -> list[TurnUpdate]:
        """One :class:`TurnUpdate` per turn (what a session would have said)."""
        conv = _as_conversation(conversation)
        return turn_updates(conv.turns, self.predict(conv))

    # -- live conversations -----------------------------------------------------------------
    def session(self, metadata: Metadata | Mapping[str, Any] | None = None) -> AgentSession:
        """A live session with no turn yet."""
        lexical = None
        if self.lexical is not None:
            from salesrl.agent.lexical_state import LexicalState

            lexical = LexicalState(self.lexical)
        return AgentSession(self, self.builder.new_state(), _metadata(metadata),
                            lexical=lexical)

    def restore(self, data: Mapping[str, Any]) -> AgentSession:
        """A session saved by :meth:`AgentSession.to_dict`."""
        return AgentSession.from_dict(data, self)

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | Path, card: Mapping[str, Any] | None = None) -> Path:
        """Write the agent artifact, ``state.json`` and ``model_card.json`` into ``path``."""
        path = Path(path)
        self.agent.save(path)
        b = self.builder
        doc = {"format": STATE_FORMAT, "version": 1,
               "embedding": {"backend": b.backend_name, "model_id": b.model_id,
                             "dim": b.embedding_dim},
               "obs_dim": b.obs_dim, "config": state_config_to_dict(b.config),
               "probe": {"digest": probe_digest(b), "rtol": PROBE_RTOL, "atol": PROBE_ATOL}}
        _write_json(path / STATE_FILE, doc)
        agent_doc = read_config(path)
        self.card = {**self.card, **dict(card or {}), "created": agent_doc.get("created")}
        _write_json(path / CARD_FILE, self.card)
        self.path = path
        return path

    def __repr__(self) -> str:
        return (f"SalesAgent(backend={self.embedding_backend!r}, "
                f"members={len(self.agent.members_)}, path={str(self.path)!r})")


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class AgentSession:
    """One live conversation: :meth:`add_turn` returns the update after each turn in O(1)."""

    def __init__(self, owner: SalesAgent, state: ConversationState, metadata: Metadata,
                 last_probability: float | None = None, lexical: LexicalState | None = None
                 ) -> None:
        self.owner = owner
        self.state = state
        self.metadata = metadata
        self.last_probability = last_probability
        self.lexical = lexical

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
        row = self.state.update(turn)
        if self.lexical is not None:
            row = np.append(row, np.float32(self.lexical.update(turn)))
        p = float(self.owner.agent.predict_proba_rows(row[None, :])[0])
        change = None if self.last_probability is None else p - self.last_probability
        self.last_probability = p
        return TurnUpdate(self.state.n_turns - 1, turn.role.value, p, change)

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
        rows, ok = [], []
        for i, (session, turn) in enumerate(items):
            try:
                row = session.state.update(turn, embeddings[i])
                if session.lexical is not None:
                    row = np.append(row, np.float32(session.lexical.update(turn)))
            except Exception as exc:  # noqa: BLE001 - reported in this item's slot
                out.append(exc)
                continue
            out.append(None)
            rows.append(row)
            ok.append(i)
        if rows:
            probs = items[ok[0]][0].owner.agent.predict_proba_rows(np.stack(rows))
            for i, prob in zip(ok, probs, strict=True):
                session, turn = items[i]
                p, last = float(prob), session.last_probability
                session.last_probability = p
                out[i] = TurnUpdate(session.state.n_turns - 1, turn.role.value, p,
                                    None if last is None else p - last)
        return [u for u in out if u is not None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot (the state's running sums, not the turns)."""
        return {"version": SESSION_VERSION, "state": self.state.to_dict(),
                "metadata": self.metadata.model_dump(mode="json"),
                "last_probability": self.last_probability,
                "lexical": self.lexical.to_dict() if self.lexical is not None else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], owner: SalesAgent) -> AgentSession:
        """Continue a session saved by :meth:`to_dict` with ``owner``'s agent and builder."""
        if data.get("version") != SESSION_VERSION:
            raise ValueError(f"unsupported session version {data.get('version')!r}")
        state = owner.builder.state_from_dict(data["state"])
        last = data.get("last_probability")
        lexical = None
        if owner.lexical is not None:
            if data.get("lexical") is None:
                raise ValueError("saved session has no lexical state but the agent needs one")
            from salesrl.agent.lexical_state import LexicalState

            lexical = LexicalState.from_dict(data["lexical"], owner.lexical)
        return cls(owner, state, _metadata(data.get("metadata")),
                   None if last is None else float(last), lexical)

    def __repr__(self) -> str:
        return f"AgentSession(n_turns={self.n_turns}, last_probability={self.last_probability})"


def _read_state_doc(path: Path) -> dict[str, Any]:
    file = path / STATE_FILE
    if not file.exists():
        raise FileNotFoundError(
            f"{file}: missing; this directory holds an agent without its state-builder "
            "configuration (train models for salesrl.load with 'salesrl train')")
    doc = json.loads(file.read_text(encoding="utf-8"))
    if doc.get("format") != STATE_FORMAT:
        raise IncompatibleArtifactError(f"{file}: not a salesrl state-builder file")
    return doc


def load(path: str | Path | None = None, *, embedding: str | None = None,
         cache_path: str | Path | None = None,
         backend_options: Mapping[str, Any] | None = None,
         check_state: bool = True) -> SalesAgent:
    """Load a model directory (default: the model shipped with salesrl).

    Args:
        path: a directory written by ``salesrl train`` / :meth:`SalesAgent.save`.
        embedding: the backend the caller expects; a model trained on another one raises
            :class:`IncompatibleArtifactError` (None: use the model's own backend).
        cache_path: the embedding cache's SQLite file (default
            :func:`~salesrl.features.tracker.default_cache_path`).
        backend_options: run-time options merged over the saved ones (e.g.
            ``intra_op_num_threads`` for MiniLM).
        check_state: encode a fixed probe call and compare its rows with the ones recorded at
            training time; a difference (the features code changed) warns with
            :class:`StateDriftWarning`. This loads the embedding model now.
    """
    path = Path(path) if path is not None else DEFAULT_MODEL_DIR
    if not path.is_dir():
        hint = ("; the shipped default model is missing: rebuild it with "
                "bench/train_default_model.sh") if path == DEFAULT_MODEL_DIR else ""
        raise FileNotFoundError(f"{path}: no model directory here{hint}")
    doc = read_config(path)
    if embedding is not None:
        check_embedding(doc, embedding.strip().lower().replace("_", "-"), None,
                        where=f"model {path}")
    sdoc = _read_state_doc(path)
    cfg = dict(sdoc["config"])
    cfg["backend_options"] = {**cfg.get("backend_options", {}), **dict(backend_options or {})}
    known = {f.name for f in fields(StateConfig)}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise IncompatibleArtifactError(f"{path / STATE_FILE}: unknown state settings "
                                        f"{unknown}; upgrade salesrl")
    builder = StateBuilder(StateConfig(**cfg), cache=True,
                           cache_path=str(cache_path or default_cache_path()))
    want = sdoc["embedding"]
    if (builder.backend_name, builder.model_id) != (want["backend"], want["model_id"]):
        raise IncompatibleArtifactError(
            f"model {path} was trained on embedding model {want['model_id']!r} "
            f"({want['backend']}), but this installation provides {builder.model_id!r}; "
            "retrain the model or install the matching embedding model")
    agent = ConversionAgent.load(path, embedding_backend=builder.backend_name,
                                 embedding_dim=builder.embedding_dim)
    width = builder.obs_dim + (getattr(agent, "lexical_", None) is not None)
    if width != agent.input_layout_.obs_dim:
        raise IncompatibleArtifactError(
            f"model {path}: the state builder makes rows of width {width} "
            f"but the agent reads {agent.input_layout_.obs_dim}; retrain the model")
    probe = sdoc.get("probe")
    if check_state and probe:
        now = np.asarray(probe_digest(builder))
        then = np.asarray(probe["digest"])
        if now.shape != then.shape or not np.allclose(now, then, rtol=probe["rtol"],
                                                      atol=probe["atol"]):
            warnings.warn(
                f"model {path}: the state builder makes other rows than at training time (the "
                "features code or the embedding model changed), so its probabilities may be "
                "off; retrain it (for the shipped model: bench/train_default_model.sh)",
                StateDriftWarning, stacklevel=2)
    card_file = path / CARD_FILE
    card = json.loads(card_file.read_text(encoding="utf-8")) if card_file.exists() else {}
    card.setdefault("created", doc.get("created"))
    return SalesAgent(agent, builder, card, path)
