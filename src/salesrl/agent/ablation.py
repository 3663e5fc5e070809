"""The ablations of the agent (the paper's Table III), as factories for the evaluation protocol.

Every variant is a fresh :class:`~salesrl.agent.predictor.AgentPredictor` on the shared state
builder's rows, changed in one respect only, so :func:`salesrl.evaluation.protocol.evaluate`
scores all of them on the same folds:

* ``full``: the recipe of the chosen preset with the lexical-evidence column and the context
  prior of the call's metadata (:mod:`~.context`; left out where the metadata say nothing);
* ``no_embeddings``: signals only (the running signals, history mass and the lexical column;
  no embedding columns, no turn window);
* ``no_sequence``: the last turn only (its embedding and role flag and its own ``sig_turn_*``
  signals; no history, no running signals, no window, no lexical column, which is cumulative);
* ``no_ensemble``: one member; ``no_retrieval``: no retrieval features; ``no_lexical``: no
  lexical column; ``no_context``: no context-prior column; ``supervised_only``: warm start,
  no PPO;
* ``state_lr`` and ``tfidf_roles``: the basic-ML baselines of the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from salesrl.agent.config import TrainConfig
from salesrl.agent.data import ObsLayout
from salesrl.evaluation.predictor import ConversionPredictor, PredictorFactory, make

VARIANTS: dict[str, str] = {
    "full": "the full recipe (+ lexical evidence, + metadata prior)",
    "no_embeddings": "signals only: no embedding columns, no turn window",
    "no_sequence": "last turn only: no history, no running signals, no window",
    "no_ensemble": "a single member instead of the ensemble",
    "no_retrieval": "without retrieval features",
    "no_lexical": "without the lexical-evidence column",
    "no_context": "without the metadata (context-prior) column",
    "supervised_only": "warm start only, no PPO",
    "state_lr": "basic ML: logistic regression on the state vector",
    "tfidf_roles": "basic ML: role-aware TF-IDF + logistic regression",
}

RowMap = Callable[[np.ndarray], np.ndarray]


def _column_maps(names: Sequence[str], layout: ObsLayout, embedding_dim: int
                 ) -> dict[str, tuple[RowMap, ObsLayout]]:
    """Row transforms (and their layouts) of the two input ablations."""
    d = layout.state_dim
    signals = np.arange(3 * embedding_dim, d)
    turn_sig = np.array([i for i, n in enumerate(names) if n.startswith("sig_turn_")], dtype=int)
    last_slot = (np.arange(d + (layout.window - 1) * layout.turn_dim,
                           d + layout.window * layout.turn_dim)
                 if layout.has_window else np.zeros(0, dtype=int))
    last = np.concatenate([last_slot, turn_sig]).astype(int)
    return {
        "no_embeddings": (lambda x: x[:, signals], ObsLayout(len(signals))),
        "no_sequence": (lambda x: x[:, last], ObsLayout(len(last))),
    }


def agent_factories(preset: str = "fast", variants: Sequence[str] | None = None,
                    builder: object | None = None,
                    overrides: dict[str, object] | None = None) -> dict[str, PredictorFactory]:
    """``{variant: factory}`` for :func:`~salesrl.evaluation.protocol.evaluate`.

    ``builder`` is a :class:`salesrl.features.StateBuilder` (default: the registry's shared
    one, backend from ``$SALESRL_EMBEDDING_BACKEND``); ``overrides`` change
    :class:`TrainConfig` fields of every agent variant (unknown names raise ``ValueError``).
    """
    from salesrl.agent.predictor import AgentPredictor
    from salesrl.evaluation.baselines.state_lr import default_builder

    chosen = list(variants) if variants else list(VARIANTS)
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown ablation variant {unknown[0]!r}; choose from "
                         f"{', '.join(VARIANTS)}")
    b = builder or default_builder()
    known = set(TrainConfig.__dataclass_fields__)
    bad = [k for k in (overrides or {}) if k not in known]
    if bad:
        raise ValueError(f"unknown TrainConfig field {bad[0]!r}")
    base = TrainConfig.preset(preset, **{k: tuple(v) if isinstance(v, list) else v
                                         for k, v in (overrides or {}).items()})
    maps = _column_maps(b.state_names, b.layout, b.embedding_dim)

    def agent(cfg: TrainConfig, lexical: bool = True, mapped: str | None = None,
              context: bool = True) -> PredictorFactory:
        def factory() -> ConversionPredictor:
            encode, encode_many, layout = b.encode, b.encode_many, b.layout
            if mapped is not None:
                fn, layout = maps[mapped]
                encode = (lambda c: fn(np.asarray(b.encode(c))))  # noqa: E731
                encode_many = (lambda cs: [fn(np.asarray(o)) for o in b.encode_many(cs)])  # noqa: E731
            return AgentPredictor(encode, layout, cfg, embedding_backend=b.backend_name,
                                  embedding_dim=b.embedding_dim, encode_many=encode_many,
                                  lexical=lexical, context=context)
        return factory

    table: dict[str, PredictorFactory] = {
        "full": agent(base),
        "no_embeddings": agent(base, mapped="no_embeddings"),
        "no_sequence": agent(base, lexical=False, mapped="no_sequence"),
        "no_ensemble": agent(replace(base, ensemble_size=1)),
        "no_retrieval": agent(replace(base, retrieval=False)),
        "no_lexical": agent(base, lexical=False),
        "no_context": agent(replace(base, context_prior=False), context=False),
        "supervised_only": agent(replace(base, use_ppo=False)),
        "state_lr": lambda: make("state_lr"),
        "tfidf_roles": lambda: make("tfidf_roles"),
    }
    return {name: table[name] for name in chosen}
