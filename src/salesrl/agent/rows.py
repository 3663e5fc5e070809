"""What the ensemble members read: the caller's rows, compressed, plus the agent's own columns.

``[compressed rows (:mod:`~.compress`) | retrieval features (:mod:`~.retrieval`) | base logit
(:mod:`~.linear`)]``, each part present only when the agent was trained with it. Shared by
training and prediction (so the two cannot drift apart); imports neither stable-baselines3
nor gymnasium.
"""

from __future__ import annotations

import numpy as np

from salesrl.agent.compress import RowCompressor
from salesrl.agent.data import ObsLayout
from salesrl.agent.linear import LinearBase
from salesrl.agent.retrieval import N_FEATURES, RetrievalIndex


def work_layout_of(layout: ObsLayout, compressor: RowCompressor | None,
                   index: RetrievalIndex | None, linear: LinearBase | None) -> ObsLayout:
    """The layout of :func:`work_rows`' output."""
    out = compressor.out_layout_ if compressor is not None else layout
    extra = out.extra_dim + (N_FEATURES if index is not None else 0) + (linear is not None)
    return out.with_extra(extra)


def work_rows(rows: np.ndarray, layout: ObsLayout, compressor: RowCompressor | None,
              index: RetrievalIndex | None, linear: LinearBase | None, *,
              ids: list[str] | None = None, base: np.ndarray | None = None) -> np.ndarray:
    """What the members read: ``[compressed rows | retrieval features | base logit]`` of the
    caller's ``rows`` (``ids``: mask own conversation in retrieval; ``base``: the out-of-fold
    base logits of training rows instead of the fitted base's)."""
    parts = [compressor.transform(rows) if compressor is not None else rows]
    if index is not None:
        ids_arr = np.array(ids, dtype=object) if ids is not None else None
        parts.append(index.transform(layout.state_part(rows), ids_arr))
    if linear is not None:
        parts.append((linear.logits(rows) if base is None else np.asarray(base))[:, None])
    return np.concatenate(parts, axis=1).astype(np.float32)
