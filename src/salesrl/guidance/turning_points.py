"""Turning points: the turns where P(sale) moved, found by change-point detection.

The per-turn probability series is segmented with PELT (Killick, Fearnhead & Eckley, JASA
2012; ``ruptures``, Truong et al. 2020) under a least-squares cost, with a BIC-style penalty
``2 * sigma^2 * log(n)`` where ``sigma`` is a robust (median absolute deviation) estimate of
the turn-to-turn noise, floored so that a nearly flat series does not split on jitter. Each
boundary is a turning point; its delta is the change in mean level across the boundary and its
cause is read from the acts (tagger or detectors) and a few words of the turn that moved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from salesrl.conversation import Turn
from salesrl.features.signals.detectors import ActDetector

_PRICE = re.compile(r"\b(price|pricing|cost|costs|budget|discount|expensive|cheaper|\$\d)",
                    re.IGNORECASE)
_COMPETITOR = re.compile(r"\b(competitor|alternative|another vendor|other vendor|already use|"
                         r"switch(ing)? from|currently using)", re.IGNORECASE)
MIN_SIGMA = 0.02


@dataclass(frozen=True)
class TurningPoint:
    """Turn ``index`` starts a new level of P(sale), ``delta`` above (or below) the last."""

    index: int
    delta: float
    cause: str


def turn_cause(acts: Sequence[str], text: str) -> str | None:
    """The likely cause of a turning point this turn starts (None: nothing stands out)."""
    names = [a for a in acts if a]
    if any(a == "objection_competitor" for a in names) or _COMPETITOR.search(text):
        return "competitor mentioned"
    if any(a in ("objection_price", "discount") for a in names) or _PRICE.search(text):
        return "price discussed"
    for a in names:
        if a.startswith("objection_"):
            return f"objection raised ({a.removeprefix('objection_')})"
    if "commitment" in names:
        return "commitment"
    if "rejection" in names:
        return "rejection"
    if "interest" in names:
        return "interest shown"
    if "closing_attempt" in names:
        return "closing attempt"
    return None


def _acts_of(acts: Sequence[Sequence[str] | str], i: int) -> list[str]:
    if not 0 <= i < len(acts):
        return []
    a = acts[i]
    return [a] if isinstance(a, str) else list(a)


def turning_points(probabilities: Sequence[float], turns: Sequence[str],
                   acts: Sequence[Sequence[str] | str], *, penalty: float | None = None,
                   ) -> list[TurningPoint]:
    """Change points of the per-turn ``probabilities``, each with its likely cause.

    ``turns`` are the turn texts and ``acts`` the act label(s) of each turn, aligned with
    ``probabilities`` (shorter lists are allowed: missing entries mean "unknown").
    ``penalty`` overrides the BIC-style default.
    """
    import ruptures as rpt  # imported lazily: only analysis needs it

    p = np.asarray(probabilities, dtype=float)
    if p.ndim != 1 or not np.all(np.isfinite(p)):
        raise ValueError("probabilities must be a 1-D sequence of finite numbers")
    n = p.size
    if n < 2:
        return []
    diffs = np.diff(p)
    sigma = max(1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2.0),
                MIN_SIGMA)
    pen = penalty if penalty is not None else 2.0 * sigma**2 * np.log(max(n, 2))
    bkps = rpt.Pelt(model="l2", min_size=1, jump=1).fit(p.reshape(-1, 1)).predict(pen=pen)
    bounds = [0, *bkps]
    out = []
    for j in range(1, len(bounds) - 1):
        k = bounds[j]
        delta = float(p[k:bounds[j + 1]].mean() - p[bounds[j - 1]:k].mean())
        cause = None
        for i in (k, k - 1):  # the turn that moved, else the one just before it
            cause = turn_cause(_acts_of(acts, i), turns[i] if 0 <= i < len(turns) else "")
            if cause:
                break
        out.append(TurningPoint(index=k, delta=delta, cause=cause or "unclear"))
    return out


def detected_acts(turns: Sequence[Turn], detector: ActDetector | None = None) -> list[list[str]]:
    """The act labels the signal detectors (lexicons) find in each turn: the cause reader for
    :func:`turning_points` when no trained tagger is at hand."""
    detector = detector or ActDetector()
    return [sorted(detector.detect(t.text, t.role).labels) for t in turns]


def conversation_turning_points(probabilities: Sequence[float], turns: Sequence[Turn],
                                detector: ActDetector | None = None) -> list[TurningPoint]:
    """:func:`turning_points` of one scored conversation, causes from :func:`detected_acts`.

    It segments the *whole* series, so it describes a conversation after the fact (what
    ``salesrl analyze`` shows); a live session only ever sees its prefix.
    """
    return turning_points(probabilities, [t.text for t in turns], detected_acts(turns, detector))


@dataclass
class LiveTurningPoints:
    """Turning points of a live conversation, decided as each probability arrives (O(1)).

    The prefix-only counterpart of :func:`turning_points`: the same least-squares cost and
    BIC-style penalty, applied sequentially. The newest probability ``p`` starts a new level
    when splitting it from the current segment (``m`` turns, mean ``mu``) lowers the cost by
    more than the penalty, i.e. ``(p - mu)^2 * m / (m + 1) > 2 sigma^2 log(n)``, with
    ``sigma`` the robust turn-to-turn noise of the prefix. A level that builds up over several
    small steps is only seen after the fact (:func:`turning_points` on the whole series).
    """

    n: int = 0
    seg_n: int = 0
    seg_mean: float = 0.0
    last: float = 0.0
    diffs: list[float] | None = None
    causes: list[str | None] | None = None

    def update(self, p: float, cause: str | None) -> TurningPoint | None:
        """Take the next turn's probability and likely cause; a turning point or None."""
        diffs = self.diffs if self.diffs is not None else []
        causes = self.causes if self.causes is not None else []
        self.diffs, self.causes = diffs, causes
        out = None
        if self.n:
            diffs.append(p - self.last)
            d = np.asarray(diffs)
            sigma = max(1.4826 * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(2.0),
                        MIN_SIGMA)
            pen = 2.0 * sigma**2 * np.log(max(self.n + 1, 2))
            gain = (p - self.seg_mean) ** 2 * self.seg_n / (self.seg_n + 1)
            if gain > pen:
                reason = cause or (causes[-1] if causes else None)
                out = TurningPoint(index=self.n, delta=float(p - self.seg_mean),
                                   cause=reason or "unclear")
        causes.append(cause)
        if out is not None or not self.n:
            self.seg_n, self.seg_mean = 1, float(p)
        else:
            self.seg_n += 1
            self.seg_mean += (p - self.seg_mean) / self.seg_n
        self.n += 1
        self.last = float(p)
        return out

    def to_dict(self) -> dict:
        return {"n": self.n, "seg_n": self.seg_n, "seg_mean": self.seg_mean, "last": self.last,
                "diffs": list(self.diffs or []), "causes": list(self.causes or [])}

    @classmethod
    def from_dict(cls, data: dict) -> LiveTurningPoints:
        return cls(int(data["n"]), int(data["seg_n"]), float(data["seg_mean"]),
                   float(data["last"]), [float(x) for x in data["diffs"]],
                   list(data["causes"]))
