"""Retrieval features ("orchestration"): what happened to the most similar training prefixes.

For a state, find the ``k`` training prefixes whose projected states are closest and return
three extra inputs: their mean outcome, their similarity-weighted outcome and the largest
similarity (how familiar the situation is). This is k-nearest-neighbour evidence in the spirit
of retrieval-augmented prediction (Khandelwal et al., "Generalization through Memorization:
Nearest Neighbor Language Models", ICLR 2020).

Leakage: a training row must not retrieve its own conversation's prefixes (they share its
label), so :meth:`RetrievalIndex.transform` takes the conversation ids of the query rows and
masks every index row of the same conversation (leave-one-conversation-out). At prediction
time the query conversation is not in the index and nothing needs masking.

Search is exact and brute force: projected, L2-normalised vectors and one matrix multiply per
query chunk. The index holds at most ``max_rows`` rows of ``proj_dim`` (<= 32) floats, so a
query costs well under a millisecond, and masking a whole
conversation is one boolean mask. sklearn's ``NearestNeighbors`` (or an ANN library) cannot
exclude a group of rows, so it would need ``k + longest conversation`` neighbours per query and
a filter afterwards, for no speed gain at this size. Neighbours are ranked on similarities
rounded to ``1 / ROUND``, so a query gets the same features alone as in a batch (the product's
float noise, which depends on the batch, cannot reorder near-ties).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

N_FEATURES = 3
FEATURE_NAMES = ("knn_mean_outcome", "knn_weighted_outcome", "knn_max_similarity")
ROUND = 1e4  # neighbours are ranked on similarities rounded to 1 / ROUND


class RetrievalIndex:
    """Exact k-NN over projected training states; see the module docstring.

    The projection standardises the state columns and keeps the first ``proj_dim`` principal
    components (``proj_dim=0``: all columns). ``metric="cosine"`` uses cosine similarity of the
    projected vectors; ``"l2"`` uses ``1 / (1 + distance)``.
    """

    def __init__(self, k: int = 10, proj_dim: int = 16,
                 metric: Literal["cosine", "l2"] = "cosine", max_rows: int = 20000,
                 seed: int = 0, chunk: int = 2048) -> None:
        self.k = k
        self.proj_dim = proj_dim
        self.metric = metric
        self.max_rows = max_rows
        self.seed = seed
        self.chunk = chunk

    # -- fitting --------------------------------------------------------------------------
    def fit(self, states: np.ndarray, labels: np.ndarray,
            conv_ids: np.ndarray | None = None) -> RetrievalIndex:
        """Index training prefixes: ``states (N, D)``, outcome ``labels (N,)``, and the
        conversation id of each row (for leave-one-conversation-out)."""
        if self.metric not in ("cosine", "l2"):
            raise ValueError(f"unknown metric {self.metric!r}")
        x = np.asarray(states, dtype=np.float64)
        y = np.asarray(labels, dtype=np.float64).reshape(-1)
        if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise ValueError("states must be (N, D) with one label per row, N > 0")
        ids = np.asarray(conv_ids if conv_ids is not None else np.arange(len(x)), dtype=object)
        rng = np.random.default_rng(self.seed)
        if len(x) > self.max_rows:
            keep = np.sort(rng.choice(len(x), self.max_rows, replace=False))
            x, y, ids = x[keep], y[keep], ids[keep]
        self.mean_ = x.mean(0)
        self.std_ = np.maximum(x.std(0), 1e-6)
        z = (x - self.mean_) / self.std_
        if 0 < self.proj_dim < z.shape[1]:
            _, _, vt = np.linalg.svd(z - z.mean(0), full_matrices=False)
            self.components_ = vt[: self.proj_dim].T.copy()
        else:
            self.components_ = np.eye(z.shape[1])
        self.vectors_ = self._project(x).astype(np.float32)
        self.labels_ = y.astype(np.float32)
        self._id_code = {v: i for i, v in enumerate(dict.fromkeys(ids.tolist()))}
        self.conv_codes_ = np.array([self._id_code[v] for v in ids.tolist()], dtype=np.int64)
        self.prior_ = float(y.mean())
        return self

    def _project(self, x: np.ndarray) -> np.ndarray:
        v = ((np.asarray(x, dtype=np.float64) - self.mean_) / self.std_) @ self.components_
        if self.metric == "cosine":
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return v

    # -- querying -------------------------------------------------------------------------
    def transform(self, states: np.ndarray, conv_ids: np.ndarray | None = None) -> np.ndarray:
        """``(n, 3)`` features for query rows; rows whose ``conv_ids`` entry names an indexed
        conversation never see that conversation's prefixes."""
        q = self._project(np.atleast_2d(states)).astype(np.float32)
        n = len(q)
        codes = np.full(n, -1, dtype=np.int64)
        if conv_ids is not None:
            lookup = getattr(self, "_id_code", {})
            codes = np.array([lookup.get(v, -1) for v in np.asarray(conv_ids, dtype=object)],
                             dtype=np.int64)
        out = np.empty((n, N_FEATURES), dtype=np.float32)
        k = min(self.k, len(self.vectors_))
        vt = self.vectors_.T
        vv = (self.vectors_ ** 2).sum(1) if self.metric == "l2" else None
        for lo in range(0, n, self.chunk):
            hi = min(n, lo + self.chunk)
            dots = q[lo:hi] @ vt
            if self.metric == "cosine":
                sim = dots
            else:
                d2 = np.maximum((q[lo:hi] ** 2).sum(1, keepdims=True) - 2 * dots + vv, 0.0)
                sim = 1.0 / (1.0 + np.sqrt(d2))
            c = codes[lo:hi]
            if (c >= 0).any():
                sim = np.where(c[:, None] == self.conv_codes_[None, :], -np.inf, sim)
            # rank on similarities rounded to 1e-4: the matrix product's float noise depends
            # on the batch (BLAS kernels), so near-ties (identical prefixes, common at turn 1)
            # would pick other neighbours for a query alone than in a batch
            key = np.multiply(sim, -ROUND)
            np.rint(key, out=key)
            top = np.argpartition(key, k - 1, axis=1)[:, :k]
            s = np.take_along_axis(sim, top, axis=1)
            y = self.labels_[top]
            valid = np.isfinite(s)
            w = np.where(valid, np.maximum(s, 0.0) + 1e-6, 0.0)
            nv = valid.sum(1)
            mean = np.where(nv > 0, (y * valid).sum(1) / np.maximum(nv, 1), self.prior_)
            wmean = np.where(w.sum(1) > 0, (w * y).sum(1) / np.maximum(w.sum(1), 1e-12),
                             self.prior_)
            smax = np.where(nv > 0, np.where(valid, s, -np.inf).max(1), 0.0)
            out[lo:hi] = np.stack([mean, wmean, smax], axis=1)
        return out

    # -- persistence (arrays for safetensors, scalars for JSON) ----------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_.astype(np.float64), "std": self.std_.astype(np.float64),
                "components": self.components_.astype(np.float64),
                "vectors": self.vectors_, "labels": self.labels_}

    def params(self) -> dict[str, object]:
        return {"k": self.k, "proj_dim": self.proj_dim, "metric": self.metric,
                "max_rows": self.max_rows, "seed": self.seed, "prior": self.prior_}

    @classmethod
    def from_arrays(cls, params: dict[str, object], arrays: dict[str, np.ndarray]
                    ) -> RetrievalIndex:
        idx = cls(k=int(params["k"]), proj_dim=int(params["proj_dim"]),
                  metric=str(params["metric"]),  # type: ignore[arg-type]
                  max_rows=int(params["max_rows"]), seed=int(params["seed"]))
        idx.mean_ = np.asarray(arrays["mean"], dtype=np.float64)
        idx.std_ = np.asarray(arrays["std"], dtype=np.float64)
        idx.components_ = np.asarray(arrays["components"], dtype=np.float64)
        idx.vectors_ = np.asarray(arrays["vectors"], dtype=np.float32)
        idx.labels_ = np.asarray(arrays["labels"], dtype=np.float32)
        idx.conv_codes_ = np.full(len(idx.labels_), -2, dtype=np.int64)
        idx._id_code = {}
        idx.prior_ = float(params["prior"])  # type: ignore[arg-type]
        return idx
