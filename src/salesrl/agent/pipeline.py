"""From labelled conversations to a saved :class:`~salesrl.agent.api.SalesAgent` in one call.

:func:`train_agent` is what ``salesrl train`` runs: build the state builder for the chosen
embedding backend and train through :class:`~salesrl.agent.predictor.AgentPredictor` (the
recipe the evaluation harness measures: every conversation encoded with distinct turns
embedded once through the SQLite cache, adversarial counter-examples of
:mod:`salesrl.agent.adversarial`, optional lexical evidence, a
:class:`~salesrl.agent.model.ConversionAgent`); given ``out``, save it with ``state.json`` and
a ``model_card.json`` (data size, preset, overrides, seed, timings).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from salesrl.agent.api import SalesAgent
from salesrl.agent.config import TrainConfig
from salesrl.conversation import Conversation, DataError
from salesrl.features.embeddings.base import file_sha256
from salesrl.features.tracker import StateBuilder, default_cache_path

__all__ = ["FoldedRows", "Progress", "parse_overrides", "train_agent"]

#: ``(stage, done, total)``; stage is ``embedding``, ``encoding``, ``adversarial-embedding``,
#: ``adversarial`` or ``training`` (total None while training: the recipe reports no steps).
Progress = Callable[[str, int, int | None], None]
MIN_CONVERSATIONS = 10


class FoldedRows(Sequence[np.ndarray]):
    """``builder.encode_many(conversations)``, each conversation's rows built when read.

    The distinct texts are embedded up front by :meth:`StateBuilder.embed_distinct`, as
    :meth:`StateBuilder.encode_many` embeds them (same batches, so the same vectors); a
    conversation's rows are folded only when asked for, so the reader can store them compactly
    before the next one (the full MiniLM rows of 50,000 calls, 435,342 turns, are 7.6 GB).
    ``tick(done, total, what)`` reports progress; the seconds spent go to ``clock["encode"]``.
    """

    def __init__(self, builder: StateBuilder, conversations: Sequence[Conversation],
                 tick: Callable[[int, int, str], None], clock: dict[str, float],
                 batch_size: int = 4096) -> None:
        t = time.perf_counter()
        self.builder, self.tick, self.clock = builder, tick, clock
        self.turns = [list(c.turns) for c in conversations]
        self.vectors = builder.embed_distinct(self.turns, tick, batch_size)
        self.folded = 0
        clock["encode"] += time.perf_counter() - t

    def __len__(self) -> int:
        return len(self.turns)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        t = time.perf_counter()
        rows = self.builder.fold_embedded(self.turns[i], self.vectors)
        self.folded += 1
        self.clock["encode"] += time.perf_counter() - t
        self.tick(min(self.folded, len(self)), len(self), "encoding")
        return rows


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["ensemble_size=1", "retrieval=false", "state_hidden=[32]"]`` -> TrainConfig keywords.

    Values are read as JSON when they parse (numbers, booleans, lists, null), else as strings.
    """
    import json

    known = {f.name for f in fields(TrainConfig)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise DataError(f"expected KEY=VALUE, got {item!r}", field="--set")
        if key not in known:
            raise DataError(f"unknown training setting {key!r}; see TrainConfig "
                            "(salesrl/agent/config.py)", field="--set")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key] = tuple(value) if isinstance(value, list) else value
    return out


def _check_data(conversations: Sequence[Conversation], source: str | None) -> None:
    labels = [c.label for c in conversations]
    if len(labels) < MIN_CONVERSATIONS:
        raise DataError(f"{len(labels)} labelled conversations with turns; training needs at "
                        f"least {MIN_CONVERSATIONS}", file=source)
    if len(set(labels)) < 2:
        raise DataError("every conversation has the same outcome; training needs both "
                        "converted and not_converted ones", file=source, field="outcome")


def train_agent(conversations: Sequence[Conversation], *, preset: str = "auto",
                embedding: str = "minilm", seed: int = 0,
                overrides: Mapping[str, Any] | None = None, out: str | Path | None = None,
                cache_path: str | Path | None = None,
                backend_options: Mapping[str, Any] | None = None,
                adversarial_fraction: float = 0.2, lexical: bool | None = None,
                context: bool | None = None, confidence_folds: int = 3, guide: bool | None = None,
                guide_steps: int = 8000, source: str | Path | None = None,
                progress: Progress | None = None) -> SalesAgent:
    """Train a :class:`SalesAgent` on labelled conversations (and save it when ``out``).

    Conversations with an unknown outcome or no turns are skipped; fewer than
    :data:`MIN_CONVERSATIONS` left, or one outcome only, raise :class:`DataError`.

    ``preset="auto"`` is the recipe ``salesrl evaluate --model agent`` measures: the preset
    for the data's size (:func:`~salesrl.agent.predictor.preset_for`: ``small`` below 5,000
    conversations, ``large`` from 10,000), with the lexical column (``lexical``) and the
    context prior (``context``, left out when the metadata say nothing) unless they are
    turned off; any other preset leaves both off unless asked for.

    ``confidence_folds`` (0: none) extra agents give the out-of-fold predictions the
    confidence module is fitted on (:mod:`salesrl.confidence.agent_fit`); ``guide`` trains
    the next-move guide (tagger + offline CQL advisor, ``guide_steps`` steps) from the turns'
    act labels (None: when every turn has one; True on data without them raises).
    """
    from salesrl.agent.predictor import AgentPredictor, preset_for

    convs = [c for c in conversations if c.converted is not None and c.turns]
    src = str(source) if source is not None else None
    _check_data(convs, src)
    requested = preset
    if preset == "auto":  # the preset `salesrl evaluate --model agent` picks for this size
        preset = preset_for(len(convs))
    lexical = requested == "auto" if lexical is None else lexical
    if context is None:
        context = requested == "auto"
    overrides = {"context_prior": context, **dict(overrides or {})}
    cfg = TrainConfig.preset(preset, **{"seed": seed, **overrides})
    cfg.validate()
    builder = StateBuilder(backend=embedding, backend_options=dict(backend_options or {}),
                           cache_path=str(cache_path or default_cache_path()))
    # AgentPredictor.fit is the one training recipe (counter-examples, lexical cross-fit);
    # its encode_many calls are wrapped to report progress and time: first the training
    # conversations, then (when the recipe uses them) the counter-examples.
    expected = 2 if cfg.adversarial_rate > 0 and adversarial_fraction > 0 else 1
    seen: list[int] = []
    clock = {"encode": 0.0}

    def encode_many(batch: Sequence[Conversation]) -> Sequence[np.ndarray]:
        stage = "encoding" if not seen else "adversarial"
        seen.append(len(batch))
        last = len(seen) == expected

        def tick(done: int, total: int, what: str) -> None:
            if progress is not None:
                name = stage if what == "encoding" else (
                    what if stage == "encoding" else f"{stage}-{what}")
                progress(name, done, total)
                if last and what == "encoding" and done == total:
                    progress("training", 0, None)

        return FoldedRows(builder, batch, tick, clock)

    def folded(batch: Sequence[Conversation]) -> FoldedRows:  # the confidence folds' agents
        return FoldedRows(builder, batch, lambda done, total, what: None, {"encode": 0.0})

    def make_predictor(many: Any = folded) -> AgentPredictor:
        return AgentPredictor(builder.encode, builder.layout, cfg,
                              embedding_backend=builder.backend_name,
                              embedding_dim=builder.embedding_dim,
                              adversarial_fraction=adversarial_fraction,
                              encode_many=many, **({"lexical": True} if lexical else {}))

    use_guide = _want_guide(convs, guide, src)
    t0 = time.perf_counter()
    agent = make_predictor(encode_many).fit(convs).agent_
    encode_s = clock["encode"]
    train_s = time.perf_counter() - t0 - encode_s
    seconds: dict[str, float] = {}
    conf_model = None
    if confidence_folds:
        from salesrl.confidence.agent_fit import fit_agent_confidence

        t = time.perf_counter()
        if progress is not None:
            progress("confidence", 0, confidence_folds)
        conf_model = fit_agent_confidence(
            convs, builder, make_predictor, n_folds=confidence_folds, seed=seed,
            progress=None if progress is None else (
                lambda done, total: progress("confidence", done, total)))
        seconds["confidence"] = round(time.perf_counter() - t, 1)
    guide_model = None
    if use_guide:
        from salesrl.guidance.fitting import fit_guide

        t = time.perf_counter()
        if progress is not None:
            progress("guide", 0, guide_steps)
        guide_model = fit_guide(convs, advisor_steps=guide_steps, seed=seed,
                                on_step=None if progress is None else (
                                    lambda done: progress("guide", done, guide_steps)))
        seconds["guide"] = round(time.perf_counter() - t, 1)
    labels = np.array([c.label for c in convs])
    n_adv = seen[1] if len(seen) > 1 else 0
    n_turns = int(sum(len(c.turns) for c in convs))
    card: dict[str, Any] = {
        "trained": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {"source": Path(src).name if src else None,
                 "sha256": file_sha256(Path(src)) if src and Path(src).is_file() else None,
                 "conversations": len(convs), "turns": n_turns,
                 "unique_turns": len({t.text for c in convs for t in c.turns}),
                 "conversion_rate": round(float(np.mean(labels)), 4),
                 "adversarial_conversations": n_adv},
        "preset": preset, "preset_requested": requested,
        "overrides": {k: list(v) if isinstance(v, tuple) else v
                      for k, v in overrides.items()},
        "seed": seed,
        "embedding": {"backend": builder.backend_name, "model_id": builder.model_id,
                      "dim": builder.embedding_dim},
        "ensemble_size": len(agent.members_),
        "lexical": getattr(agent, "lexical_", None) is not None,
        "context": getattr(agent, "context_", None) is not None,
        "seconds": {"encoding": round(encode_s, 1), "training": round(train_s, 1),
                    "total": round(encode_s + train_s, 1), **seconds,
                    "phases": getattr(agent, "phase_seconds_", {})},
        "confidence": None if conf_model is None else {
            "folds": confidence_folds, "coverage": conf_model.coverage,
            "validation": conf_model.validation_},
        "guide": None if guide_model is None else {"advisor_steps": guide_steps},
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
    }
    model = SalesAgent(agent, builder, card, confidence=conf_model, guide=guide_model)
    if out is not None:
        model.save(out)
    return model


def _want_guide(convs: Sequence[Conversation], guide: bool | None, source: str | None) -> bool:
    """Whether to train the guide: it needs an act label on every turn."""
    if guide is False:
        return False
    from salesrl.guidance.fitting import act_label_coverage

    share = act_label_coverage(convs)
    if share == 1.0:
        return True
    if guide:
        raise DataError(f"the guide learns from dialogue-act labels, but {1 - share:.0%} of the "
                        "turns have none (annotations.acts); label them, or train without "
                        "--guide", file=source, field="annotations.acts")
    return False


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
