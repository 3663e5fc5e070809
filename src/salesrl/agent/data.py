"""Training data for the agent: precomputed state sequences, one array per conversation.

The agent never reads text. The project's state tracker turns every prefix of a conversation
into one observation row (computed from that prefix only), so conversation ``i`` becomes an
array ``obs_i`` of shape ``(T_i, obs_dim)``: row ``t`` is the state after turn ``t``. An
:class:`ObsLayout` says how a row splits into the parts the network reads differently.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from salesrl.conversation import Conversation, DataError


@dataclass(frozen=True)
class ObsLayout:
    """How one observation row is laid out.

    ``[state (state_dim) | window (window * turn_dim) | mask (window) | extra (extra_dim)]``

    * ``state``: the tracker's summary of the prefix (fed to an MLP);
    * ``window``: the vectors of the last ``window`` turns, oldest first, zero rows where the
      prefix is shorter than the window (fed to a GRU); the padding may sit anywhere, the
      ``mask`` (1 = real turn, 0 = padding) says which slots are real;
    * ``extra``: features appended by the agent itself (the retrieval features of
      :mod:`salesrl.agent.retrieval`), fed to the MLP with the state.
    """

    state_dim: int
    window: int = 0
    turn_dim: int = 0
    extra_dim: int = 0

    def __post_init__(self) -> None:
        for name in ("state_dim", "window", "turn_dim", "extra_dim"):
            if getattr(self, name) < 0:
                raise ValueError(f"ObsLayout.{name} must be >= 0")
        if self.state_dim + self.extra_dim + self.window * self.turn_dim == 0:
            raise ValueError("ObsLayout describes an empty observation")

    @property
    def obs_dim(self) -> int:
        """Length of one observation row."""
        return self.state_dim + self.window * self.turn_dim + self.window + self.extra_dim

    @property
    def has_window(self) -> bool:
        return self.window > 0 and self.turn_dim > 0

    def with_extra(self, extra_dim: int) -> ObsLayout:
        """The same layout with ``extra_dim`` appended columns."""
        return ObsLayout(self.state_dim, self.window, self.turn_dim, extra_dim)

    def split(self, x: Any) -> tuple[Any, Any, Any, Any]:
        """``(state, window (.., K, E), mask (.., K), extra)`` views of a batch of rows.

        Works on numpy arrays and torch tensors alike.
        """
        d, k, e = self.state_dim, self.window, self.turn_dim
        state = x[..., :d]
        win = x[..., d : d + k * e].reshape(*x.shape[:-1], k, e)
        mask = x[..., d + k * e : d + k * e + k]
        extra = x[..., d + k * e + k : d + k * e + k + self.extra_dim]
        return state, win, mask, extra

    def state_part(self, x: np.ndarray) -> np.ndarray:
        """The ``state`` columns of rows (what retrieval projects)."""
        return x[..., : self.state_dim]

    def to_dict(self) -> dict[str, int]:
        return {"state_dim": self.state_dim, "window": self.window,
                "turn_dim": self.turn_dim, "extra_dim": self.extra_dim}

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> ObsLayout:
        return cls(int(d["state_dim"]), int(d.get("window", 0)), int(d.get("turn_dim", 0)),
                   int(d.get("extra_dim", 0)))

    @staticmethod
    def pack(state: np.ndarray, turns: np.ndarray, window: int) -> np.ndarray:
        """Build rows from per-turn states ``(T, D)`` and per-turn vectors ``(T, E)``.

        Row ``t`` = ``[state[t] | turns[t-K+1..t] (left zero-padded) | mask]``: a helper for
        the state tracker, causal by construction.
        """
        state = np.asarray(state, dtype=np.float32)
        turns = np.asarray(turns, dtype=np.float32)
        if state.ndim != 2 or turns.ndim != 2 or len(state) != len(turns):
            raise ValueError("state and turns must be (T, D) and (T, E) with the same T")
        t_len, e = turns.shape
        win = np.zeros((t_len, window, e), dtype=np.float32)
        mask = np.zeros((t_len, window), dtype=np.float32)
        for t in range(t_len):
            lo = max(0, t - window + 1)
            n = t + 1 - lo
            win[t, window - n :] = turns[lo : t + 1]
            mask[t, window - n :] = 1.0
        return np.concatenate([state, win.reshape(t_len, -1), mask], axis=1)


class LazyRows(ABC):
    """An ``obs`` list whose arrays are built when asked for (the row tables of
    :mod:`salesrl.agent.rowtable`, stored more compactly than one array per conversation).
    Assigning ``obs[i]`` replaces conversation ``i``'s rows (``None``: released)."""

    _overrides: dict[int, Any] | None = None

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def row(self, i: int) -> np.ndarray:
        """Conversation ``i``'s rows ``(T_i, obs_dim)``."""

    @property
    @abstractmethod
    def lengths(self) -> np.ndarray: ...

    @property
    @abstractmethod
    def obs_dim(self) -> int: ...

    @abstractmethod
    def subset(self, idx: Sequence[int] | np.ndarray, labels: np.ndarray) -> LazyRows:
        """The rows of the conversations at ``idx`` (``labels``: theirs)."""

    @abstractmethod
    def stacked(self) -> np.ndarray:
        """All rows, ``(N, obs_dim)``."""

    @abstractmethod
    def rows_at(self, convs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Row ``rows[k]`` of conversation ``convs[k]`` for every ``k``, stacked."""

    @abstractmethod
    def labelled(self, labels: np.ndarray) -> LazyRows:
        """The same rows, each conversation labelled ``labels[i]``."""

    @property
    def overridden(self) -> bool:
        return bool(self._overrides)

    def _get(self, i: int) -> Any:
        i = i + len(self) if i < 0 else i
        if self._overrides and i in self._overrides:
            return self._overrides[i]
        return self.row(i)

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._get(k) for k in range(*i.indices(len(self)))]
        return self._get(int(i))

    def __setitem__(self, i: int, value: Any) -> None:
        if self._overrides is None:
            self._overrides = {}
        self._overrides[int(i) + len(self) if int(i) < 0 else int(i)] = value

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self._get(i) for i in range(len(self)))


@dataclass
class Episodes:
    """Labelled state sequences: the agent's training-data container.

    ``obs[i]`` is ``(T_i, obs_dim)`` float32, ``labels[i]`` in {0, 1}, ``groups[i]`` an
    optional group name (the industry) used for balancing, ``ids[i]`` the conversation id
    (retrieval excludes a conversation's own prefixes by it). ``obs`` may be a
    :class:`LazyRows`: a row table, as :meth:`from_conversations` builds for rows with a turn
    window and the training code packs its work rows.
    """

    obs: list[np.ndarray] | LazyRows
    labels: np.ndarray
    groups: np.ndarray | None = None
    ids: list[str] | None = None
    layout: ObsLayout | None = field(default=None)

    def __post_init__(self) -> None:
        if isinstance(self.obs, LazyRows) and self.obs.overridden:
            self.obs = list(self.obs)  # rows were replaced (columns appended): plain arrays
        if not isinstance(self.obs, LazyRows):
            self.obs = [np.ascontiguousarray(o, dtype=np.float32) for o in self.obs]
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if len(self.obs) != len(self.labels):
            raise ValueError(f"{len(self.obs)} observation arrays but {len(self.labels)} labels")
        if not np.isin(self.labels, (0, 1)).all():
            raise ValueError("labels must be 0 or 1")
        if self.groups is None:
            self.groups = np.array(["all"] * len(self.obs), dtype=object)
        else:
            self.groups = np.array(["unknown" if g is None else str(g) for g in self.groups],
                                   dtype=object)
            if len(self.groups) != len(self.obs):
                raise ValueError("groups must have one entry per conversation")
        if self.ids is None:
            self.ids = [f"ep{i}" for i in range(len(self.obs))]
        elif len(self.ids) != len(self.obs):
            raise ValueError("ids must have one entry per conversation")
        if isinstance(self.obs, LazyRows):
            dims = {self.obs.obs_dim}
            if (self.obs.lengths <= 0).any():
                raise ValueError("every conversation must have at least one row")
        else:
            dims = {o.shape[1] for o in self.obs if o.ndim == 2}
            if any(o.ndim != 2 or len(o) == 0 for o in self.obs):
                raise ValueError("every obs array must be 2-d with at least one row")
        if len(dims) > 1:
            raise ValueError(f"obs arrays disagree on obs_dim: {sorted(dims)}")
        if self.layout is not None and dims and dims != {self.layout.obs_dim}:
            raise ValueError(f"obs_dim {dims.pop()} does not match layout.obs_dim "
                             f"{self.layout.obs_dim}")
        if isinstance(self.obs, LazyRows):
            self.obs = self.obs.labelled(self.labels)

    def __len__(self) -> int:
        return len(self.obs)

    @property
    def lengths(self) -> np.ndarray:
        """Turns per conversation."""
        if isinstance(self.obs, LazyRows):
            return np.asarray(self.obs.lengths, dtype=np.int64)
        return np.array([len(o) for o in self.obs], dtype=np.int64)

    @property
    def obs_dim(self) -> int:
        if isinstance(self.obs, LazyRows):
            return self.obs.obs_dim
        return int(self.obs[0].shape[1])

    def subset(self, idx: Sequence[int] | np.ndarray) -> Episodes:
        """The conversations at ``idx`` (repeats allowed: bootstrap samples)."""
        idx = [int(i) for i in idx]
        obs = (self.obs.subset(idx, self.labels[idx]) if isinstance(self.obs, LazyRows)
               else [self.obs[i] for i in idx])
        return Episodes(obs, self.labels[idx], self.groups[idx], [self.ids[i] for i in idx],
                        self.layout)

    def concat(self, other: Episodes) -> Episodes:
        return Episodes(list(self.obs) + list(other.obs),
                        np.concatenate([self.labels, other.labels]),
                        np.concatenate([self.groups, other.groups]), self.ids + other.ids,
                        self.layout)

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All rows stacked: ``(X (N, obs_dim), y (N,), conversation index (N,))``."""
        x = (self.obs.stacked() if isinstance(self.obs, LazyRows)
             else np.concatenate(self.obs, axis=0))
        conv = np.repeat(np.arange(len(self.obs)), self.lengths)
        return x, self.labels[conv].astype(np.float32), conv

    def map_obs(self, fn: Callable[[np.ndarray, int], np.ndarray],
                layout: ObsLayout | None = None) -> Episodes:
        """New Episodes with ``obs[i] = fn(obs[i], i)`` (used to append retrieval features)."""
        return Episodes([fn(o, i) for i, o in enumerate(self.obs)], self.labels.copy(),
                        self.groups.copy(), list(self.ids), layout or self.layout)

    @classmethod
    def from_conversations(cls, conversations: Sequence[Conversation],
                           encode: Callable[[Conversation], np.ndarray],
                           layout: ObsLayout | None = None) -> Episodes:
        """Encode labelled conversations with the state tracker ``encode(conv) -> (T, obs_dim)``.

        ``encode`` must be causal: row ``t`` may depend on turns ``0..t`` only. A conversation
        without a known outcome or without turns raises :class:`DataError`. With a ``layout``
        that has a turn window the rows are written, as they come, into one
        :class:`~salesrl.agent.rowtable.RowTable` (one turn vector per row instead of the
        window: about a third of the bytes), read back bit for bit.
        """
        for c in conversations:
            if c.converted is None:
                raise DataError(f"conversation {c.id!r} has no known outcome", field="outcome")
            if not c.turns:
                raise DataError(f"conversation {c.id!r} has no turns", field="turns")

        def rows(c: Conversation) -> np.ndarray:
            o = np.asarray(encode(c), dtype=np.float32)
            if o.ndim != 2 or len(o) != len(c.turns):
                raise ValueError(f"encoder returned shape {o.shape} for conversation {c.id!r} "
                                 f"with {len(c.turns)} turns; expected one row per turn")
            if layout is not None and o.shape[1] != layout.obs_dim:
                raise ValueError(f"encoder returned rows of width {o.shape[1]} for "
                                 f"conversation {c.id!r}; layout.obs_dim is {layout.obs_dim}")
            return o

        obs: list[np.ndarray] | LazyRows
        if layout is not None and layout.has_window and conversations:
            from salesrl.agent.rowtable import compact_rows  # it imports this module

            obs = compact_rows((rows(c) for c in conversations),
                               np.array([len(c.turns) for c in conversations]), layout)
        else:
            obs = [rows(c) for c in conversations]
        return cls(obs, np.array([c.label for c in conversations]),
                   np.array([c.metadata.industry for c in conversations], dtype=object),
                   [c.id for c in conversations], layout)


def stratified_split(episodes: Episodes, fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, holdout)`` with ``fraction`` of each (label, group) cell held out."""
    rng = np.random.default_rng(seed)
    train, hold = [], []
    keys = [f"{y}|{g}" for y, g in zip(episodes.labels, episodes.groups, strict=True)]
    for key in sorted(set(keys)):
        idx = np.array([i for i, k in enumerate(keys) if k == key])
        rng.shuffle(idx)
        n_hold = int(round(fraction * len(idx)))
        n_hold = min(max(n_hold, 1), len(idx) - 1) if len(idx) >= 2 else 0
        hold.extend(idx[:n_hold])
        train.extend(idx[n_hold:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(hold, dtype=np.int64))


def stratified_folds(episodes: Episodes, k: int, seed: int) -> list[np.ndarray] | None:
    """``k`` disjoint index arrays covering every conversation, stratified by outcome
    (scikit-learn's ``StratifiedKFold``); None when an outcome has fewer than ``k``
    conversations."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(episodes.labels)
    if k < 2 or np.bincount(labels.astype(int), minlength=2).min() < k:
        return None
    split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [np.sort(held) for _, held in split.split(np.zeros(len(labels)), labels)]
