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
column is appended to each row, incrementally in sessions (:mod:`~.lexical_state`); when it
was trained with the context prior (:mod:`salesrl.agent.context`), the logit of the call's
metadata follows (a session computes it once, from the metadata it is started with).

A model directory may also hold ``confidence/`` (a :class:`~salesrl.confidence.
ConfidenceModel` fitted on out-of-fold predictions, :mod:`salesrl.confidence.agent_fit`)
and ``guide/``
(tagger, offline advisor and example index, :mod:`salesrl.guidance.fitting`); then every
:class:`TurnUpdate` carries confidence, interval, abstention and the rep's next move.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from salesrl.agent.artifacts import (
    IncompatibleArtifactError,
    check_embedding,
    read_config,
)
from salesrl.agent.context import append_context
from salesrl.agent.model import ConversionAgent
from salesrl.agent.session import SESSION_VERSION, AgentSession, TurnUpdate, turn_updates
from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn
from salesrl.features.tracker import StateBuilder, StateConfig, default_cache_path
from salesrl.models import DEFAULT_MODEL_DIR

if TYPE_CHECKING:
    from salesrl.confidence import ConfidenceModel
    from salesrl.guidance.guide import Guide

__all__ = ["DEFAULT_MODEL_DIR", "SESSION_VERSION", "AgentSession", "SalesAgent",
           "StateDriftWarning", "TurnUpdate", "load", "turn_updates"]

STATE_FILE = "state.json"
CARD_FILE = "model_card.json"
STATE_FORMAT = "salesrl-state-builder"
CONFIDENCE_DIR = "confidence"
GUIDE_DIR = "guide"
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


def _as_conversation(conversation: Conversation | Sequence[Turn] | Mapping[str, Any]
                     ) -> Conversation:
    if isinstance(conversation, Conversation):
        return conversation
    if isinstance(conversation, Mapping):
        from salesrl.conversation import parse_conversation

        return parse_conversation(dict(conversation))
    return Conversation(id="conversation", turns=list(conversation), outcome=Outcome.UNKNOWN)


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
                 card: Mapping[str, Any] | None = None, path: Path | None = None,
                 confidence: ConfidenceModel | None = None, guide: Guide | None = None
                 ) -> None:
        self.agent = agent
        self.builder = builder
        self.card = dict(card or {})
        self.path = path
        self.lexical = getattr(agent, "lexical_", None)
        self.context = getattr(agent, "context_", None)
        self.confidence = confidence
        self.guide = guide

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
        return append_context(self.agent, conversations, rows)

    def predict_many(self, conversations: Sequence[Conversation]) -> list[np.ndarray]:
        """:meth:`predict` of each conversation, embedding the distinct turns in batches."""
        convs = [_as_conversation(c) for c in conversations]
        return [self.agent.predict_proba_rows(r).astype(np.float64) if len(r)
                else np.zeros(0, dtype=np.float64) for r in self.rows(convs)]

    def analyze(self, conversation: Conversation | Sequence[Turn] | Mapping[str, Any]
                ) -> list[TurnUpdate]:
        """One :class:`TurnUpdate` per turn, with every extra the model carries.

        Probability, confidence, interval and next move after turn ``t`` use turns ``0..t``
        only (what a live session would have said). Turning points are the change points of
        the *whole* probability series (:func:`~salesrl.guidance.turning_points.
        conversation_turning_points`): a review after the call, where a live session flags
        them as the turns arrive.
        """
        return self.analyze_many([_as_conversation(conversation)])[0]

    def analyze_many(self, conversations: Sequence[Conversation]) -> list[list[TurnUpdate]]:
        """:meth:`analyze` of several conversations (embedding batched)."""
        from salesrl.guidance.turning_points import conversation_turning_points

        convs = [_as_conversation(c) for c in conversations]
        all_rows = self.rows(convs)
        out = []
        for conv, rows in zip(convs, all_rows, strict=True):
            if not len(rows):
                out.append([])
                continue
            p, m = self.agent.predict_with_members(rows)
            assessments = None
            if self.confidence is not None:
                from salesrl.confidence import TurnInputs

                d = self.builder.obs_dim
                inputs = TurnInputs.from_conversations([conv], [rows[:, :d]],
                                                       self.builder.embed)
                batch = self.confidence.assess_batch(inputs, p, m)
                assessments = [batch.item(i) for i in range(len(batch))]
            points = {tp.index: tp for tp in conversation_turning_points(p, conv.turns)}
            moves = None
            if self.guide is not None:
                acts = self.guide.tagger.tag(conv)
                roles = [t.role for t in conv.turns]
                moves = [g.to_dict() for g in self.guide.advise_many(
                    [(acts[: i + 1], roles[: i + 1]) for i in range(len(acts))])]
            out.append(turn_updates(conv.turns, p, assessments, points, moves))
        return out

    # -- live conversations -----------------------------------------------------------------
    def session(self, metadata: Metadata | Mapping[str, Any] | None = None, *,
                guidance: bool = True) -> AgentSession:
        """A live session with no turn yet (``guidance=False``: no next move per turn)."""
        return AgentSession.start(self, metadata, guidance=guidance)

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
        if self.confidence is not None:
            self.confidence.save(path / CONFIDENCE_DIR)
        if self.guide is not None:
            self.guide.save(path / GUIDE_DIR)
        self.path = path
        return path

    def __repr__(self) -> str:
        return (f"SalesAgent(backend={self.embedding_backend!r}, "
                f"members={len(self.agent.members_)}, confidence={self.confidence is not None}"
                f", guide={self.guide is not None}, path={str(self.path)!r})")


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


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
         check_state: bool = True, confidence: bool = True, guide: bool = True
         ) -> SalesAgent:
    """Load a model directory (default: the model shipped with salesrl).

    Args:
        path: a directory written by ``salesrl train`` / :meth:`SalesAgent.save`.
        embedding: the backend the caller expects; a model trained on another one raises
            :class:`IncompatibleArtifactError` (None: use the model's own backend).
        cache_path: the embedding cache's SQLite file (default
            :func:`~salesrl.features.tracker.default_cache_path`).
        backend_options: run-time options merged over the saved ones (e.g.
            ``intra_op_num_threads`` for MiniLM; MiniLM backends load with
            ``allow_spinning=False`` unless this says otherwise).
        check_state: encode a fixed probe call and compare its rows with the ones recorded at
            training time; a difference (the features code changed) warns with
            :class:`StateDriftWarning`. This loads the embedding model now.
        confidence, guide: load the model's confidence module / guide when it has one
            (``confidence/``, ``guide/`` in the directory); False skips them.
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
    # Inference embeds a turn or a few at a time: onnxruntime's intra-op workers would spin
    # between the small operators and burn a whole core per process for nothing (measured:
    # twice the CPU per turn). Training builds its own builder and keeps spinning on.
    runtime = {"allow_spinning": False} if str(cfg.get("backend", "")).startswith("minilm") else {}
    cfg["backend_options"] = {**cfg.get("backend_options", {}), **runtime,
                              **dict(backend_options or {})}
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
    width = (builder.obs_dim + (getattr(agent, "lexical_", None) is not None)
             + (getattr(agent, "context_", None) is not None))
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
    conf_model = guide_model = None
    if confidence and (path / CONFIDENCE_DIR).is_dir():
        from salesrl.confidence import ConfidenceModel

        conf_model = ConfidenceModel.load(path / CONFIDENCE_DIR)
        want_dim = builder.state_dim
        if conf_model.state_dim != want_dim:
            raise IncompatibleArtifactError(
                f"{path / CONFIDENCE_DIR}: fitted on state rows of width "
                f"{conf_model.state_dim}, the state builder makes {want_dim}; retrain")
    if guide and (path / GUIDE_DIR).is_dir():
        from salesrl.guidance.guide import Guide

        guide_model = Guide.load(path / GUIDE_DIR)
    return SalesAgent(agent, builder, card, path, conf_model, guide_model)
