"""Dialogue-act detectors: lexicon + regex cues, optionally fused with embedding prototypes.

Every detector returns one score in [0, 1] per act of :data:`ALL_ACTS` (rep acts, then
customer acts); acts of the other role score 0. :class:`LexiconDetector` needs no embedding.
:class:`PrototypeDetector` scores a turn embedding (computed once per turn by the caller) by its
cosine similarity to a few prototype sentences per act, the nearest-prototype idea of
prototypical networks (Snell, Swersky & Zemel, 2017) with the nearest prototype in place of the
class mean. :class:`ActDetector` fuses both with a noisy-OR (Pearl, 1988) and thresholds the
result into a predicted label set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import compress
from typing import Any, NamedTuple, Protocol

import numpy as np

from salesrl.conversation.acts import CustomerAct, RepAct
from salesrl.conversation.schema import Role
from salesrl.features.signals import lexicons as lx
from salesrl.features.signals.prefilter import RegexSet
from salesrl.features.signals.text import TEXT_CACHE_SIZE, TextStats, analyse

REP_ACTS: tuple[str, ...] = tuple(a.value for a in RepAct)
CUSTOMER_ACTS: tuple[str, ...] = tuple(a.value for a in CustomerAct)
ALL_ACTS: tuple[str, ...] = REP_ACTS + CUSTOMER_ACTS
ACT_INDEX: dict[str, int] = {a: i for i, a in enumerate(ALL_ACTS)}
_REP_MASK = np.array([a in REP_ACTS for a in ALL_ACTS])
_QUESTION = ACT_INDEX[CustomerAct.QUESTION.value]
_CLAUSE_ENDS = ",.;:!?"  # a negator before one of these does not reach a match after it
_GATED = frozenset(ACT_INDEX[a] for a in lx.QUESTION_GATED)


_CUSTOMER_MASK = ~_REP_MASK
_REP_MASK.flags.writeable = False
_CUSTOMER_MASK.flags.writeable = False


def _is_rep(role: Role | str) -> bool:
    return role is Role.REP or (role is not Role.CUSTOMER and Role(role) is Role.REP)


def role_mask(role: Role | str) -> np.ndarray:
    """Boolean mask over :data:`ALL_ACTS` of the acts a speaker of ``role`` can perform
    (read-only; shared)."""
    return _REP_MASK if _is_rep(role) else _CUSTOMER_MASK


class ActScores(NamedTuple):
    """Per-act scores in [0, 1] (aligned with :data:`ALL_ACTS`) and the predicted labels."""

    scores: np.ndarray
    labels: frozenset[str]

    def get(self, act: str) -> float:
        """The score of one act."""
        return float(self.scores[ACT_INDEX[str(act)]])


class Embedder(Protocol):
    """What :class:`PrototypeDetector` needs from an embedding backend."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def noisy_or(weights: Sequence[float]) -> float:
    """1 - prod(1 - w): the probability that at least one independent cue is right."""
    out = 1.0
    for w in weights:
        out *= 1.0 - w
    return 1.0 - out


class _Compiled(NamedTuple):
    """A lexicon ready to score: per pattern (act index, regex, weight) in lexicon order, and
    per role (True: rep) a prefilter over that role's patterns with their entry numbers."""

    entries: tuple[tuple[int, re.Pattern, float], ...]
    by_role: dict[bool, tuple[RegexSet, tuple[int, ...]]]
    acts: frozenset[int]  # acts the lexicon has patterns for


def _compile(patterns: Mapping[str, Sequence[tuple[str, float]]]) -> _Compiled:
    entries = tuple((ACT_INDEX[str(act)], re.compile(p), float(w))
                    for act, pats in patterns.items() for p, w in pats)
    by_role = {}
    for is_rep in (True, False):
        mine = tuple(i for i, (idx, _, _) in enumerate(entries) if bool(_REP_MASK[idx]) == is_rep)
        by_role[is_rep] = (RegexSet([entries[i][1] for i in mine]), mine)
    return _Compiled(entries, by_role, frozenset(ACT_INDEX[str(act)] for act in patterns))


@lru_cache(maxsize=1)
def _compiled_default() -> _Compiled:
    return _compile({**lx.REP_PATTERNS, **lx.CUSTOMER_PATTERNS})


class LexiconDetector:
    """Act scores from hand-written sales lexicons and regular expressions.

    Each matching pattern adds its weight as independent evidence (noisy-OR). A match is
    dropped when a negator ("not", "don't", ...) occurs among the ``negation_window`` words
    before it in the same clause, in the spirit of NegEx (Chapman et al., 2001). SPIN questions
    (Rackham, 1988) are damped when the turn asks nothing; the customer ``question`` act also
    takes evidence from question marks and interrogative openings. Only the patterns that the
    literal prefilter (:class:`~salesrl.features.signals.prefilter.RegexSet`) cannot rule out
    are searched, in their equivalent faster-to-search form
    (:func:`~salesrl.features.signals.prefilter.fast_form`), which gives the same scores as
    searching them all as written, several times faster.
    """

    def __init__(self, patterns: Mapping[str, Sequence[tuple[str, float]]] | None = None,
                 negation_window: int = lx.NEGATION_WINDOW) -> None:
        self.patterns = patterns
        self.negation_window = negation_window

    def _compiled(self) -> _Compiled:
        if self.patterns is None:
            return _compiled_default()
        if getattr(self, "_own", None) is None or self._own[0] is not self.patterns:
            self._own = (self.patterns, _compile(self.patterns))
        return self._own[1]

    def _negated(self, norm: str, start: int) -> bool:
        before = norm[:start]
        # just after the last clause end before the match (0 if none)
        cut = max([before.rfind(c) for c in _CLAUSE_ENDS]) + 1
        words = before[cut:].split()[-self.negation_window:] if self.negation_window else []
        return any(w in lx.NEGATORS or w.endswith("n't") for w in words)

    def _matches(self, regex: re.Pattern, norm: str) -> bool:
        for m in regex.finditer(norm):
            text = m.group(0)
            if any(w in lx.NEGATORS or w.endswith("n't") for w in text.split()):
                return True
            if text.startswith(("not ", "no ", "never ")) or not self._negated(norm, m.start()):
                return True
        return False

    def score(self, text: str | TextStats, role: Role | str) -> np.ndarray:
        """Scores in [0, 1] over :data:`ALL_ACTS` for one utterance spoken by ``role``; those of
        the default lexicon are cached for the last
        :data:`~salesrl.features.signals.text.TEXT_CACHE_SIZE` distinct texts and roles."""
        stats = analyse(text) if isinstance(text, str) else text
        is_rep = _is_rep(role)
        if self.patterns is None and type(self) is LexiconDetector:
            return _default_scores(stats, is_rep, self.negation_window).copy()
        return self._score(stats, is_rep)

    def _score(self, stats: TextStats, is_rep: bool) -> np.ndarray:
        norm = stats.norm
        compiled = self._compiled()
        # Only the role's patterns that the prefilter cannot rule out are searched; visiting
        # them in lexicon order keeps each act's weights (so its noisy-OR) as a full scan would.
        weights: dict[int, list[float]] = {}
        entries = compiled.entries
        regex_set, numbers = compiled.by_role[is_rep]
        searchers = regex_set.searchers
        for j in sorted(regex_set.candidates(norm)):
            idx, _, w = entries[numbers[j]]
            if self._matches(searchers[j], norm):
                weights.setdefault(idx, []).append(w)
        if not is_rep and _QUESTION in compiled.acts:
            if stats.n_question_marks:
                weights.setdefault(_QUESTION, []).append(lx.QUESTION_MARK_WEIGHT)
            elif stats.n_question_openings:
                weights.setdefault(_QUESTION, []).append(lx.QUESTION_OPENING_WEIGHT)
        out = np.zeros(len(ALL_ACTS), dtype=np.float64)
        for idx, ws in weights.items():
            s = noisy_or(ws)
            if idx in _GATED and not stats.is_question:
                s *= lx.QUESTION_GATE_FACTOR
            out[idx] = s
        return out


class PrototypeDetector:
    """Act scores from the cosine similarity of a turn embedding to prototype sentences.

    ``fit`` embeds the prototypes once with ``backend`` (anything with ``embed(texts)``
    returning L2-normalised rows). ``score`` takes the turn's embedding, computed by the caller,
    and maps each act's best cosine ``c`` to ``sigmoid((c - center) / temperature)``.
    """

    def __init__(self, backend: Embedder,
                 prototypes: Mapping[str, Sequence[str]] | None = None,
                 center: float = 0.5, temperature: float = 0.08) -> None:
        self.backend = backend
        self.prototypes = prototypes
        self.center = center
        self.temperature = temperature

    def fit(self) -> PrototypeDetector:
        """Embed the prototype sentences; sets ``prototypes_``, ``act_index_``, ``has_act_``."""
        protos = self.prototypes if self.prototypes is not None else lx.PROTOTYPES
        texts: list[str] = []
        acts: list[int] = []
        for act in ALL_ACTS:
            for sentence in protos.get(act, ()):
                texts.append(sentence)
                acts.append(ACT_INDEX[act])
        if not texts:
            raise ValueError("no prototype sentences for any act")
        emb = np.asarray(self.backend.embed(texts), dtype=np.float32)
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        self.prototypes_ = emb / np.maximum(norms, 1e-12)
        self.act_index_ = np.asarray(acts, dtype=np.int64)
        self.has_act_ = np.zeros(len(ALL_ACTS), dtype=bool)
        self.has_act_[self.act_index_] = True
        return self

    def similarities(self, embedding: np.ndarray) -> np.ndarray:
        """Best cosine similarity per act (-1 for acts without prototypes)."""
        if not hasattr(self, "prototypes_"):
            raise RuntimeError("PrototypeDetector is not fitted; call fit() first")
        v = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if v.shape[0] != self.prototypes_.shape[1]:
            raise ValueError(f"embedding has dim {v.shape[0]}, prototypes have "
                             f"{self.prototypes_.shape[1]}")
        v = v / max(float(np.sqrt(v.dot(v))), 1e-12)  # what np.linalg.norm computes, sooner
        sims = (self.prototypes_ @ v).astype(np.float64)
        segments = self._segments()
        if segments is None:
            best = np.full(len(ALL_ACTS), -1.0, dtype=np.float64)
            np.maximum.at(best, self.act_index_, sims)
            return best
        # the same maxima, one reduceat over each act's contiguous rows (much faster)
        starts, acts = segments
        top = np.maximum.reduceat(sims, starts)
        np.maximum(top, -1.0, out=top)
        if len(acts) == len(ALL_ACTS):  # sorted distinct acts, all of them: already in place
            return top
        best = np.full(len(ALL_ACTS), -1.0, dtype=np.float64)
        best[acts] = top
        return best

    def _segments(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(first row, act) of each act's block of prototypes when ``act_index_`` is sorted (as
        ``fit`` leaves it), else None."""
        idx = self.act_index_
        cached = getattr(self, "_segments_cache", None)
        if cached is None or cached[0] is not idx:
            seg = None
            if idx.size and bool(np.all(idx[1:] >= idx[:-1])):
                starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
                seg = (starts, idx[starts])
            cached = self._segments_cache = (idx, seg)
        return cached[1]

    def score(self, embedding: np.ndarray, role: Role | str) -> np.ndarray:
        """Scores in [0, 1] over :data:`ALL_ACTS`; 0 for the other role's acts."""
        # sigmoid((c - center) / temperature) with z clipped to [-50, 50], in place (the same
        # operations in the same order as the expression, without the temporaries)
        out = self.similarities(embedding)
        out -= self.center
        out /= self.temperature
        np.clip(out, -50.0, 50.0, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)
        out += 1.0
        np.divide(1.0, out, out=out)
        out[self._silent(_is_rep(role))] = 0.0
        return out

    def _silent(self, is_rep: bool) -> np.ndarray:
        """Acts scored 0 for a speaker: the other role's and those without prototypes."""
        has = self.has_act_
        cached = getattr(self, "_silent_cache", None)
        if cached is None or cached[0] is not has:
            cached = self._silent_cache = (has, {r: ~(role_mask(Role.REP if r else Role.CUSTOMER)
                                                      & has) for r in (True, False)})
        return cached[1][is_rep]


class ActDetector:
    """Lexicon scores, fused with prototype scores when an embedding is given, plus thresholds.

    The fused score is ``1 - (1 - lexicon) * (1 - prototype_weight * prototype)``; with no
    prototype detector or no embedding it is the lexicon score. An act is predicted when its
    score reaches its threshold (``thresholds`` per act, else ``default_threshold``).
    """

    def __init__(self, lexicon: LexiconDetector | None = None,
                 prototype: PrototypeDetector | None = None, prototype_weight: float = 1.0,
                 thresholds: Mapping[str, float] | None = None,
                 default_threshold: float = 0.5) -> None:
        self.lexicon = lexicon
        self.prototype = prototype
        self.prototype_weight = prototype_weight
        self.thresholds = thresholds
        self.default_threshold = default_threshold

    def threshold_array(self) -> np.ndarray:
        """Per-act thresholds aligned with :data:`ALL_ACTS`."""
        th = dict(self.thresholds or {})
        return np.array([th.get(a, self.default_threshold) for a in ALL_ACTS], dtype=np.float64)

    def score(self, text: str | TextStats, role: Role | str,
              embedding: np.ndarray | None = None) -> np.ndarray:
        """Fused scores in [0, 1] over :data:`ALL_ACTS`."""
        lexicon = self.lexicon if self.lexicon is not None else _default_lexicon()
        s = lexicon.score(text, role)
        if self.prototype is not None and embedding is not None and self.prototype_weight > 0:
            p = self.prototype.score(embedding, role)
            s = 1.0 - (1.0 - s) * (1.0 - self.prototype_weight * p)
        return s

    def detect(self, text: str | TextStats, role: Role | str,
               embedding: np.ndarray | None = None) -> ActScores:
        """Scores and the predicted label set for one utterance: the acts of ``role`` whose
        score is positive and reaches its threshold."""
        s = self.score(text, role, embedding)
        hits = s >= self._cutoffs(_is_rep(role))
        return ActScores(s.astype(np.float32), frozenset(compress(ALL_ACTS, hits.tolist())))

    def _cutoffs(self, is_rep: bool) -> np.ndarray:
        """Per-act cutoffs ``c`` with ``s >= c`` exactly when ``s >= threshold``, ``s > 0`` and
        the act is the speaker's: the threshold, the smallest positive float where the
        threshold is <= 0, NaN (never reached) for the other role's acts. Cached until
        ``thresholds`` or ``default_threshold`` change."""
        th, default = self.thresholds, self.default_threshold
        cached = getattr(self, "_cutoffs_cache", None)
        if cached is None or cached[0] != default or cached[1] != th:
            arr = self.threshold_array()
            arr[arr <= 0] = np.nextafter(0.0, 1.0)  # s >= that  <=>  s > 0 (NaN stays NaN)
            by_role = {}
            for r in (True, False):
                c = arr.copy()
                c[~role_mask(Role.REP if r else Role.CUSTOMER)] = np.nan
                c.flags.writeable = False
                by_role[r] = c
            cached = self._cutoffs_cache = (default, None if th is None else dict(th), by_role)
        return cached[2][is_rep]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable configuration (the lexicon and prototypes are code, not state)."""
        return {"prototype_weight": self.prototype_weight,
                "thresholds": dict(self.thresholds or {}),
                "default_threshold": self.default_threshold}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any],
                  prototype: PrototypeDetector | None = None) -> ActDetector:
        """Rebuild from :meth:`to_dict`; pass the fitted ``prototype`` detector if one was used."""
        return cls(prototype=prototype, prototype_weight=float(data["prototype_weight"]),
                   thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
                   default_threshold=float(data["default_threshold"]))


@lru_cache(maxsize=1)
def _default_lexicon() -> LexiconDetector:
    return LexiconDetector()


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _default_scores(stats: TextStats, is_rep: bool, negation_window: int) -> np.ndarray:
    """The default lexicon's scores (read-only: callers get a copy)."""
    out = LexiconDetector(negation_window=negation_window)._score(stats, is_rep)
    out.flags.writeable = False
    return out


def fit_thresholds(scores: np.ndarray, y: np.ndarray, acts: Sequence[str] = ALL_ACTS,
                   grid: Sequence[float] | None = None,
                   default: float = 0.5) -> dict[str, float]:
    """Per-act threshold maximising F1 on ``scores`` / boolean ``y`` (rows: utterances).

    Acts with no positive example keep ``default``. Ties go to the higher threshold.
    """
    grid = list(grid) if grid is not None else [round(0.05 * k, 2) for k in range(2, 20)]
    out: dict[str, float] = {}
    for j, act in enumerate(acts):
        truth = y[:, j].astype(bool)
        if not truth.any():
            out[act] = default
            continue
        best, best_f1 = default, -1.0
        for t in sorted(grid, reverse=True):
            pred = scores[:, j] >= t
            tp = float(np.sum(pred & truth))
            f1 = 2 * tp / max(float(pred.sum() + truth.sum()), 1.0)
            if f1 > best_f1 + 1e-12:
                best, best_f1 = t, f1
        out[act] = best
    return out


def prf(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float, int]:
    """Precision, recall, F1 and support of boolean arrays (0 where undefined)."""
    pred, truth = pred.astype(bool), truth.astype(bool)
    tp = float(np.sum(pred & truth))
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / truth.sum() if truth.sum() else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return (float(p), float(r), float(f), int(truth.sum()))


__all__ = ["ACT_INDEX", "ALL_ACTS", "CUSTOMER_ACTS", "REP_ACTS", "ActDetector", "ActScores",
           "Embedder", "LexiconDetector", "PrototypeDetector", "fit_thresholds", "noisy_or",
           "prf", "role_mask"]
