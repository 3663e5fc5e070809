"""The training material a new prefix is compared with: states, turns, words, language, shape.

:class:`TrainingReference` is fitted on the turns of the training conversations and answers,
for new turns, the raw per-turn quantities the confidence signals are made of:

* nearest training *states*: the state rows are standardised and projected on their first
  principal components (PCA), L2-normalised, and searched exactly by cosine similarity.
  Exact numpy search is used on purpose: at this size (<= ``max_rows`` = 20k rows x 32 dims)
  one query costs about as much as a usearch HNSW query, batched queries become one BLAS
  matrix product, and there is no index to build per fold (usearch took seconds to build);
  ``bench/bench_confidence.py --index-timing`` measures both. Returned: similarity of the
  nearest row, mean similarity of the ``k`` nearest (density, as in kNN-based OOD detection,
  Sun et al., ICML 2022) and the mean outcome of those ``k`` (agreement);
* nearest training *turns* (cosine similarity of turn embeddings, exact, over at most
  ``max_turns`` distinct training turns), and how far the turn's position is from where
  those turns are said in training conversations;
* words outside the training vocabulary, and the probability that the turn is *not* in the
  training language (py3langid);
* robust z-scores of the prefix's structure (:class:`~.inputs.StructureTracker`) against
  training prefixes of similar length (median and IQR per length bucket).

Everything learned is a numpy array or a list of strings, so it saves to safetensors + JSON.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any, Self

import numpy as np

from salesrl.confidence.inputs import STRUCTURE_NAMES, LanguageGuesser, TurnInputs, tokens

__all__ = ["BUCKET_EDGES", "TrainingReference"]

#: prefix-length buckets of the structure statistics: [1], [2], [3], [4, 5], [6, 8], ...
BUCKET_EDGES = np.array([2, 3, 4, 6, 9, 13, 21, 31])
#: smallest robust scale per structure feature (features in STRUCTURE_NAMES order)
_SCALE_FLOOR = np.array([1.0, 0.05, 0.5, 0.1, 0.2, 0.1, 0.2, 0.05])
#: features compared on a log1p scale (counts and seconds are skewed)
_LOG = np.array([False, False, False, True, True, True, True, False])
_MIN_LANG_TOKENS = 3
_CHUNK = 1024


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


def _snap(sims: np.ndarray) -> np.ndarray:
    """Similarities rounded to 1e-5: a matrix-vector and a matrix-matrix product round
    differently in the last bits, which must not decide which of two tied neighbours a live
    session (one row) and a batch (many rows) pick."""
    return np.round(sims, 5)


class TrainingReference:
    """Fitted summary of the training turns (scikit-learn conventions).

    Args:
        state_dim: leading columns of the rows used as the state (None: all).
        n_components: PCA components of the state space.
        k: neighbours for density and agreement.
        max_rows, max_turns: random caps on the reference states and turns.
        seed: seed of those subsamples.
    """

    def __init__(self, state_dim: int | None = None, n_components: int = 32, k: int = 10,
                 max_rows: int = 20000, max_turns: int = 4096, seed: int = 0) -> None:
        self.state_dim = state_dim
        self.n_components = n_components
        self.k = k
        self.max_rows = max_rows
        self.max_turns = max_turns
        self.seed = seed

    # -- fitting --------------------------------------------------------------------------
    def fit(self, inputs: TurnInputs) -> Self:
        if inputs.labels is None:
            raise ValueError("TrainingReference.fit needs labelled turns (TurnInputs.labels)")
        if len(inputs) < 2:
            raise ValueError("TrainingReference.fit needs at least 2 turns")
        rng = np.random.default_rng(self.seed)
        x = self._state(inputs.rows).astype(np.float64)
        self.mean_ = x.mean(axis=0)
        self.scale_ = np.where(x.std(axis=0) > 1e-8, x.std(axis=0), 1.0)
        z = (x - self.mean_) / self.scale_
        pick = rng.permutation(len(z))[: self.max_rows]
        n_comp = int(min(self.n_components, z.shape[1], len(pick) - 1))
        # PCA by SVD of the (sub)sample: numpy does it; sklearn's PCA would add nothing here.
        _, _, vt = np.linalg.svd(z[pick[:5000]], full_matrices=False)
        self.components_ = vt[:n_comp].astype(np.float32)
        self.ref_ = _unit((z[pick] @ self.components_.T).astype(np.float32))
        self.ref_labels_ = inputs.labels[pick].astype(np.float32)

        texts = np.array(inputs.texts, dtype=object)
        _, first, inverse = np.unique(texts, return_index=True, return_inverse=True)
        # where in a conversation each distinct text is said: mean log1p(turn index)
        pos = np.bincount(inverse, np.log1p(inputs.turn_index)) / np.bincount(inverse)
        pick_turns = rng.permutation(len(first))[: self.max_turns]
        self.turn_ref_ = _unit(inputs.embeddings[first[pick_turns]])
        self.turn_pos_ = pos[pick_turns].astype(np.float32)

        counts = Counter(w for t in inputs.texts for w in tokens(t))
        self.vocab_ = sorted(counts)
        self._vocab = frozenset(self.vocab_)
        guess = LanguageGuesser()
        sample = [t for t in texts[rng.permutation(len(texts))[:2000]]
                  if len(tokens(t)) >= _MIN_LANG_TOKENS]
        langs = Counter(guess(t)[0] for t in sample)
        self.language_ = langs.most_common(1)[0][0] if langs else "en"

        s = self._log(inputs.structure)
        bucket = np.searchsorted(BUCKET_EDGES, inputs.structure[:, 0], side="right")
        nb, nf = len(BUCKET_EDGES) + 1, len(STRUCTURE_NAMES)
        self.struct_median_ = np.full((nb, nf), np.nan)
        self.struct_scale_ = np.tile(_SCALE_FLOOR, (nb, 1)).astype(np.float64)
        for b in range(nb):
            rows = s[bucket == b]
            if not len(rows):  # an unseen length: use the nearest shorter bucket
                self.struct_median_[b] = self.struct_median_[b - 1] if b else np.nan
                continue
            with warnings.catch_warnings():  # all-NaN columns: gaps of untimed data
                warnings.simplefilter("ignore", RuntimeWarning)
                q25, q50, q75 = np.nanquantile(rows, [0.25, 0.5, 0.75], axis=0)
            self.struct_median_[b] = q50
            iqr = np.nan_to_num((q75 - q25) / 1.349, nan=0.0)
            self.struct_scale_[b] = np.maximum(iqr, _SCALE_FLOOR)
        return self

    def _state(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows)
        return rows if self.state_dim is None else rows[:, : self.state_dim]

    @staticmethod
    def _log(structure: np.ndarray) -> np.ndarray:
        s = np.array(structure, dtype=np.float64)
        s[:, _LOG] = np.log1p(s[:, _LOG])
        return s

    # -- queries --------------------------------------------------------------------------
    def project(self, rows: np.ndarray) -> np.ndarray:
        """Unit vectors of the rows in the reference's PCA space."""
        x = self._state(np.atleast_2d(rows)).astype(np.float32)
        if x.shape[1] != len(self.mean_):
            raise ValueError(f"state rows have {x.shape[1]} columns, the confidence reference "
                             f"was fitted on {len(self.mean_)}")
        z = (x - self.mean_.astype(np.float32)) / self.scale_.astype(np.float32)
        return _unit(z @ self.components_.T)

    def neighbours(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """``nn_sim`` (nearest), ``nn_density`` (mean of k), ``nn_label`` (mean outcome of k)."""
        q = self.project(rows)
        k = min(self.k, len(self.ref_))
        out = {name: np.zeros(len(q)) for name in ("nn_sim", "nn_density", "nn_label")}
        for a in range(0, len(q), _CHUNK):
            sims = _snap(q[a : a + _CHUNK] @ self.ref_.T)
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            ts = np.take_along_axis(sims, top, axis=1)
            out["nn_sim"][a : a + _CHUNK] = ts.max(axis=1)
            out["nn_density"][a : a + _CHUNK] = ts.mean(axis=1)
            out["nn_label"][a : a + _CHUNK] = self.ref_labels_[top].mean(axis=1)
        return out

    def turns(self, embeddings: np.ndarray, positions: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        """Per turn: cosine similarity to the nearest training turn, and the position gap
        ``|log1p(position) - log1p(where the k nearest training turns are said)|`` (a
        greeting at turn 20 or a goodbye at turn 1 is out of place)."""
        q = _unit(np.atleast_2d(np.asarray(embeddings, dtype=np.float32)))
        if q.shape[1] != self.turn_ref_.shape[1]:
            raise ValueError(f"turn embeddings have dim {q.shape[1]}, the confidence reference "
                             f"was fitted on dim {self.turn_ref_.shape[1]}")
        k = min(5, len(self.turn_ref_))
        sim, gap = np.zeros(len(q)), np.zeros(len(q))
        logpos = np.log1p(np.asarray(positions, dtype=np.float64).reshape(-1))
        for a in range(0, len(q), _CHUNK):
            sims = _snap(q[a : a + _CHUNK] @ self.turn_ref_.T)
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            ts = np.maximum(np.take_along_axis(sims, top, axis=1), 1e-3)
            sim[a : a + _CHUNK] = ts.max(axis=1)
            where = (ts * self.turn_pos_[top]).sum(axis=1) / ts.sum(axis=1)
            gap[a : a + _CHUNK] = np.abs(logpos[a : a + _CHUNK] - where)
        return sim, gap

    def words(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per turn: number of word tokens, of those outside the training vocabulary, and
        P(not the training language) (0 for turns under 3 words)."""
        guess = LanguageGuesser()
        n_tok, n_oov, foreign = (np.zeros(len(texts)) for _ in range(3))
        for i, t in enumerate(texts):
            toks = tokens(t)
            n_tok[i] = len(toks)
            n_oov[i] = sum(w not in self._vocab for w in toks)
            if len(toks) >= _MIN_LANG_TOKENS:
                foreign[i] = 1.0 - guess.prob(t, self.language_)
        return n_tok, n_oov, foreign

    def structure_z(self, structure: np.ndarray) -> np.ndarray:
        """``(n, len(STRUCTURE_NAMES))`` robust |z| against training prefixes of similar
        length (0 where either side is unknown)."""
        s = self._log(np.atleast_2d(structure))
        b = np.searchsorted(BUCKET_EDGES, s[:, 0], side="right")
        z = np.abs(s - self.struct_median_[b]) / self.struct_scale_[b]
        return np.clip(np.nan_to_num(z, nan=0.0), 0.0, 20.0)

    # -- persistence ----------------------------------------------------------------------
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays for safetensors, JSON-able metadata)."""
        arrays = {f"ref.{n}": np.ascontiguousarray(getattr(self, n + "_")) for n in (
            "mean", "scale", "components", "ref", "ref_labels", "turn_ref", "turn_pos",
            "struct_median", "struct_scale")}
        meta = {"params": {"state_dim": self.state_dim, "n_components": self.n_components,
                           "k": self.k, "max_rows": self.max_rows, "max_turns": self.max_turns,
                           "seed": self.seed},
                "vocab": self.vocab_, "language": self.language_}
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        ref = cls(**meta["params"])
        for n in ("mean", "scale", "components", "ref", "ref_labels", "turn_ref", "turn_pos",
                  "struct_median", "struct_scale"):
            setattr(ref, n + "_", arrays[f"ref.{n}"])
        ref.vocab_ = list(meta["vocab"])
        ref._vocab = frozenset(ref.vocab_)
        ref.language_ = str(meta["language"])
        return ref
