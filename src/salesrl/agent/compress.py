"""PCA compression of the agent's wide columns (``TrainConfig.compress_dim`` / ``_turn_dim``).

A MiniLM state row holds over a thousand state columns and a window of 385-d turn vectors;
on a thousand training dialogues the network's first layers memorise them. :class:`RowCompressor`
projects the standardised state columns and the standardised turn vectors on their leading
principal components (Pearson 1901; Hotelling 1933; sklearn's randomised solver, Halko et al.
2011), fitted on the training rows only, and keeps the mask and the extra columns unchanged:
``[state | window | mask | extra]`` -> ``[state' | window' | mask | extra]``.
The artifact form is arrays + JSON, never pickle.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from sklearn.decomposition import PCA

from salesrl.agent.data import ObsLayout


def _pca(x: np.ndarray, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, std, components (dim, d))`` of standardised ``x``."""
    mean = x.mean(0)
    std = np.maximum(x.std(0), 1e-6)
    dim = min(dim, x.shape[1], max(len(x) - 1, 1))
    pca = PCA(n_components=dim, svd_solver="randomized", random_state=seed)
    pca.fit((x - mean) / std)
    return mean, std, pca.components_.astype(np.float64)


class RowCompressor:
    """Project the state columns on ``state_dim`` and each turn vector on ``turn_dim``
    principal components (0: keep that part as it is)."""

    def __init__(self, state_dim: int = 0, turn_dim: int = 0, seed: int = 0,
                 max_rows: int = 20_000) -> None:
        self.state_dim = state_dim
        self.turn_dim = turn_dim
        self.seed = seed
        self.max_rows = max_rows

    def fit(self, rows: np.ndarray, layout: ObsLayout) -> Self:
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != layout.obs_dim or not len(rows):
            raise ValueError(f"RowCompressor.fit expects rows of width {layout.obs_dim}, got "
                             f"shape {rows.shape}")
        rng = np.random.default_rng(self.seed)
        if len(rows) > self.max_rows:
            rows = rows[rng.choice(len(rows), self.max_rows, replace=False)]
        self.layout_ = layout
        state, win, mask, _ = layout.split(rows)
        self.state_ = None
        if self.state_dim and layout.state_dim > self.state_dim:
            self.state_ = _pca(state, self.state_dim, self.seed)
        self.turn_ = None
        if self.turn_dim and layout.has_window and layout.turn_dim > self.turn_dim:
            real = win[mask > 0.5]
            if len(real) > 1:
                self.turn_ = _pca(real, self.turn_dim, self.seed)
        sd = layout.state_dim if self.state_ is None else len(self.state_[2])
        td = layout.turn_dim if self.turn_ is None else len(self.turn_[2])
        self.out_layout_ = ObsLayout(sd, layout.window, td, layout.extra_dim)
        return self

    @staticmethod
    def _project(x: np.ndarray, part: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        mean, std, comp = part
        return ((x - mean) / std) @ comp.T

    def transform(self, rows: np.ndarray) -> np.ndarray:
        """Compressed rows (float32) of the output layout ``out_layout_``."""
        if not hasattr(self, "out_layout_"):
            raise RuntimeError("RowCompressor is not fitted; call fit() first")
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.layout_.obs_dim:
            raise ValueError(f"RowCompressor expects rows of width {self.layout_.obs_dim}, got "
                             f"shape {rows.shape}")
        state, win, mask, extra = self.layout_.split(rows)
        if self.state_ is not None:
            state = self._project(state, self.state_)
        if self.turn_ is not None:
            win = self._project(win, self.turn_) * mask[..., None]  # padding stays zero
        win = win.reshape(len(rows), -1)
        return np.concatenate([state, win, mask, extra], axis=1).astype(np.float32)

    # -- persistence (arrays + JSON, no pickle) -------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for name, part in (("state", self.state_), ("turn", self.turn_)):
            if part is not None:
                for key, a in zip(("mean", "std", "components"), part, strict=True):
                    out[f"{name}_{key}"] = a
        return out

    def params(self) -> dict[str, Any]:
        return {"layout": self.layout_.to_dict(), "out_layout": self.out_layout_.to_dict(),
                "state": self.state_ is not None, "turn": self.turn_ is not None}

    @classmethod
    def from_arrays(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]
                    ) -> RowCompressor:
        obj = cls()
        obj.layout_ = ObsLayout.from_dict(params["layout"])
        obj.out_layout_ = ObsLayout.from_dict(params["out_layout"])
        for name in ("state", "turn"):
            part = None
            if params.get(name):
                part = tuple(np.asarray(arrays[f"{name}_{k}"], dtype=np.float64)
                             for k in ("mean", "std", "components"))
            setattr(obj, f"{name}_", part)
        return obj
