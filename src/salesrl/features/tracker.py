"""Turn-by-turn conversation state: the one observation row the agent reads after every turn.

:class:`ConversationState` consumes one turn at a time in O(1) time and memory (nothing grows
with the conversation) and returns the row ``[state | window | mask]`` laid out by the agent's
:class:`~salesrl.agent.data.ObsLayout`:

* ``state`` (:data:`StateBuilder.state_names`):

  - the *history embedding*, a recency- and importance-weighted mean of the turn embeddings,
    ``h_t = sum_i w_i d^(t-i) e_i / sum_i w_i d^(t-i)`` kept as two running sums
    (exponential forgetting with factor ``d = decay``, as in an EWMA). The importance ``w_i =
    1 + a_obj * objection_i + a_buy * buying_i + a_q * question_i`` raises turns the signal
    tracker scores as objections (also stall / rejection), buying signals (interest,
    commitment) and questions (the customer's, and the rep's SPIN questions);
  - the running mean embedding of each role (rep, customer; zeros before its first turn);
  - ``log1p`` of the history mass ``sum_i w_i d^(t-i)`` and the latest importance;
  - the running :class:`~salesrl.features.signals.SignalTracker` signals, squashed by
    ``sign(x) * log1p(|x|)`` so that word counts and seconds do not dwarf act scores;

* ``window``: the vectors ``[embedding | is_rep]`` of the last ``K`` turns, oldest first,
  left zero-padded, and its ``mask`` (1 = real turn), for the agent's sequence encoder.

:class:`StateBuilder` holds the configuration and the (cached) embedding backend, makes fresh
states and encodes whole conversations with the same ``update`` fold, given embeddings computed
in one batched backend call, so training, evaluation, the CLI and the service share one code
path and row ``t`` depends on turns ``0..t`` only. Each turn is embedded once; its embedding
also feeds the signal tracker's prototype act detector.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from salesrl.conversation import OBJECTION_ACTS, SPIN_ACTS, Conversation, CustomerAct, Role, Turn
from salesrl.features.embeddings import CachedEmbedder, EmbeddingBackend, get_backend
from salesrl.features.signals import (
    FEATURE_NAMES,
    ActDetector,
    PrototypeDetector,
    SignalTracker,
)
from salesrl.features.signals.detectors import ACT_INDEX

if TYPE_CHECKING:
    from salesrl.agent.data import ObsLayout

__all__ = [
    "BACKEND_ENV",
    "CACHE_DIR_ENV",
    "ConversationState",
    "StateBuilder",
    "StateConfig",
    "default_cache_path",
]

STATE_VERSION = 1
BACKEND_ENV = "SALESRL_EMBEDDING_BACKEND"
CACHE_DIR_ENV = "SALESRL_CACHE_DIR"
CACHE_FILE = "embeddings.sqlite"

_OBJECTION_IDX = tuple([ACT_INDEX[a.value] for a in OBJECTION_ACTS]
                       + [ACT_INDEX[CustomerAct.STALL.value],
                          ACT_INDEX[CustomerAct.REJECTION.value]])
_BUYING_IDX = (ACT_INDEX[CustomerAct.INTEREST.value], ACT_INDEX[CustomerAct.COMMITMENT.value])
_QUESTION_IDX = tuple([ACT_INDEX[CustomerAct.QUESTION.value]]
                      + [ACT_INDEX[a.value] for a in SPIN_ACTS])

#: (done, total, what): ``what`` is ``"embedding"`` (texts) or ``"encoding"`` (conversations)
ProgressCallback = Callable[[int, int, str], None]


def default_cache_path() -> Path:
    """``$SALESRL_CACHE_DIR/embeddings.sqlite``, else ``~/.cache/salesrl/embeddings.sqlite``."""
    root = os.environ.get(CACHE_DIR_ENV) or str(Path.home() / ".cache" / "salesrl")
    return Path(root).expanduser() / CACHE_FILE


def default_backend_name() -> str:
    """``$SALESRL_EMBEDDING_BACKEND``, else ``minilm``."""
    return os.environ.get(BACKEND_ENV, "").strip() or "minilm"


def turn_count_column(state_dim: int, embedding_dim: int) -> int | None:
    """Index of ``sig_n_turns`` (``log(1 + turns so far)``) in a row whose state part has
    :class:`StateBuilder`'s layout for ``embedding_dim``; None when ``state_dim`` says the rows
    were built some other way."""
    if embedding_dim <= 0 or state_dim != 3 * embedding_dim + 2 + len(FEATURE_NAMES):
        return None
    return 3 * embedding_dim + 2 + FEATURE_NAMES.index("n_turns")


def _squash(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: monotone, 0 at 0, tames counts and seconds."""
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass
class StateConfig:
    """What the state is made of; :class:`StateBuilder` takes one (or its fields as keywords).

    Args:
        backend: embedding backend name (:func:`salesrl.features.embeddings.get_backend`).
        backend_options: keyword options of the backend (e.g. ``intra_op_num_threads``).
        decay: per-turn recency factor ``d`` in (0, 1] of the history embedding.
        window: ``K``, the number of recent turn vectors in the row (0: none).
        cache: embed through a :class:`CachedEmbedder` (each distinct text once).
        cache_path: its SQLite file; None keeps the cache in memory.
        importance_objection, importance_buying, importance_question: the weights ``a_*`` of
            the importance ``w = 1 + a_obj*objection + a_buy*buying + a_q*question``.
        prototypes: fuse embedding-prototype act scores into the signal tracker's detector.
        ewma_alpha: smoothing of the signal tracker's running averages.
    """

    backend: str = "minilm"
    backend_options: dict[str, Any] = field(default_factory=dict)
    decay: float = 0.85
    window: int = 8
    cache: bool = True
    cache_path: str | Path | None = None
    importance_objection: float = 2.0
    importance_buying: float = 2.0
    importance_question: float = 1.0
    prototypes: bool = True
    ewma_alpha: float = 0.3

    def validate(self) -> None:
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], not {self.decay}")
        if self.window < 0:
            raise ValueError(f"window must be >= 0, not {self.window}")
        for name in ("importance_objection", "importance_buying", "importance_question"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if not 0.0 < self.ewma_alpha <= 1.0:
            raise ValueError("ewma_alpha must be in (0, 1]")

    def fingerprint(self, model_id: str, dim: int) -> dict[str, Any]:
        """What a saved state must agree on to be continued by a builder."""
        return {"backend": self.backend, "model_id": model_id, "dim": dim,
                "decay": self.decay, "window": self.window,
                "importance": [self.importance_objection, self.importance_buying,
                               self.importance_question],
                "prototypes": self.prototypes, "ewma_alpha": self.ewma_alpha}


class StateBuilder:
    """Builds :class:`ConversationState` objects and encodes conversations into state rows.

    Construction is cheap: the backend model, the cache and the prototype detector load on
    first use. ``encode(conversation)`` returns ``(T, obs_dim)`` float32 rows (row ``t`` from
    turns ``0..t``), embedding every turn in one backend call; ``encode_many`` embeds the
    distinct texts of many conversations in large batches. Thread-safe after loading.

    Args:
        config: a :class:`StateConfig`; keyword ``overrides`` replace its fields.
    """

    def __init__(self, config: StateConfig | None = None, **overrides: Any) -> None:
        self.config = replace(config or StateConfig(), **overrides)
        self.config.validate()
        self._backend = get_backend(self.config.backend, **self.config.backend_options)
        self._lock = threading.Lock()
        self._embedder: EmbeddingBackend | None = None
        self._detector: ActDetector | None = None

    @classmethod
    def from_env(cls, **overrides: Any) -> StateBuilder:
        """Backend from ``$SALESRL_EMBEDDING_BACKEND`` (default ``minilm``), disk cache at
        :func:`default_cache_path`; ``overrides`` win."""
        kw: dict[str, Any] = {"backend": default_backend_name(),
                              "cache_path": str(default_cache_path())}
        kw.update(overrides)
        return cls(**kw)

    # -- dimensions ---------------------------------------------------------------------------
    @property
    def backend_name(self) -> str:
        return self._backend.name

    @property
    def model_id(self) -> str:
        return self._backend.model_id

    @property
    def embedding_dim(self) -> int:
        return int(self._backend.dim)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the ``state`` columns."""
        e = self.embedding_dim
        return (*(f"hist_{i}" for i in range(e)), *(f"rep_mean_{i}" for i in range(e)),
                *(f"customer_mean_{i}" for i in range(e)), "history_mass_log1p",
                "importance_last", *(f"sig_{n}" for n in FEATURE_NAMES))

    @property
    def state_dim(self) -> int:
        return 3 * self.embedding_dim + 2 + len(FEATURE_NAMES)

    @property
    def turn_dim(self) -> int:
        """Width of one window slot: the embedding and the ``is_rep`` flag."""
        return self.embedding_dim + 1 if self.config.window else 0

    @property
    def obs_dim(self) -> int:
        k = self.config.window
        return self.state_dim + k * self.turn_dim + k

    @property
    def layout(self) -> ObsLayout:
        """The agent's :class:`~salesrl.agent.data.ObsLayout` of the rows."""
        from salesrl.agent.data import ObsLayout  # imported late: the agent imports torch

        return ObsLayout(self.state_dim, self.config.window, self.turn_dim)

    # -- lazy resources -----------------------------------------------------------------------
    @property
    def embedder(self) -> EmbeddingBackend:
        """The backend, behind a :class:`CachedEmbedder` unless ``config.cache`` is False."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    cfg = self.config
                    self._embedder = (CachedEmbedder(self._backend, cfg.cache_path)
                                      if cfg.cache else self._backend)
        return self._embedder

    @property
    def detector(self) -> ActDetector:
        """The signal tracker's act detector (with fitted prototypes if configured)."""
        if self._detector is None:
            proto = PrototypeDetector(self.embedder).fit() if self.config.prototypes else None
            with self._lock:
                if self._detector is None:
                    self._detector = ActDetector(prototype=proto)
        return self._detector

    def load(self) -> StateBuilder:
        """Load the model and fit the prototypes now (otherwise done on first use)."""
        self.embedder.load()
        _ = self.detector
        return self

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, embedding_dim)`` float32 embeddings, through the cache."""
        return np.asarray(self.embedder.embed(list(texts)), dtype=np.float32)

    def importance(self, act_scores: np.ndarray) -> float:
        """``1 + a_obj*max(objection) + a_buy*max(buying) + a_q*max(question)`` of one turn."""
        s = np.asarray(act_scores, dtype=np.float64).tolist()  # floats: no numpy-scalar overhead
        c = self.config
        return float(1.0 + c.importance_objection * max(map(s.__getitem__, _OBJECTION_IDX))
                     + c.importance_buying * max(map(s.__getitem__, _BUYING_IDX))
                     + c.importance_question * max(map(s.__getitem__, _QUESTION_IDX)))

    # -- states -------------------------------------------------------------------------------
    def new_state(self) -> ConversationState:
        """A state with no turn yet."""
        return ConversationState(self)

    def state_from_dict(self, data: Mapping[str, Any]) -> ConversationState:
        """Restore a state saved by :meth:`ConversationState.to_dict`."""
        return ConversationState.from_dict(data, self)

    # -- batch --------------------------------------------------------------------------------
    def fold(self, turns: Sequence[Turn], embeddings: np.ndarray) -> np.ndarray:
        """Rows of ``update`` folded over ``turns`` with precomputed ``embeddings``."""
        if len(embeddings) != len(turns):
            raise ValueError(f"{len(embeddings)} embeddings for {len(turns)} turns")
        if not turns:
            return np.zeros((0, self.obs_dim), dtype=np.float32)
        state = self.new_state()
        return np.stack([state.update(t, e) for t, e in zip(turns, embeddings, strict=True)])

    def encode(self, conversation: Conversation | Sequence[Turn]) -> np.ndarray:
        """``(T, obs_dim)`` rows of every prefix: one embedding call, then the ``update`` fold."""
        turns = _turns(conversation)
        return self.fold(turns, self.embed([t.text for t in turns]))

    def encode_many(self, conversations: Iterable[Conversation | Sequence[Turn]],
                    progress: ProgressCallback | None = None,
                    batch_size: int = 4096) -> list[np.ndarray]:
        """:meth:`encode` of each conversation; distinct texts are embedded in big batches."""
        convs = [_turns(c) for c in conversations]
        vectors = self.embed_distinct(convs, progress, batch_size)
        out = []
        for i, turns in enumerate(convs):
            out.append(self.fold_embedded(turns, vectors))
            if progress is not None:
                progress(i + 1, len(convs), "encoding")
        return out

    def embed_distinct(self, convs: Sequence[Sequence[Turn]],
                       progress: ProgressCallback | None = None,
                       batch_size: int = 4096) -> dict[str, np.ndarray]:
        """Each distinct turn text of ``convs`` embedded once, ``batch_size`` texts a call."""
        texts = list(dict.fromkeys(t.text for turns in convs for t in turns))
        vectors: dict[str, np.ndarray] = {}
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            vectors.update(zip(chunk, self.embed(chunk), strict=True))
            if progress is not None:
                progress(start + len(chunk), len(texts), "embedding")
        return vectors

    def fold_embedded(self, turns: Sequence[Turn], vectors: Mapping[str, np.ndarray]
                      ) -> np.ndarray:
        """:meth:`fold` with the turns' vectors looked up in ``vectors`` (by text)."""
        emb = (np.stack([vectors[t.text] for t in turns]) if turns
               else np.zeros((0, self.embedding_dim), dtype=np.float32))
        return self.fold(turns, emb)

    def encode_prefixes(self, prefixes: Sequence[Conversation],
                        progress: ProgressCallback | None = None) -> np.ndarray:
        """``(N, obs_dim)``: the row of each prefix's last turn (zeros for an empty prefix).

        Prefixes of the same conversation (same id, same leading turns) are encoded once, at
        the longest, and read row by row: valid because the state is causal.
        """
        longest: dict[str, Conversation] = {}
        for c in prefixes:
            if c.id not in longest or len(c.turns) > len(longest[c.id].turns):
                longest[c.id] = c
        ids = list(longest)
        rows = dict(zip(ids, self.encode_many([longest[i] for i in ids], progress), strict=True))
        out = np.zeros((len(prefixes), self.obs_dim), dtype=np.float32)
        for j, c in enumerate(prefixes):
            n = len(c.turns)
            if n == 0:
                continue
            if _same_turns(c.turns, longest[c.id].turns[:n]):
                out[j] = rows[c.id][n - 1]
            else:  # same id, different turns: encode on its own
                out[j] = self.encode(c)[-1]
        return out

    def __repr__(self) -> str:
        c = self.config
        return (f"StateBuilder(backend={c.backend!r}, decay={c.decay}, window={c.window}, "
                f"obs_dim={self.obs_dim})")


def _turns(conversation: Conversation | Sequence[Turn]) -> list[Turn]:
    return list(conversation.turns if isinstance(conversation, Conversation) else conversation)


def _same_turns(a: Sequence[Turn], b: Sequence[Turn]) -> bool:
    return all(x.text == y.text and x.role == y.role and x.start == y.start and x.end == y.end
               for x, y in zip(a, b, strict=True))


@dataclass
class _Running:
    """The state's own running sums (the signal tracker keeps its own)."""

    n_turns: int = 0
    hist_num: np.ndarray | None = None  # (E,) float64
    hist_den: float = 0.0
    rep_sum: np.ndarray | None = None
    rep_n: int = 0
    cust_sum: np.ndarray | None = None
    cust_n: int = 0
    importance_last: float = 0.0
    signals: np.ndarray | None = None  # squashed signals of the latest turn


class ConversationState:
    """The running state of one conversation; made by :meth:`StateBuilder.new_state`.

    ``update(turn, embedding=None)`` consumes the next turn (embedding it through the builder
    unless ``embedding`` is given) and returns the float32 row ``[state | window | mask]``;
    :meth:`row` returns the latest row again. ``to_dict`` / ``from_dict`` persist the state as
    JSON-serialisable data (arrays as lists) that continues exactly where it stopped.
    """

    def __init__(self, builder: StateBuilder) -> None:
        self.builder = builder
        e = builder.embedding_dim
        self.tracker = SignalTracker(detector=builder.detector,
                                     ewma_alpha=builder.config.ewma_alpha)
        self._r = _Running(hist_num=np.zeros(e), rep_sum=np.zeros(e), cust_sum=np.zeros(e),
                           signals=np.zeros(len(FEATURE_NAMES)))
        self._window: deque[np.ndarray] = deque(maxlen=max(builder.config.window, 1))

    @property
    def n_turns(self) -> int:
        return self._r.n_turns

    @property
    def last_acts(self) -> np.ndarray | None:
        """Act scores of the latest turn (aligned with ``signals.ALL_ACTS``), None before any."""
        acts = self.tracker.last_acts_
        return None if acts is None else acts.scores

    def update(self, turn: Turn, embedding: np.ndarray | None = None) -> np.ndarray:
        """Consume the next turn; return its observation row (length ``builder.obs_dim``)."""
        b, r = self.builder, self._r
        if embedding is None:
            embedding = b.embed([turn.text])[0]
        emb = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if emb.shape[0] != b.embedding_dim:
            raise ValueError(f"embedding has dim {emb.shape[0]}, expected {b.embedding_dim}")
        signals = self.tracker.update(turn, emb)
        w = b.importance(self.tracker.last_acts_.scores)  # type: ignore[union-attr]
        e64 = emb.astype(np.float64)
        d = b.config.decay
        # in place: the same operations in the same order as ``d * h + w * e``, no temporaries
        r.hist_num *= d
        r.hist_num += w * e64
        r.hist_den = d * r.hist_den + w
        is_rep = turn.role is Role.REP
        if is_rep:
            r.rep_sum += e64
            r.rep_n += 1
        else:
            r.cust_sum += e64
            r.cust_n += 1
        r.importance_last = w
        r.signals = _squash(signals.astype(np.float64))
        r.n_turns += 1
        if b.config.window:
            slot = np.empty(b.turn_dim, dtype=np.float32)
            slot[:-1] = emb
            slot[-1] = is_rep
            self._window.append(slot)
        return self.row()

    def _state_into(self, out: np.ndarray) -> None:
        """Write :meth:`state_vector` into the float32 ``out`` (length ``state_dim``)."""
        r, e = self._r, self.builder.embedding_dim
        out[:e] = r.hist_num / r.hist_den if r.hist_den > 0 else r.hist_num
        out[e : 2 * e] = r.rep_sum / r.rep_n if r.rep_n else r.rep_sum
        out[2 * e : 3 * e] = r.cust_sum / r.cust_n if r.cust_n else r.cust_sum
        out[3 * e] = math.log1p(r.hist_den)
        out[3 * e + 1] = r.importance_last
        out[3 * e + 2 :] = r.signals

    def state_vector(self) -> np.ndarray:
        """The ``state`` part of the latest row (float32, ``builder.state_dim``)."""
        out = np.empty(self.builder.state_dim, dtype=np.float32)
        self._state_into(out)
        return out

    def row(self) -> np.ndarray:
        """The latest observation row ``[state | window | mask]`` (all zeros before any turn)."""
        b = self.builder
        k, e, d = b.config.window, b.turn_dim, b.state_dim
        out = np.zeros(b.obs_dim, dtype=np.float32)  # filled in place: one allocation
        self._state_into(out[:d])
        n = len(self._window) if k else 0
        if n:
            np.concatenate(self._window, out=out[d + (k - n) * e : d + k * e])
            out[d + k * e + k - n :] = 1.0
        return out

    # -- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable snapshot: version, builder fingerprint, running sums, window and
        the signal tracker's state."""
        b, r = self.builder, self._r
        running = {f.name: getattr(r, f.name) for f in fields(_Running)}
        for key, value in running.items():
            if isinstance(value, np.ndarray):
                running[key] = value.tolist()
        return {
            "version": STATE_VERSION,
            "config": b.config.fingerprint(b.model_id, b.embedding_dim),
            "running": running,
            "window": [v.tolist() for v in self._window] if b.config.window else [],
            "tracker": self.tracker.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], builder: StateBuilder) -> ConversationState:
        """Restore a state saved by :meth:`to_dict` into ``builder`` (which must be configured
        the same way: backend, model, dim, decay, window, importance, prototypes)."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported conversation state version {data.get('version')!r}")
        want = builder.config.fingerprint(builder.model_id, builder.embedding_dim)
        got = dict(data["config"])
        if got != want:
            diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            raise ValueError(f"saved state was built with a different configuration: {diff}")
        state = cls(builder)
        raw = dict(data["running"])
        names = {f.name for f in fields(_Running)}
        if set(raw) != names:
            raise ValueError("conversation state fields differ from this version's")
        e = builder.embedding_dim
        for key, size in (("hist_num", e), ("rep_sum", e), ("cust_sum", e),
                          ("signals", len(FEATURE_NAMES))):
            arr = np.asarray(raw[key], dtype=np.float64)
            if arr.shape != (size,):
                raise ValueError(f"conversation state {key} has shape {arr.shape}, not {(size,)}")
            raw[key] = arr
        for key in ("n_turns", "rep_n", "cust_n"):
            raw[key] = int(raw[key])
        for key in ("hist_den", "importance_last"):
            raw[key] = float(raw[key])
        state._r = _Running(**raw)
        window = [np.asarray(v, dtype=np.float32) for v in data.get("window", [])]
        if len(window) > builder.config.window or any(v.shape != (builder.turn_dim,)
                                                      for v in window):
            raise ValueError("conversation state window does not fit the builder's layout")
        state._window.extend(window)
        state.tracker = SignalTracker.from_dict(data["tracker"], detector=builder.detector)
        return state

    def __repr__(self) -> str:
        return f"ConversationState(n_turns={self.n_turns}, obs_dim={self.builder.obs_dim})"

