"""Row tables: the rows training reads, addressable by conversation, and the large-data helpers
around them (row caps, sampling, one shared table of work rows for every member).

A :class:`RowTable` stores the rows of some :class:`~salesrl.agent.data.Episodes` in one of
two ways and rebuilds any minibatch of them with :meth:`RowTable.gather`:

* **dense**: one ``(N, obs_dim)`` float32 matrix;
* **windowed**: the rows' non-window columns ``[state | mask | extra]``, one turn vector per
  row (the row's own turn: the last window slot) and the row's position in its
  conversation. The state tracker builds row ``t``'s window from turns ``t-K+1 .. t`` of the
  same conversation, left zero-padded, so every window is K rows of that one turn matrix and
  ``gather`` writes it back bit for bit. A window of MiniLM turns is 8 x 385 of a row's 4,346
  columns: this holds about 38 % of the bytes. Rows whose windows are not built that way
  (checked bit for bit while writing) keep the dense form.

numpy has no "gather a sliding window of another array's rows" container, hence this one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from salesrl.agent.compress import RowCompressor
from salesrl.agent.config import TrainConfig
from salesrl.agent.data import Episodes, LazyRows, ObsLayout
from salesrl.agent.linear import LinearBase
from salesrl.agent.retrieval import RetrievalIndex
from salesrl.agent.rows import work_rows

__all__ = ["RowTable", "TableRows", "TableWriter", "compact_rows", "draw_size",
           "normaliser_rows", "packed", "shared_work_rows", "table_of"]


class _Dense:
    """All rows as one matrix."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def gather(self, rows: np.ndarray) -> np.ndarray:
        return self.x[rows]


class _Windowed:
    """Rows as ``core = [state | mask | extra]``, ``turns`` (each row's own turn vector) and
    ``pos`` (each row's turn index in its conversation); see the module docstring."""

    def __init__(self, layout: ObsLayout, n_rows: int, pos: np.ndarray) -> None:
        d, k, e = layout.state_dim, layout.window, layout.turn_dim
        self.layout = layout
        self.lo, self.hi = d, d + k * e  # the window's columns in a full row
        self.core = np.empty((n_rows, layout.obs_dim - k * e), dtype=np.float32)
        self.turns = np.empty((n_rows, e), dtype=np.float32)
        self.pos = pos
        self.back = np.arange(k - 1, -1, -1)  # slot j holds the turn k-1-j rows back

    def window_of(self, rows: np.ndarray, turns: np.ndarray | None = None,
                  first: int = 0) -> np.ndarray:
        """``(n, K, E)`` windows of ``rows`` (from ``turns``, whose row 0 is row ``first``)."""
        src = self.turns if turns is None else turns
        idx = rows[:, None] - self.back[None, :]
        pad = self.pos[rows][:, None] < self.back[None, :]
        win = np.take(src, np.where(pad, first, idx) - first, axis=0)
        win[pad] = 0.0
        return win

    def write(self, block: np.ndarray, first: int) -> bool:
        """Store rows ``first ..`` from full rows ``block``; False (nothing usable) when their
        windows are not the shifted turn vectors, bit for bit."""
        lo, hi, k = self.lo, self.hi, self.layout.window
        e = self.layout.turn_dim
        rows = np.arange(first, first + len(block))
        turns = block[:, hi - e : hi]
        # a window may reach back before this block only for rows of a conversation that
        # started earlier: blocks hold whole conversations, so it never does
        want = self.window_of(rows, turns, first).reshape(len(block), k * e)
        if not np.array_equal(want.view(np.uint32), block[:, lo:hi].view(np.uint32)):
            return False
        self.turns[first : first + len(block)] = turns
        self.core[first : first + len(block), :lo] = block[:, :lo]
        self.core[first : first + len(block), lo:] = block[:, hi:]
        return True

    def gather(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.layout.obs_dim), dtype=np.float32)
        core = self.core[rows]
        out[:, : self.lo] = core[:, : self.lo]
        out[:, self.hi :] = core[:, self.lo :]
        out[:, self.lo : self.hi] = self.window_of(rows).reshape(len(rows), -1)
        return out


class RowTable:
    """All rows of some Episodes, addressable by conversation (``y``: each row's label).

    ``rows_of`` maps this table's row ``r`` to a row of the shared storage (``None``: the
    identity), so a subset of conversations is a new small index, never a copy.
    """

    def __init__(self, store: _Dense | _Windowed, lengths: np.ndarray, labels: np.ndarray,
                 rows_of: np.ndarray | None = None) -> None:
        self.store = store
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.y = torch.from_numpy(np.repeat(labels, self.lengths).astype(np.float32))
        self.rows_of = rows_of
        self.n_rows = int(self.lengths.sum())

    @classmethod
    def dense(cls, eps: Episodes, x: np.ndarray | None = None) -> RowTable:
        """``eps``' rows as one matrix (``x``: the rows already stacked: no copy)."""
        return cls(_Dense(eps.rows()[0] if x is None else x), eps.lengths, eps.labels)

    @property
    def obs_dim(self) -> int:
        return (self.store.x.shape[1] if isinstance(self.store, _Dense)
                else self.store.layout.obs_dim)

    @property
    def windowed(self) -> bool:
        return isinstance(self.store, _Windowed)

    def gather_np(self, rows: np.ndarray | range) -> np.ndarray:
        """The full rows at ``rows`` (this table's row numbers), as a new float32 array."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.store.gather(rows if self.rows_of is None else self.rows_of[rows])

    def gather(self, rows: np.ndarray | range) -> torch.Tensor:
        """:meth:`gather_np` as a tensor (what the networks read)."""
        return torch.from_numpy(self.gather_np(rows))

    def chunks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, rows)`` of consecutive row ranges of ``size``."""
        for lo in range(0, self.n_rows, size):
            yield lo, self.gather_np(range(lo, min(lo + size, self.n_rows)))

    def conversation(self, i: int) -> np.ndarray:
        """Conversation ``i``'s rows ``(T_i, obs_dim)``."""
        s = int(self.starts[i])
        return self.gather_np(range(s, s + int(self.lengths[i])))

    def row_index(self, convs: np.ndarray, cut: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the conversations ``convs`` (their first ``cut`` turns) and the position in
        ``convs`` each row belongs to."""
        lens = self.lengths[convs] if cut is None else np.minimum(self.lengths[convs], cut)
        rows = np.concatenate([self.starts[c] + np.arange(n) for c, n in zip(convs, lens,
                                                                             strict=True)])
        owner = np.repeat(np.arange(len(convs)), lens)
        return rows, owner

    def select(self, convs: Sequence[int] | np.ndarray, labels: np.ndarray) -> RowTable:
        """The table of the conversations ``convs`` (repeats allowed), sharing the storage."""
        convs = np.asarray(convs, dtype=np.int64)
        rows, _ = self.row_index(convs) if len(convs) else (np.zeros(0, np.int64), None)
        if self.rows_of is not None:
            rows = self.rows_of[rows]
        return RowTable(self.store, self.lengths[convs], labels, rows)


class TableRows(LazyRows):
    """``Episodes.obs`` read from a :class:`RowTable`: conversation ``i``'s rows are rebuilt
    when asked for (the replay environment asks for one episode at a time)."""

    def __init__(self, table: RowTable, obs_dim: int) -> None:
        self.table = table
        self._obs_dim = obs_dim

    def __len__(self) -> int:
        return len(self.table.lengths)

    def row(self, i: int) -> np.ndarray:
        return self.table.conversation(i)

    @property
    def lengths(self) -> np.ndarray:
        return self.table.lengths

    @property
    def obs_dim(self) -> int:
        return self._obs_dim

    def subset(self, idx: Sequence[int] | np.ndarray, labels: np.ndarray) -> TableRows:
        return TableRows(self.table.select(idx, labels), self._obs_dim)

    def stacked(self) -> np.ndarray:
        return self.table.gather_np(range(self.table.n_rows))

    def rows_at(self, convs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.table.gather_np(self.table.starts[np.asarray(convs, dtype=np.int64)]
                                    + np.asarray(rows, dtype=np.int64))

    def labelled(self, labels: np.ndarray) -> TableRows:
        t = self.table
        out = TableRows(RowTable(t.store, t.lengths, labels, t.rows_of), self._obs_dim)
        out._overrides = dict(self._overrides) if self._overrides else None
        return out


def table_of(eps: Episodes) -> RowTable:
    """``eps``' row table, built once and kept on the object (warm start, critic pre-fit and
    validation of every member read the same one)."""
    if isinstance(eps.obs, TableRows):
        return eps.obs.table
    tab = eps.__dict__.get("_row_table")
    if tab is None:
        tab = RowTable.dense(eps)
        eps.__dict__["_row_table"] = tab
    return tab


def _release_freed_memory() -> None:
    """Hand freed heap pages back to the OS (glibc ``malloc_trim``; a no-op elsewhere).

    The tracker's rows are many arrays of a few hundred kB, allocated on the heap; freeing
    them one by one leaves holes that the process keeps resident unless trimmed. Python and
    numpy offer no call for this, hence ctypes.
    """
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


class TableWriter:
    """Writes the rows of conversations with ``lengths`` turns, in order, in blocks of whole
    conversations, into one :class:`RowTable`: windowed while every block allows it (checked
    bit for bit), else dense (the rows written so far rebuilt exactly)."""

    def __init__(self, layout: ObsLayout, lengths: np.ndarray) -> None:
        self.layout = layout
        self.lengths = np.asarray(lengths, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.n_rows = int(self.lengths.sum())
        self.store: _Dense | _Windowed | None = None
        if layout.has_window:
            pos = np.arange(self.n_rows, dtype=np.int64) - np.repeat(starts, self.lengths)
            self.store = _Windowed(layout, self.n_rows, pos)
        self.written = 0

    def add(self, block: np.ndarray) -> None:
        """The next rows (whole conversations), ``(n, obs_dim)``."""
        block = np.asarray(block, dtype=np.float32)
        first, n_rows, dim = self.written, self.n_rows, self.layout.obs_dim
        if block.ndim != 2 or block.shape[1] != dim or first + len(block) > n_rows:
            raise ValueError(f"rows of shape {block.shape} do not fit a table of {n_rows} rows "
                             f"of width {dim} ({first} written)")
        if isinstance(self.store, _Windowed) and not self.store.write(block, first):
            dense = np.empty((n_rows, dim), dtype=np.float32)
            if first:  # rows written so far, rebuilt exactly
                dense[:first] = self.store.gather(np.arange(first))
            self.store = _Dense(dense)
        if self.store is None:
            self.store = _Dense(np.empty((n_rows, dim), dtype=np.float32))
        if isinstance(self.store, _Dense):
            self.store.x[first : first + len(block)] = block
        self.written += len(block)

    def rows(self, labels: np.ndarray) -> TableRows:
        """The written table as an ``Episodes.obs`` (``labels``: one per conversation)."""
        if self.written != self.n_rows or self.store is None:
            raise ValueError(f"{self.written} of {self.n_rows} rows written")
        return TableRows(RowTable(self.store, self.lengths, labels), self.layout.obs_dim)


def compact_rows(rows: Iterable[np.ndarray], lengths: np.ndarray, layout: ObsLayout,
                 chunk_rows: int = 8192) -> TableRows:
    """Per-conversation row arrays (read one at a time, each dropped once written) as one
    :class:`RowTable`, with placeholder labels (``Episodes`` sets its own)."""
    writer = TableWriter(layout, lengths)
    block: list[np.ndarray] = []
    held = 0
    for o in rows:
        block.append(o)
        held += len(o)
        if held >= chunk_rows:
            writer.add(np.concatenate(block))
            block, held = [], 0
    if block:
        writer.add(np.concatenate(block))
    return writer.rows(np.zeros(len(writer.lengths), dtype=np.int64))


def packed(eps: Episodes, fn: Callable[[np.ndarray, range], np.ndarray], layout: ObsLayout,
           chunk_rows: int = 8192, done: Callable[[range], None] | None = None) -> Episodes:
    """``eps`` with ``obs[i]`` replaced by ``fn``'s rows, written once into one
    :class:`RowTable` (windowed when ``layout`` has a window and the rows allow it) that the
    new Episodes read (``shared_rows``: one copy of the training rows for every member).
    ``fn(rows, convs)`` maps the stacked rows of the conversations ``convs`` (chunks of about
    ``chunk_rows``); ``done(convs)`` is called once their rows are written (to release the
    inputs)."""
    lens = eps.lengths
    starts = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    writer = TableWriter(layout, lens)
    i = 0
    while i < len(eps):
        j = int(np.searchsorted(starts, starts[i] + chunk_rows, side="right")) - 1
        j = min(max(j, i + 1), len(eps))
        writer.add(fn(np.concatenate(eps.obs[i:j], axis=0), range(i, j)))
        if done is not None:
            done(range(i, j))
            _release_freed_memory()
        i = j
    return Episodes(writer.rows(eps.labels), eps.labels.copy(), eps.groups.copy(),
                    list(eps.ids), layout)


def draw_size(lengths: np.ndarray, max_rows: int) -> int:
    """Conversations to draw for about ``max_rows`` rows (all of them when ``max_rows`` is 0)."""
    if max_rows <= 0:
        return len(lengths)
    return int(min(len(lengths), max(1, round(max_rows / max(float(lengths.mean()), 1.0)))))


def normaliser_rows(train: Episodes, weights: np.ndarray, cfg: TrainConfig, seed: int
                    ) -> np.ndarray:
    """The rows a member's input standardisation is fitted on: all of ``train``'s, or with
    ``shared_rows`` about ``ws_max_rows`` rows of conversations drawn by ``weights``."""
    tab = table_of(train)
    if not cfg.shared_rows:
        if isinstance(tab.store, _Dense) and tab.rows_of is None:
            return tab.store.x  # no copy
        return tab.gather_np(range(tab.n_rows))
    rng = np.random.default_rng(seed + 7)
    n = draw_size(tab.lengths, cfg.ws_max_rows)
    rows, _ = tab.row_index(rng.choice(len(train), size=n, p=weights / weights.sum()))
    return tab.gather_np(rows)


def shared_work_rows(train: Episodes, val: Episodes | None, adv: Episodes | None,
                     layout: ObsLayout, work_layout: ObsLayout,
                     compressor: RowCompressor | None, index: RetrievalIndex | None,
                     linear: LinearBase | None, train_base: list[np.ndarray] | None,
                     val_base: list[np.ndarray] | None,
                     release: Callable[[Episodes, range], None] | None = None
                     ) -> tuple[Episodes, Episodes | None, Episodes | None]:
    """:func:`~.rows.work_rows` of the three sets, each packed into one table
    (:func:`packed`), computed over chunks of conversations rather than one at a time;
    ``release(eps, convs)`` is told which input rows are no longer needed."""

    def mapper(eps: Episodes, base: list[np.ndarray] | None, own: bool
               ) -> Callable[[np.ndarray, range], np.ndarray]:
        def fn(rows: np.ndarray, convs: range) -> np.ndarray:
            lens = [len(eps.obs[c]) for c in convs]
            ids = [eps.ids[c] for c, n in zip(convs, lens, strict=True)
                   for _ in range(n)] if own else None
            b = np.concatenate([base[c] for c in convs]) if base is not None else None
            return work_rows(rows, layout, compressor, index, linear, ids=ids, base=b)
        return fn

    def done(eps: Episodes) -> Callable[[range], None] | None:
        return None if release is None else (lambda convs: release(eps, convs))

    train = packed(train, mapper(train, train_base, True), work_layout, done=done(train))
    if val is not None and len(val):
        val = packed(val, mapper(val, val_base, False), work_layout, done=done(val))
    if adv is not None:
        adv = packed(adv, mapper(adv, None, False), work_layout, done=done(adv))
    return train, val, adv
