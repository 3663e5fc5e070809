"""A toy task with a known answer, for tests and ``bench/bench_agent.py``.

A hidden coin ``q`` (prior depending on the industry) decides whether the conversation is
going well; every turn emits a vector whose first coordinate has mean ``+drift`` when
``q = 1`` and ``-drift`` otherwise, so the state's evidence features drift upward over the
turns of positives. The label is ``q`` flipped with probability ``label_noise``. Because the
model is Gaussian, the Bayes posterior P(y = 1 | prefix) is known exactly and returned as the
reference an ideal forecaster would output.
"""

from __future__ import annotations

import numpy as np

from salesrl.agent.data import Episodes, ObsLayout

GROUPS = ("saas", "retail", "finance")
PRIORS = (0.3, 0.5, 0.4)


def toy_layout(window: int = 4) -> ObsLayout:
    """State: [evidence mean, evidence sum / sqrt(t), position, group one-hot (3)];
    window of ``window`` turn vectors of size 3."""
    return ObsLayout(state_dim=6, window=window, turn_dim=3)


def make_toy_episodes(n: int, seed: int = 0, *, min_len: int = 3, max_len: int = 14,
                      drift: float = 0.5, noise: float = 1.0, label_noise: float = 0.05,
                      window: int = 4) -> tuple[Episodes, list[np.ndarray]]:
    """``n`` toy conversations and, for each, the Bayes P(y = 1 | prefix) per turn."""
    rng = np.random.default_rng(seed)
    layout = toy_layout(window)
    obs, labels, groups, truth = [], [], [], []
    for _ in range(n):
        g = int(rng.integers(len(GROUPS)))
        prior = PRIORS[g]
        q = int(rng.random() < prior)
        y = q if rng.random() >= label_noise else 1 - q
        t_len = int(rng.integers(min_len, max_len + 1))
        v = rng.normal(0.0, noise, size=(t_len, 3)).astype(np.float32)
        v[:, 0] += drift * (2 * q - 1)
        v[:, 2] = np.arange(t_len) / max_len
        cum = np.cumsum(v[:, 0])
        t = np.arange(1, t_len + 1)
        onehot = np.zeros((t_len, 3), dtype=np.float32)
        onehot[:, g] = 1.0
        state = np.column_stack([cum / t, cum / np.sqrt(t), (t - 1) / max_len, onehot])
        obs.append(ObsLayout.pack(state.astype(np.float32), v, window))
        llr = 2 * drift * cum / noise**2 + np.log(prior / (1 - prior))
        pq = 1 / (1 + np.exp(-llr))
        truth.append((1 - label_noise) * pq + label_noise * (1 - pq))
        labels.append(y)
        groups.append(GROUPS[g])
    ids = [f"toy{seed}-{i}" for i in range(n)]
    return Episodes(obs, np.array(labels), np.array(groups, dtype=object), ids, layout), truth
