"""The evaluation protocol: split by conversation, fit per fold, predict at every prefix.

Cross-validation is stratified k-fold by conversation (default 5 folds x 3 repeats, seeds
0, 1, 2), as in the PersuasionForGood evaluation protocol (Wang et al., ACL 2019, data; the
forecasting set-up follows ConvoKit's Forecaster, Chang & Danescu-Niculescu-Mizil, EMNLP 2019).
A fresh predictor is fitted on the training conversations of each fold and is then asked only
about prefixes built with :meth:`Conversation.prefix`, which drops later turns, the outcome and
every annotation. Which prefixes: the fraction ``f`` of an ``n``-turn conversation is its first
``max(1, ceil(f * n))`` turns, for ``f`` in 25 / 50 / 75 / 100 %, plus the absolute turns
``1..max_turn`` of every conversation that has that many turns. Each (conversation, length)
pair is asked once per fold even when a fraction and an absolute turn need the same prefix.

On simulated data the per-turn ``annotations.oracle`` / ``annotations.bayes`` are ground truth
references, not predictors: they are read from the original conversation at the last turn of
each prefix and scored like a model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedKFold

from salesrl.conversation import Conversation, DataError
from salesrl.evaluation.predictor import PredictorFactory, make

FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
MAX_TURN = 30
REFERENCES: tuple[str, ...] = ("oracle", "bayes")

#: called after each (fold, model) with (done, total, description)
ProgressCallback = Callable[[int, int, str], None]


def prefix_length(n_turns: int, fraction: float) -> int:
    """Number of turns in the ``fraction`` prefix of an ``n_turns``-turn conversation."""
    if n_turns < 1:
        raise ValueError("a conversation needs at least one turn")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"prefix fraction {fraction} outside (0, 1]")
    # round() first so that 0.1 * 30 = 3.0000000000000004 gives 3, not 4.
    return max(1, math.ceil(round(fraction * n_turns, 9)))


def requested_lengths(n_turns: int, fractions: Sequence[float] = FRACTIONS,
                      max_turn: int = MAX_TURN) -> list[int]:
    """The distinct prefix lengths evaluated for one conversation, ascending."""
    ks = {prefix_length(n_turns, f) for f in fractions}
    ks.update(range(1, min(n_turns, max_turn) + 1))
    return sorted(ks)


@dataclass(frozen=True)
class Split:
    """One train/test split, as indices into the conversation list."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def _check_ids(conversations: Sequence[Conversation], what: str) -> None:
    seen: set[str] = set()
    for conv in conversations:
        if conv.id in seen:
            raise DataError(f"duplicate conversation id {conv.id!r} in the {what} data",
                            field="id")
        seen.add(conv.id)
        if len(conv.turns) == 0:
            raise DataError(f"conversation {conv.id!r} has no turns", field="turns")


def _labels(conversations: Sequence[Conversation], what: str) -> np.ndarray:
    try:
        return np.array([c.label for c in conversations], dtype=int)
    except ValueError as exc:
        raise DataError(f"{exc} (the {what} data must be labelled)", field="outcome") from None


def cv_splits(conversations: Sequence[Conversation], n_splits: int = 5, repeats: int = 3,
              seeds: Sequence[int] | None = None) -> list[Split]:
    """Stratified k-fold splits by conversation, repeated with seeds ``0..repeats-1``."""
    _check_ids(conversations, "evaluation")
    y = _labels(conversations, "evaluation")
    seeds = list(range(repeats)) if seeds is None else list(seeds)
    if n_splits < 2:
        raise DataError(f"cross-validation needs at least 2 folds, got {n_splits}")
    smallest = int(min(np.bincount(y, minlength=2)))
    if smallest < n_splits:
        raise DataError(f"{n_splits}-fold cross-validation needs at least {n_splits} "
                        f"conversations of each outcome; the smaller class has {smallest}")
    splits = []
    for r, seed in enumerate(seeds):
        skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        for f, (train, test) in enumerate(skf.split(np.zeros(len(y)), y)):
            splits.append(Split(repeat=r, fold=f, train=train, test=test))
    return splits


@dataclass
class FoldResult:
    """Predictions of every model and reference on the test conversations of one fold."""

    repeat: int
    fold: int
    base_rate: float  # converted share of the training conversations
    ids: list[str]
    labels: np.ndarray
    n_turns: np.ndarray
    #: source name -> one {prefix length: probability} dict per test conversation
    predictions: dict[str, list[dict[int, float]]] = field(default_factory=dict)
    fit_seconds: dict[str, float] = field(default_factory=dict)
    predict_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class EvaluationResult:
    """Everything a run produced; :mod:`salesrl.evaluation.metrics` turns it into numbers."""

    models: list[str]
    references: list[str]
    folds: list[FoldResult]
    fractions: tuple[float, ...]
    max_turn: int
    protocol: dict[str, object]


def _available_references(conversations: Sequence[Conversation]) -> list[str]:
    """References present on every turn of every conversation (else not reported)."""
    refs = []
    for name in REFERENCES:
        if conversations and all(
            t.annotations is not None and getattr(t.annotations, name) is not None
            for c in conversations for t in c.turns
        ):
            refs.append(name)
    return refs


def _resolve(models: Mapping[str, PredictorFactory] | Sequence[str]
             ) -> dict[str, PredictorFactory]:
    if isinstance(models, Mapping):
        return dict(models)
    out: dict[str, PredictorFactory] = {}
    for name in models:
        make(name)  # fails early, listing the choices, on an unknown name
        out[name] = lambda name=name: make(name)
    return out


def _predict(predictor: object, prefixes: list[Conversation], name: str) -> np.ndarray:
    p = np.asarray(predictor.predict_proba(prefixes), dtype=float)  # type: ignore[attr-defined]
    if p.shape != (len(prefixes),):
        raise ValueError(f"model {name!r} returned shape {p.shape} for {len(prefixes)} prefixes")
    if not np.all(np.isfinite(p)) or p.min(initial=0.0) < 0.0 or p.max(initial=1.0) > 1.0:
        raise ValueError(f"model {name!r} returned probabilities outside [0, 1]")
    return p


def evaluate(models: Mapping[str, PredictorFactory] | Sequence[str],
             conversations: Sequence[Conversation], *,
             test: Sequence[Conversation] | None = None,
             n_splits: int = 5, repeats: int = 3, seeds: Sequence[int] | None = None,
             fractions: Sequence[float] = FRACTIONS, max_turn: int = MAX_TURN,
             progress: ProgressCallback | None = None) -> EvaluationResult:
    """Run the protocol: cross-validation on ``conversations``, or train on them and test on
    ``test`` when given. ``models`` maps names to factories of fresh predictors (or is a list of
    registry names)."""
    factories = _resolve(models)
    if not factories:
        raise ValueError("no model to evaluate")
    fractions = tuple(float(f) for f in fractions)
    for f in fractions:
        prefix_length(1, f)  # validates the fraction
    if max_turn < 0:
        raise ValueError("max_turn must be >= 0")
    conversations = list(conversations)

    if test is None:
        splits = cv_splits(conversations, n_splits=n_splits, repeats=repeats, seeds=seeds)
        pool = conversations
        test_pool = conversations
        protocol: dict[str, object] = {
            "kind": "cross_validation", "n_splits": n_splits,
            "repeats": len(splits) // n_splits,
            "seeds": list(range(repeats)) if seeds is None else list(seeds),
            "stratified": True, "split_by": "conversation",
        }
    else:
        test = list(test)
        _check_ids(conversations, "training")
        _check_ids(test, "test")
        _labels(test, "test")
        y_train = _labels(conversations, "training")
        if len(set(y_train.tolist())) < 2:
            raise DataError("the training data must contain both outcomes", field="outcome")
        shared = {c.id for c in conversations} & {c.id for c in test}
        if shared:
            raise DataError(f"{len(shared)} conversation id(s) are in both the training and the "
                            f"test data, e.g. {sorted(shared)[0]!r}", field="id")
        pool = conversations + test
        test_pool = test
        n = len(conversations)
        splits = [Split(0, 0, np.arange(n), np.arange(n, n + len(test)))]
        protocol = {"kind": "train_test", "n_train": n, "n_test": len(test),
                    "split_by": "conversation"}
    protocol.update({
        "fractions": list(fractions), "max_turn": max_turn,
        "prefix_rule": "first max(1, ceil(f * n)) turns",
        "aggregation": "metrics per fold, then mean and std across folds",
    })
    references = _available_references(test_pool)

    folds: list[FoldResult] = []
    total = len(splits) * len(factories)
    done = 0
    for split in splits:
        train = [pool[i] for i in split.train]
        tests = [pool[i] for i in split.test]
        y_train = np.array([c.label for c in train], dtype=int)
        fold = FoldResult(
            repeat=split.repeat, fold=split.fold, base_rate=float(y_train.mean()),
            ids=[c.id for c in tests], labels=np.array([c.label for c in tests], dtype=int),
            n_turns=np.array([len(c) for c in tests], dtype=int),
        )
        requests = [(i, k) for i, c in enumerate(tests)
                    for k in requested_lengths(len(c), fractions, max_turn)]
        for ref in references:
            per_conv: list[dict[int, float]] = [{} for _ in tests]
            for i, k in requests:
                per_conv[i][k] = float(getattr(tests[i].turns[k - 1].annotations, ref))
            fold.predictions[ref] = per_conv
        for name, factory in factories.items():
            predictor = factory()
            t0 = time.perf_counter()
            predictor.fit(train)
            t1 = time.perf_counter()
            prefixes = [tests[i].prefix(k) for i, k in requests]
            p = _predict(predictor, prefixes, name)
            fold.fit_seconds[name] = t1 - t0
            fold.predict_seconds[name] = time.perf_counter() - t1
            per_conv = [{} for _ in tests]
            for (i, k), pk in zip(requests, p, strict=True):
                per_conv[i][k] = float(pk)
            fold.predictions[name] = per_conv
            done += 1
            if progress is not None:
                progress(done, total, f"{name} repeat {split.repeat + 1} fold {split.fold + 1}")
        folds.append(fold)
    return EvaluationResult(models=list(factories), references=references, folds=folds,
                            fractions=fractions, max_turn=max_turn, protocol=protocol)
