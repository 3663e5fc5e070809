"""What the confidence model reads about each turn, and the running structure of a prefix.

:class:`TurnInputs` holds, for every turn of a batch of conversations in order, the state row
the agent read, the turn embedding, its text, role and times; row ``t`` of a conversation is
the prefix ``0..t``. :class:`StructureTracker` keeps O(1) running statistics of a prefix's
shape (length, role pattern, turn lengths, time gaps); :func:`tokens` and
:class:`LanguageGuesser` are the text helpers of the novelty signals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from salesrl.conversation import Conversation, Role, Turn

__all__ = ["STRUCTURE_NAMES", "LanguageGuesser", "StructureTracker", "TurnInputs", "tokens"]

#: columns of :meth:`StructureTracker.vector`
STRUCTURE_NAMES: tuple[str, ...] = ("n_turns", "rep_share", "max_run", "mean_words",
                                    "last_words", "mean_gap", "last_gap", "timed")

_WORD = re.compile(r"[^\W\d_]+")


def tokens(text: str) -> list[str]:
    """Lower-cased runs of letters (any script): the vocabulary unit of the OOV signal."""
    return _WORD.findall(text.lower())


@dataclass
class StructureTracker:
    """Running shape of a prefix, one :meth:`update` per turn, O(1) time and memory.

    :meth:`vector` gives :data:`STRUCTURE_NAMES`: turns so far, share of rep turns, longest run
    of one role, mean and last turn length in words, mean and last gap in seconds between one
    turn's end and the next's start (NaN while unknown), and whether the turns carry times.
    """

    n: int = 0
    rep: int = 0
    run: int = 0
    max_run: int = 0
    words: int = 0
    last_words: int = 0
    gap_sum: float = 0.0
    gap_n: int = 0
    last_gap: float = math.nan
    timed: int = 0
    last_role: str | None = None
    last_end: float | None = None

    def update(self, role: Role | str, text: str, start: float | None = None,
               end: float | None = None) -> np.ndarray:
        """Consume one turn; return :meth:`vector`."""
        role = str(getattr(role, "value", role))
        self.n += 1
        self.rep += role == Role.REP.value
        self.run = self.run + 1 if role == self.last_role else 1
        self.max_run = max(self.max_run, self.run)
        self.last_role = role
        w = len(text.split())
        self.words += w
        self.last_words = w
        if start is not None:
            self.timed += 1
            if self.last_end is not None:
                gap = max(0.0, float(start) - self.last_end)
                self.gap_sum += gap
                self.gap_n += 1
                self.last_gap = gap
        self.last_end = float(end) if end is not None else (
            float(start) if start is not None else None)
        return self.vector()

    def update_turn(self, turn: Turn) -> np.ndarray:
        return self.update(turn.role, turn.text, turn.start, turn.end)

    def vector(self) -> np.ndarray:
        n = max(self.n, 1)
        mean_gap = self.gap_sum / self.gap_n if self.gap_n else math.nan
        return np.array([self.n, self.rep / n, self.max_run, self.words / n, self.last_words,
                         mean_gap, self.last_gap, self.timed / n], dtype=np.float64)


class LanguageGuesser:
    """py3langid (Lui & Baldwin, ACL 2012) with normalised probabilities; loaded once."""

    def __init__(self) -> None:
        self._ident = _identifier()

    def __call__(self, text: str) -> tuple[str, float]:
        """(language code, its probability) of ``text``."""
        lang, prob = self._ident.classify(text)
        return str(lang), float(prob)

    def prob(self, text: str, lang: str) -> float:
        """P(``lang``) for ``text`` (normalised over py3langid's languages)."""
        ranked = self._ident.rank(text)
        return float(dict(ranked).get(lang, 0.0))


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - py3langid's own class
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@dataclass
class TurnInputs:
    """Every turn of a batch of conversations, in order (row ``t`` = prefix ``0..t``).

    ``rows`` are the agent's observation rows (or any per-prefix state vectors), ``embeddings``
    the turn embeddings, ``conv`` the conversation index of each row (non-decreasing),
    ``labels`` the conversation's outcome repeated on its rows (None when unknown).
    """

    rows: np.ndarray
    embeddings: np.ndarray
    texts: list[str]
    structure: np.ndarray
    conv: np.ndarray
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.texts)
        self.rows = np.asarray(self.rows, dtype=np.float32)
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32)
        self.conv = np.asarray(self.conv, dtype=np.int64)
        for name in ("rows", "embeddings", "structure", "conv"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"TurnInputs.{name} has {len(getattr(self, name))} rows, "
                                 f"expected one per text ({n})")
        if n and np.any(np.diff(self.conv) < 0):
            raise ValueError("TurnInputs.conv must be non-decreasing (conversations in order)")
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64)
            if len(self.labels) != n:
                raise ValueError("TurnInputs.labels must have one entry per row")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def turn_index(self) -> np.ndarray:
        """0-based position of each row in its conversation."""
        if not len(self):
            return np.zeros(0, dtype=np.int64)
        starts = np.r_[0, np.flatnonzero(np.diff(self.conv)) + 1]
        idx = np.arange(len(self))
        first = np.repeat(starts, np.diff(np.r_[starts, len(self)]))
        return idx - first

    def subset_convs(self, keep: np.ndarray) -> TurnInputs:
        """The rows of the conversation indices in ``keep`` (renumbered 0..)."""
        keep = np.asarray(keep)
        mask = np.isin(self.conv, keep)
        _, new_conv = np.unique(self.conv[mask], return_inverse=True)
        return TurnInputs(self.rows[mask], self.embeddings[mask],
                          [t for t, m in zip(self.texts, mask, strict=True) if m],
                          self.structure[mask], new_conv,
                          None if self.labels is None else self.labels[mask])

    @classmethod
    def from_conversations(cls, conversations: Sequence[Conversation],
                           rows: Sequence[np.ndarray],
                           embed: Callable[[list[str]], np.ndarray]) -> TurnInputs:
        """Build from conversations, their ``(T_i, d)`` state rows and an ``embed(texts)``
        function (e.g. :meth:`StateBuilder.embed`, cached). Labels are taken when every
        conversation has a known outcome."""
        texts, struct, conv = [], [], []
        for i, (c, r) in enumerate(zip(conversations, rows, strict=True)):
            if len(r) != len(c.turns):
                raise ValueError(f"conversation {c.id!r}: {len(r)} state rows for "
                                 f"{len(c.turns)} turns")
            tracker = StructureTracker()
            for t in c.turns:
                texts.append(t.text)
                struct.append(tracker.update_turn(t))
                conv.append(i)
        emb = embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        d = rows[0].shape[1] if len(rows) else 0
        known = all(c.converted is not None for c in conversations)
        labels = (np.repeat([c.label for c in conversations], [len(c.turns) for c in conversations])
                  if known else None)
        return cls(np.concatenate(rows) if len(rows) else np.zeros((0, d)), emb, texts,
                   np.array(struct).reshape(len(texts), len(STRUCTURE_NAMES)),
                   np.array(conv, dtype=np.int64), labels)
