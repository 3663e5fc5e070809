"""The confidence signals of a prefix, from a :class:`~.reference.TrainingReference`.

Per turn the reference gives raw quantities (nearest states and turns, words, language,
structure z-scores); this module folds them over the prefix with running sums, so the batch
path (:func:`batch_signals`, whole conversations at once) and the streaming path
(:class:`PrefixSums`, one turn at a time) compute the same numbers, and assembles the signal
matrix whose columns are :data:`SIGNAL_NAMES`. Groups (:data:`SIGNAL_GROUPS`) can be switched
off for ablation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesrl.confidence.inputs import TurnInputs
from salesrl.confidence.reference import TrainingReference

__all__ = ["OOD_SIGNALS", "SIGNAL_GROUPS", "SIGNAL_NAMES", "PrefixSums", "Trajectory",
           "assemble", "batch_trajectory",
           "batch_signals", "raw_parts", "raw_turns"]

SIGNAL_GROUPS: dict[str, tuple[str, ...]] = {
    # the base prediction itself: its distance from 0.5 and how far into the conversation
    "prediction": ("margin", "side", "log_turn"),
    # the base prediction's path over the prefix: last move, flips, run on this side, EWMA
    "trajectory": ("p_delta", "flip_share", "side_run", "ewma_margin"),
    # nearest training states: similarity, density, outcome agreement with the prediction
    "similarity": ("nn_sim", "nn_density", "nn_agree", "nn_gap"),
    # ensemble members: spread and share on the minority side of 0.5
    "ensemble": ("member_std", "member_disagree"),
    # prefix shape against training prefixes of similar length
    "structure": ("struct_max_z", "struct_mean_z", "position_gap", "position_prefix"),
    # content: unlike any training turn, unknown words, another language
    "novelty": ("turn_novelty", "novelty_prefix", "novel_share", "oov_turn", "oov_prefix",
                "foreign_turn", "foreign_prefix"),
}
SIGNAL_NAMES: tuple[str, ...] = tuple(n for g in SIGNAL_GROUPS.values() for n in g)
#: signals read by the out-of-distribution score (larger = more unusual; nn_sim is negated)
OOD_SIGNALS: tuple[str, ...] = ("nn_sim", "struct_max_z", "position_prefix", "novelty_prefix",
                                "novel_share", "oov_prefix", "foreign_prefix")
_MIN_LANG_TOKENS = 3


def raw_turns(ref: TrainingReference, inputs: TurnInputs) -> dict[str, np.ndarray]:
    """Per-turn raw quantities of every row of ``inputs`` against ``ref``."""
    return raw_parts(ref, inputs.rows, inputs.embeddings, inputs.texts, inputs.structure)


def raw_parts(ref: TrainingReference, rows: np.ndarray, embeddings: np.ndarray,
              texts: list[str], structure: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`raw_turns` from the separate per-turn arrays (one or many turns)."""
    structure = np.atleast_2d(np.asarray(structure, dtype=np.float64))
    raw = ref.neighbours(np.atleast_2d(rows))
    raw["turn_sim"], raw["position_gap"] = ref.turns(embeddings, structure[:, 0] - 1)
    raw["n_tok"], raw["n_oov"], raw["foreign"] = ref.words(texts)
    z = ref.structure_z(structure)
    raw["struct_max_z"] = z.max(axis=1)
    raw["struct_mean_z"] = z.mean(axis=1)
    raw["struct_arg"] = z.argmax(axis=1).astype(np.float64)
    raw["n_turns"] = structure[:, 0]
    return raw


def _group_cumsum(x: np.ndarray, conv: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each new conversation."""
    c = np.cumsum(x)
    if not len(x):
        return c
    starts = np.r_[0, np.flatnonzero(np.diff(conv)) + 1]
    offset = np.r_[0.0, c[starts[1:] - 1]]
    return c - np.repeat(offset, np.diff(np.r_[starts, len(x)]))


def _prefix_terms(raw: dict[str, np.ndarray], novel_threshold: float
                  ) -> dict[str, np.ndarray]:
    """The per-turn terms whose running sums make the prefix signals."""
    novelty = 1.0 - raw["turn_sim"]
    w = np.where(raw["n_tok"] >= _MIN_LANG_TOKENS, raw["n_tok"], 0.0)
    return {"one": np.ones_like(novelty), "novelty": novelty, "pos": raw["position_gap"],
            "novel": (novelty > novel_threshold).astype(np.float64), "tok": raw["n_tok"],
            "oov": raw["n_oov"], "fw": w * raw["foreign"], "w": w}


def _from_sums(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"novelty_prefix": s["novelty"] / s["one"], "novel_share": s["novel"] / s["one"],
            "position_prefix": s["pos"] / s["one"],
            "oov_prefix": s["oov"] / np.maximum(s["tok"], 1.0),
            "foreign_prefix": s["fw"] / np.maximum(s["w"], 1.0)}


def batch_signals(raw: dict[str, np.ndarray], conv: np.ndarray,
                  novel_threshold: float) -> dict[str, np.ndarray]:
    """Prefix signals of every row, from the rows' raw quantities (conversations in order)."""
    terms = _prefix_terms(raw, novel_threshold)
    return _from_sums({k: _group_cumsum(v, conv) for k, v in terms.items()})


@dataclass
class PrefixSums:
    """Running sums of one conversation for :class:`~.model.ConfidenceTracker`."""

    one: float = 0.0
    novelty: float = 0.0
    pos: float = 0.0
    novel: float = 0.0
    tok: float = 0.0
    oov: float = 0.0
    fw: float = 0.0
    w: float = 0.0

    def update(self, raw: dict[str, np.ndarray], novel_threshold: float
               ) -> dict[str, np.ndarray]:
        """Add one turn's raw quantities (arrays of length 1); return its prefix signals."""
        terms = _prefix_terms(raw, novel_threshold)
        for k, v in terms.items():
            setattr(self, k, getattr(self, k) + float(v[0]))
        return _from_sums({k: np.array([getattr(self, k)]) for k in terms})


@dataclass
class Trajectory:
    """Running path of one conversation's base predictions (O(1) per turn)."""

    n: int = 0
    last: float = 0.5
    flips: int = 0
    run: int = 0
    ewma: float = 0.5
    alpha: float = 0.3

    def update(self, p: float) -> tuple[float, float, float, float]:
        """(|p - previous p|, share of turns whose side flipped, log1p(turns on this side in
        a row), |EWMA(p) - 0.5|) after this turn's prediction ``p``."""
        side = p >= 0.5
        delta = abs(p - self.last) if self.n else 0.0
        flipped = self.n > 0 and side != (self.last >= 0.5)
        self.flips += int(flipped)
        self.run = 1 if (self.n == 0 or flipped) else self.run + 1
        self.ewma = p if self.n == 0 else self.alpha * p + (1 - self.alpha) * self.ewma
        self.n += 1
        self.last = p
        return delta, self.flips / self.n, float(np.log1p(self.run)), abs(self.ewma - 0.5)


def batch_trajectory(proba: np.ndarray, conv: np.ndarray) -> dict[str, np.ndarray]:
    """:class:`Trajectory` of every row (conversations in order), as column arrays."""
    out = np.zeros((len(proba), 4))
    state, current = Trajectory(), None
    for i, (p, c) in enumerate(zip(np.asarray(proba, dtype=np.float64), conv, strict=True)):
        if c != current:
            state, current = Trajectory(), c
        out[i] = state.update(float(p))
    return dict(zip(SIGNAL_GROUPS["trajectory"], out.T, strict=True))


def assemble(raw: dict[str, np.ndarray], prefix: dict[str, np.ndarray], proba: np.ndarray,
             members: np.ndarray | None) -> dict[str, np.ndarray]:
    """Every signal of :data:`SIGNAL_NAMES` as a column dict (``prefix`` holds the prefix
    sums' signals and the :class:`Trajectory` columns)."""
    p = np.asarray(proba, dtype=np.float64).reshape(-1)
    m = p[:, None] if members is None else np.asarray(members, dtype=np.float64)
    if m.shape[0] != len(p):
        raise ValueError(f"members have {m.shape[0]} rows for {len(p)} probabilities")
    side = (p >= 0.5).astype(np.float64)
    agree = side * raw["nn_label"] + (1 - side) * (1 - raw["nn_label"])
    votes = (m >= 0.5).mean(axis=1)
    n_tok = np.maximum(raw["n_tok"], 1.0)
    return {
        "margin": np.abs(p - 0.5), "side": p - 0.5, "log_turn": np.log1p(raw["n_turns"]),
        **{n: prefix[n] for n in SIGNAL_GROUPS["trajectory"]},
        "nn_sim": raw["nn_sim"], "nn_density": raw["nn_density"], "nn_agree": agree,
        "nn_gap": np.abs(raw["nn_label"] - p),
        "member_std": m.std(axis=1), "member_disagree": np.minimum(votes, 1 - votes),
        "struct_max_z": raw["struct_max_z"], "struct_mean_z": raw["struct_mean_z"],
        "position_gap": raw["position_gap"], "position_prefix": prefix["position_prefix"],
        "turn_novelty": 1.0 - raw["turn_sim"], "novelty_prefix": prefix["novelty_prefix"],
        "novel_share": prefix["novel_share"], "oov_turn": raw["n_oov"] / n_tok,
        "oov_prefix": prefix["oov_prefix"], "foreign_turn": raw["foreign"],
        "foreign_prefix": prefix["foreign_prefix"],
    }
