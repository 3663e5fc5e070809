"""Adapter from :class:`~salesrl.agent.model.ConversionAgent` to the evaluation interface.

:class:`AgentPredictor` is a :class:`~salesrl.evaluation.predictor.ConversionPredictor` given
the state tracker as a callable ``encode(conversation) -> (T, obs_dim)`` (row ``t`` from turns
``0..t`` only), and optionally ``encode_many(conversations) -> [(T_i, obs_dim)]`` that encodes
many at once (batched embedding). It is registered as ``agent`` in
:mod:`salesrl.evaluation.baselines.agent`, with :class:`salesrl.features.StateBuilder`.

With ``lexical=True`` each row gets one more column, the lexical evidence of
:mod:`salesrl.agent.lexical` (role-aware TF-IDF logit of the prefix), cross-fitted so that
the agent's training rows carry out-of-fold logits; the fitted lexical model is stored on the
agent (``agent_.lexical_``) and saved with it. With ``context=True`` (or
``TrainConfig.context_prior``) one more column follows: the cross-fitted context prior of
:mod:`salesrl.agent.context` (P(sale) from the call's metadata only, constant over its turns),
stored as ``agent_.context_``; it is left out when the metadata hold no usable field or do
no better than the base rate in the prior's inner cross-validation
(``ContextPrior.informative_``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Self

import numpy as np
from scipy.special import expit

from salesrl.agent.adversarial import make_counterexamples
from salesrl.agent.config import LARGE_DATA_OVERRIDES, SMALL_DATA_OVERRIDES, TrainConfig
from salesrl.agent.context import append_context
from salesrl.agent.context import cross_fit as context_cross_fit
from salesrl.agent.data import Episodes, ObsLayout
from salesrl.agent.lexical import cross_fit
from salesrl.agent.model import ConversionAgent
from salesrl.conversation import Conversation
from salesrl.evaluation.predictor import ConversionPredictor

Encoder = Callable[[Conversation], np.ndarray]
ManyEncoder = Callable[[Sequence[Conversation]], Sequence[np.ndarray]]

#: below this many training conversations ``config=None`` means the ``small`` preset
SMALL_DATA = 5000
#: from this many on it means ``large`` (a training budget that does not grow with the data)
LARGE_DATA = 10_000


def preset_for(n_conversations: int) -> str:
    """The preset ``config=None`` picks for ``n_conversations`` training conversations."""
    if n_conversations < SMALL_DATA:
        return "small"
    return "large" if n_conversations >= LARGE_DATA else "fast"


def _batched(encode: Encoder, encode_many: ManyEncoder | None,
             conversations: Sequence[Conversation]) -> Encoder:
    """``encode``, answered from one ``encode_many`` call over ``conversations`` when given."""
    if encode_many is None:
        return encode
    done = encode_many(conversations)  # read when asked: it may build rows on demand
    at = {id(c): i for i, c in enumerate(conversations)}
    return lambda c: np.asarray(done[at[id(c)]], dtype=np.float32) if id(c) in at else encode(c)


class AgentPredictor(ConversionPredictor):
    """The RL agent behind the evaluation harness.

    ``fit`` encodes the labelled conversations (and, when ``config.adversarial_rate > 0``,
    ``adversarial_fraction * n`` reversal and as many perturbed counter-examples) and trains a
    :class:`ConversionAgent`. ``predict_proba`` encodes each conversation once, at its longest
    requested prefix, and reads the row of each prefix length (valid because the encoder is
    causal); a prefix with no turns gets the training base rate. ``config=None`` means the
    ``small`` preset below ``SMALL_DATA`` training conversations, ``large`` from
    ``LARGE_DATA`` on, else ``fast`` (:func:`preset_for`); with ``small_data=True`` a given
    config gets the ``small`` preset's regularisation (``SMALL_DATA_OVERRIDES``) below
    ``SMALL_DATA`` conversations and the ``large`` preset's budget
    (``LARGE_DATA_OVERRIDES``) from ``LARGE_DATA`` on. ``config.adversarial_max`` caps the
    counter-examples of each kind.
    """

    name = "agent"

    def __init__(self, encode: Encoder, layout: ObsLayout, config: TrainConfig | None = None,
                 *, embedding_backend: str = "unknown", embedding_dim: int = 0,
                 adversarial_fraction: float = 0.2,
                 encode_many: ManyEncoder | None = None, lexical: bool = False,
                 lexical_folds: int = 5, small_data: bool = False,
                 context: bool = False) -> None:
        self.encode = encode
        self.encode_many = encode_many
        self.layout = layout
        self.config = config
        self.embedding_backend = embedding_backend
        self.embedding_dim = embedding_dim
        self.adversarial_fraction = adversarial_fraction
        self.lexical = lexical
        self.lexical_folds = lexical_folds
        self.small_data = small_data
        self.context = context

    def _with_column(self, eps: Episodes, logits: list[np.ndarray]) -> Episodes:
        """``eps`` with one column appended (lexical or context logits); ``eps`` gives up its
        rows one at a time, so the rows are never held twice (large data sets)."""
        layout = eps.layout.with_extra(eps.layout.extra_dim + 1)
        obs = eps.obs
        for i, z in enumerate(logits):
            obs[i] = np.concatenate([obs[i], z[:, None]], axis=1)
        return Episodes(obs, eps.labels, eps.groups, eps.ids, layout)

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        cfg = self.config
        if cfg is None:
            cfg = TrainConfig.preset(preset_for(len(conversations)))
        elif self.small_data and len(conversations) < SMALL_DATA:
            cfg = replace(cfg, **SMALL_DATA_OVERRIDES)
        elif self.small_data and len(conversations) >= LARGE_DATA:
            cfg = replace(cfg, **LARGE_DATA_OVERRIDES)
        convs = [c for c in conversations if c.converted is not None and len(c.turns)]
        t0 = time.perf_counter()
        eps = Episodes.from_conversations(convs, _batched(self.encode, self.encode_many, convs),
                                          self.layout)
        seconds = {"rows": time.perf_counter() - t0}
        t0 = time.perf_counter()
        adv = None
        if cfg.adversarial_rate > 0:
            n = int(round(self.adversarial_fraction * len(convs)))
            if cfg.adversarial_max:
                n = min(n, cfg.adversarial_max)
            extra = [c for c in make_counterexamples(convs, n, n, seed=cfg.seed) if len(c.turns)]
            if extra:
                adv = Episodes.from_conversations(
                    extra, _batched(self.encode, self.encode_many, extra), self.layout)
        seconds["counter_examples"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        layout = self.layout
        lexical = None
        if self.lexical:
            lexical, oof, adv_z = cross_fit(convs, self.lexical_folds, cfg.seed,
                                            extra=extra if adv is not None else (),
                                            commitment=cfg.lexical_commitment,
                                            Cs=tuple(cfg.lexical_Cs))
            eps = self._with_column(eps, oof)
            if adv is not None:
                adv = self._with_column(adv, adv_z)
            layout = eps.layout
        seconds["lexical"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        context = None
        if self.context or cfg.context_prior:
            context, oof, adv_z = context_cross_fit(convs, self.lexical_folds, cfg.seed,
                                                    extra=extra if adv is not None else ())
            if not context.informative_:  # the metadata say nothing the base rate does not
                context = None
            else:
                eps = self._with_column(eps, oof)
                if adv is not None:
                    adv = self._with_column(adv, adv_z)
                layout = eps.layout
        seconds["context"] = time.perf_counter() - t0
        self.agent_ = ConversionAgent(cfg, layout=layout,
                                      embedding_backend=self.embedding_backend,
                                      embedding_dim=self.embedding_dim).fit(
            eps, adversarial=adv, release_rows=True)  # eps is ours: free its rows early
        self.agent_.lexical_ = lexical
        self.agent_.context_ = context
        # where the time went (encoding included in "rows" / "counter_examples")
        self.agent_.phase_seconds_ = {**{k: round(v, 2) for k, v in seconds.items()},
                                      **getattr(self.agent_, "phase_seconds_", {})}
        self.base_rate_ = float(np.mean([c.label for c in convs])) if convs else 0.5
        return self

    def _rows(self, encode: Encoder, conv: Conversation) -> np.ndarray:
        rows = np.asarray(encode(conv), dtype=np.float32)
        lexical = getattr(self.agent_, "lexical_", None)
        if lexical is not None:
            rows = np.concatenate([rows, lexical.logits([conv])[0][:, None]], axis=1)
        return append_context(self.agent_, [conv], [rows])[0]

    def predict_proba(self, prefixes: Sequence[Conversation]) -> np.ndarray:
        out = np.full(len(prefixes), getattr(self, "base_rate_", 0.5), dtype=np.float64)
        context = getattr(self.agent_, "context_", None)
        empty = [i for i, c in enumerate(prefixes) if not len(c.turns)]
        if context is not None and empty:  # before a word: the metadata's prior
            z = context.logit_of([prefixes[i].metadata for i in empty])
            out[empty] = expit(z)
        longest: dict[str, Conversation] = {}
        for c in prefixes:
            if c.id not in longest or len(c.turns) > len(longest[c.id].turns):
                longest[c.id] = c
        todo = [c for c in longest.values() if len(c.turns)]
        encode = _batched(self.encode, self.encode_many, todo)
        rows: dict[str, np.ndarray] = {c.id: np.asarray(encode(c), dtype=np.float32)
                                       for c in todo}
        lexical = getattr(self.agent_, "lexical_", None)
        if lexical is not None and todo:
            for c, z in zip(todo, lexical.logits(todo), strict=True):
                rows[c.id] = np.concatenate([rows[c.id], z[:, None]], axis=1)
        if todo:
            for c, r in zip(todo, append_context(self.agent_, todo,
                                                 [rows[c.id] for c in todo]), strict=True):
                rows[c.id] = r
        want, where = [], []
        for i, c in enumerate(prefixes):
            if not len(c.turns):
                continue
            full = longest[c.id]
            if [t.text for t in c.turns] != [t.text for t in full.turns[: len(c.turns)]]:
                row = self._rows(self.encode, c)[-1]
            else:
                row = rows[c.id][len(c.turns) - 1]
            want.append(row)
            where.append(i)
        if want:
            out[where] = self.agent_.predict_proba_rows(np.stack(want))
        return out
