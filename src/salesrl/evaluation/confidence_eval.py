"""Evaluation of :mod:`salesrl.confidence`: selective prediction and interval coverage.

Protocol (same honesty rules as :mod:`.protocol`): stratified k-fold by conversation, repeated
with seeds ``0..repeats-1``. In each outer fold the base predictor is trained on the training
conversations; inside them, ``inner_folds`` folds by conversation give the base predictor's
out-of-fold predictions on which the :class:`~salesrl.confidence.ConfidenceModel` is fitted.
The test conversations are then assessed turn by turn (every state row depends on its prefix
only) at the prefix lengths of :func:`.protocol.requested_lengths`.

Metrics (per fold, then mean and std across folds):

* risk-coverage curve: error rate of the predictions kept when only the most confident
  fraction is kept, and its area AURC (Geifman & El-Yaniv, NeurIPS 2017; lower is better);
* accuracy and Brier score on the most confident 25 / 50 / 75 / 100 %;
* interval coverage of the outcome against its nominal level, mean width, share of
  intervals that exclude one outcome, and the abstention rate with its accuracy.

Base predictors: ``BaggedLogistic``, a bagged L2 logistic regression on the standardised
state part of the rows (members = bootstrap fits by conversation, Breiman 1996);
``AgentRows``, a :class:`~salesrl.agent.ConversionAgent` preset over rows alone; and, reading
whole conversations, the registered agent and its linear base (:mod:`.confidence_bases`).
A base's predictions of each split can be cached (:func:`split_predictions`) so confidence
variants are compared on the same predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from salesrl.confidence import BatchAssessment, ConfidenceModel, TurnInputs
from salesrl.conversation import Conversation
from salesrl.evaluation.baselines.state_lr import TRAIN_FRACTIONS
from salesrl.evaluation.protocol import (
    FRACTIONS,
    MAX_TURN,
    cv_splits,
    prefix_length,
    requested_lengths,
)

__all__ = ["AgentRows", "BaggedLogistic", "confidence_report", "evaluate_confidence",
           "evaluate_variants", "fit_with_oof", "interval_metrics", "oof_predictions",
           "predict_base", "risk_coverage", "selective_metrics", "split_predictions",
           "summarise_folds", "summary_line"]

TOP_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
ProgressCallback = Callable[[int, int, str], None]


# -- metrics ------------------------------------------------------------------------------
def risk_coverage(confidence: np.ndarray, correct: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """(coverage, risk, AURC): keep the ``i`` most confident predictions for every ``i``."""
    order = np.argsort(-np.asarray(confidence), kind="stable")
    err = 1.0 - np.asarray(correct, dtype=np.float64)[order]
    n = np.arange(1, len(err) + 1)
    risk = np.cumsum(err) / n
    return n / len(err), risk, float(risk.mean()) if len(err) else float("nan")


def selective_metrics(confidence: np.ndarray, proba: np.ndarray, y: np.ndarray,
                      fractions: Sequence[float] = TOP_FRACTIONS) -> dict[str, Any]:
    """Accuracy and Brier on the most confident fractions, and AURC."""
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    correct = ((p >= 0.5) == (y == 1)).astype(float)
    order = np.argsort(-np.asarray(confidence), kind="stable")
    out: dict[str, Any] = {}
    for f in fractions:
        keep = order[: max(1, int(round(f * len(p))))]
        out[f"top{int(round(f * 100))}"] = {"accuracy": float(correct[keep].mean()),
                                           "brier": float(np.mean((p[keep] - y[keep]) ** 2))}
    out["aurc"] = risk_coverage(confidence, correct)[2]
    out["aurc_oracle"] = risk_coverage(correct, correct)[2]
    return out


def interval_metrics(a: BatchAssessment, y: np.ndarray, nominal: float) -> dict[str, float]:
    """Coverage of the outcome by the interval, width, decisive share and abstention."""
    y = np.asarray(y, dtype=np.float64)
    covered = (a.lower <= y) & (y <= a.upper)
    decisive = (a.lower > 0) ^ (a.upper < 1)  # reaches exactly one outcome
    correct = (a.probability >= 0.5) == (y == 1)
    ab = np.asarray(a.abstain, dtype=bool)
    return {"nominal": nominal, "coverage": float(covered.mean()),
            "mean_width": float(np.mean(a.upper - a.lower)),
            "decisive_share": float(decisive.mean()),
            "abstain_rate": float(ab.mean()),
            "accuracy_kept": float(correct[~ab].mean()) if (~ab).any() else float("nan"),
            "accuracy_abstained": float(correct[ab].mean()) if ab.any() else float("nan"),
            "mean_confidence": float(a.confidence.mean()), "accuracy": float(correct.mean())}


# -- base predictor -----------------------------------------------------------------------
class BaggedLogistic:
    """Bagged logistic regression on state rows (each conversation weighted equally).

    ``fit(x, y, conv)``; ``predict_members(x)`` is ``(n, K)``; ``predict_proba`` their mean.
    """

    def __init__(self, n_members: int = 5, C: float = 0.001, state_dim: int | None = None,
                 train_fractions: Sequence[float] | None = TRAIN_FRACTIONS,
                 seed: int = 0) -> None:
        self.n_members = n_members
        self.C = C
        self.state_dim = state_dim
        self.train_fractions = train_fractions
        self.seed = seed

    def _x(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return x if self.state_dim is None else x[:, : self.state_dim]

    def fit(self, x: np.ndarray, y: np.ndarray, conv: np.ndarray) -> Self:
        """Rows of one conversation must be consecutive, in turn order; only the rows at
        ``train_fractions`` of each conversation are used (as :mod:`.baselines.state_lr`)."""
        conv = np.asarray(conv)
        if self.train_fractions is not None:
            keep_rows = _fraction_rows(conv, self.train_fractions)
            x, y, conv = np.asarray(x)[keep_rows], np.asarray(y)[keep_rows], conv[keep_rows]
        z = self._x(x)
        self.scaler_ = StandardScaler().fit(z)
        z = self.scaler_.transform(z)
        convs, inverse, counts = np.unique(conv, return_inverse=True, return_counts=True)
        rng = np.random.default_rng(self.seed)
        self.members_ = []
        for _ in range(self.n_members):
            draw = np.bincount(rng.integers(len(convs), size=len(convs)), minlength=len(convs))
            w = (draw / counts)[inverse]
            keep = w > 0
            if len(set(np.asarray(y)[keep].tolist())) < 2:
                keep = np.ones(len(w), dtype=bool)
                w = (1.0 / counts)[inverse]
            # weights sum to the number of rows kept, so C means what it means unweighted
            sw = w[keep] * keep.sum() / w[keep].sum()
            self.members_.append(LogisticRegression(C=self.C, max_iter=300).fit(
                z[keep], np.asarray(y)[keep], sample_weight=sw))
        return self

    def predict_members(self, x: np.ndarray) -> np.ndarray:
        z = self.scaler_.transform(self._x(x))
        return np.column_stack([m.predict_proba(z)[:, 1] for m in self.members_])

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.predict_members(x).mean(axis=1)


def _fraction_rows(conv: np.ndarray, fractions: Sequence[float]) -> np.ndarray:
    """Indices of the rows ending each conversation's ``fractions`` prefixes."""
    starts = np.r_[0, np.flatnonzero(np.diff(conv)) + 1]
    lengths = np.diff(np.r_[starts, len(conv)])
    return np.array([s + k - 1 for s, n in zip(starts, lengths, strict=True)
                     for k in sorted({prefix_length(int(n), f) for f in fractions})])


class AgentRows:
    """:class:`~salesrl.agent.ConversionAgent` behind the ``BaggedLogistic`` interface."""

    def __init__(self, layout: Any, preset: str = "fast", **overrides: Any) -> None:
        self.layout = layout
        self.preset = preset
        self.overrides = overrides

    def fit(self, x: np.ndarray, y: np.ndarray, conv: np.ndarray) -> Self:
        from salesrl.agent import ConversionAgent, TrainConfig
        from salesrl.agent.data import Episodes

        starts = np.r_[0, np.flatnonzero(np.diff(conv)) + 1]
        obs = np.split(np.asarray(x, dtype=np.float32), starts[1:])
        eps = Episodes(obs, np.asarray(y)[starts], layout=self.layout)
        cfg = TrainConfig.preset(self.preset, **self.overrides)
        self.agent_ = ConversionAgent(cfg, layout=self.layout).fit(eps)
        return self

    def predict_members(self, x: np.ndarray) -> np.ndarray:
        return self.agent_.predict_members(x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.agent_.predict_proba_rows(x)


BaseFactory = Callable[[], Any]


# -- protocol -----------------------------------------------------------------------------
def _eval_rows(inputs: TurnInputs, fractions: Sequence[float], max_turn: int) -> np.ndarray:
    """Row indices of the protocol's requested prefixes."""
    turn = inputs.turn_index
    n_turns = np.bincount(inputs.conv)
    keep = np.zeros(len(inputs), dtype=bool)
    for c in np.unique(inputs.conv):
        rows = np.flatnonzero(inputs.conv == c)
        want = set(requested_lengths(int(n_turns[c]), fractions, max_turn))
        keep[rows] = [t + 1 in want for t in turn[rows]]
    return np.flatnonzero(keep)


def _stratified_folds(inputs: TurnInputs, n_folds: int, seed: int) -> np.ndarray:
    """Fold of each row, stratified by outcome, by conversation."""
    starts = np.r_[0, np.flatnonzero(np.diff(inputs.conv)) + 1]
    y_conv = inputs.labels[starts]
    fold_of_conv = np.zeros(len(starts), dtype=int)
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for f, (_, te) in enumerate(skf.split(np.zeros(len(starts)), y_conv)):
        fold_of_conv[te] = f
    return fold_of_conv[inputs.conv]


def predict_base(base: Any, x: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, members) of a base: ``predict_with_members(x, ids)`` where the base
    reads conversations (:mod:`.confidence_bases`), else its row-only methods."""
    if hasattr(base, "predict_with_members"):
        p, m = base.predict_with_members(x, ids)
        return np.asarray(p, dtype=np.float64), np.asarray(m, dtype=np.float64)
    return base.predict_proba(x), base.predict_members(x)


def oof_predictions(train: TurnInputs, base_factory: BaseFactory, inner_folds: int, seed: int,
                    ids: np.ndarray | None = None
                    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """(base refitted on all of ``train``, out-of-fold probabilities, members, row folds):
    each inner fold (by conversation, stratified) is predicted by a base fitted without it.
    ``ids`` (default ``train.conv``) are the conversation identities passed to the base."""
    ids = train.conv if ids is None else np.asarray(ids)
    folds = _stratified_folds(train, inner_folds, seed)
    oof_m, oof_p = None, np.zeros(len(train))
    for f in range(inner_folds):
        te = folds == f
        base = base_factory().fit(train.rows[~te], train.labels[~te], ids[~te])
        p, m = predict_base(base, train.rows[te], ids[te])
        if oof_m is None:
            oof_m = np.zeros((len(train), m.shape[1]))
        oof_m[te] = m
        oof_p[te] = p
    base = base_factory().fit(train.rows, train.labels, ids)
    return base, oof_p, oof_m, folds


def fit_with_oof(train: TurnInputs, base_factory: BaseFactory, inner_folds: int, seed: int,
                 confidence_factory: Callable[[], ConfidenceModel],
                 ids: np.ndarray | None = None) -> tuple[Any, ConfidenceModel]:
    """The base predictor fitted on ``train`` and a confidence model fitted on its
    out-of-fold predictions (:func:`oof_predictions`)."""
    base, oof_p, oof_m, folds = oof_predictions(train, base_factory, inner_folds, seed, ids)
    return base, confidence_factory().fit(train, oof_p, oof_m, folds)


_CACHED = ("oof_p", "oof_m", "inner", "p", "m", "test_convs")


def split_predictions(inputs: TurnInputs, split: tuple[int, int, np.ndarray, np.ndarray],
                      base_factory: BaseFactory, inner_folds: int,
                      cache_dir: Path | None = None) -> dict[str, np.ndarray] | None:
    """The base's predictions of one outer split: out-of-fold on the training conversations
    (``oof_p``, ``oof_m``, ``inner`` folds) and on the test conversations (``p``, ``m``).

    With ``cache_dir`` they are read from / written to ``r{repeat}_f{fold}.npz`` there
    (arrays only, loaded without pickle) so confidence variants can be compared on the same
    base predictions without refitting it; a file from other test conversations or another
    number of inner folds is an error. ``base_factory=None`` reads the cache only (None when
    the split is not cached)."""
    r, f, tr_idx, te_idx = split
    path = None if cache_dir is None else Path(cache_dir) / f"r{r}_f{f}.npz"
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as z:
            got = {k: z[k] for k in (*_CACHED, "inner_folds")}
        if (not np.array_equal(got["test_convs"], np.sort(te_idx))
                or int(got["inner_folds"]) != inner_folds):
            raise ValueError(f"{path} holds another split or inner-fold count than asked "
                             f"(inner folds {int(got['inner_folds'])}); use another cache dir")
        return got
    if base_factory is None:
        return None
    train, test = inputs.subset_convs(tr_idx), inputs.subset_convs(te_idx)
    tr_sorted, te_sorted = np.sort(tr_idx), np.sort(te_idx)
    base, oof_p, oof_m, inner = oof_predictions(train, base_factory, inner_folds,
                                                seed=r * 100 + f, ids=tr_sorted[train.conv])
    p, m = predict_base(base, test.rows, te_sorted[test.conv])
    out = {"oof_p": oof_p, "oof_m": oof_m, "inner": inner, "p": p, "m": m,
           "test_convs": te_sorted}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, inner_folds=np.array(inner_folds), **out)
        tmp.replace(path)
    return out


def evaluate_confidence(inputs: TurnInputs, *, base_factory: BaseFactory,
                        confidence_factory: Callable[[], ConfidenceModel],
                        n_splits: int = 5, repeats: int = 1, inner_folds: int = 4,
                        fractions: Sequence[float] = FRACTIONS, max_turn: int = MAX_TURN,
                        progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Cross-validated confidence metrics on labelled ``inputs`` (whole conversations)."""
    return evaluate_variants(inputs, base_factory=base_factory,
                             variants={"all": confidence_factory}, n_splits=n_splits,
                             repeats=repeats, inner_folds=inner_folds, fractions=fractions,
                             max_turn=max_turn, progress=progress)["all"]


def evaluate_variants(inputs: TurnInputs, *, base_factory: BaseFactory,
                      variants: Mapping[str, Callable[[], ConfidenceModel]],
                      n_splits: int = 5, repeats: int = 1, inner_folds: int = 4,
                      fractions: Sequence[float] = FRACTIONS, max_turn: int = MAX_TURN,
                      progress: ProgressCallback | None = None,
                      cache_dir: Path | None = None, cached_only: bool = False,
                      only_splits: Sequence[int] | None = None
                      ) -> dict[str, dict[str, Any]]:
    """:func:`evaluate_confidence` of several confidence models (e.g. signal ablations) on
    the same folds and the same base predictions (cached in ``cache_dir`` when given, see
    :func:`split_predictions`; ``cached_only``: evaluate the cached splits only;
    ``only_splits``: indices, in repeat-major order, of the splits to evaluate). Besides the
    protocol's prefixes, ``full_dialogue`` holds the metrics of each test conversation's
    last turn alone."""
    if inputs.labels is None:
        raise ValueError("evaluate_confidence needs labelled conversations")
    starts = np.r_[0, np.flatnonzero(np.diff(inputs.conv)) + 1]
    splits = cv_splits_labels(inputs.labels[starts], n_splits, repeats)
    folds: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    curves: dict[str, list[np.ndarray]] = {name: [] for name in variants}
    grid = np.linspace(0.05, 1.0, 20)
    for s, (r, f, tr_idx, te_idx) in enumerate(splits):
        if only_splits is not None and s not in only_splits:
            continue
        got = split_predictions(inputs, (r, f, tr_idx, te_idx),
                                None if cached_only else base_factory, inner_folds, cache_dir)
        if got is None:
            continue
        train, test = inputs.subset_convs(tr_idx), inputs.subset_convs(te_idx)
        p, m = got["p"], got["m"]
        rows = _eval_rows(test, fractions, max_turn)
        last = _last_rows(test)
        y = test.labels[rows]
        # reference: the base's own margin |p - 0.5| as confidence ("softmax response",
        # Geifman & El-Yaniv, NeurIPS 2017), no meta-model
        margin = {"protocol": selective_metrics(np.abs(p[rows] - 0.5), p[rows], y),
                  "full_dialogue": selective_metrics(np.abs(p[last] - 0.5), p[last],
                                                     test.labels[last])}
        for name, factory in variants.items():
            conf = factory().fit(train, got["oof_p"], got["oof_m"], got["inner"])
            a = conf.assess_batch(test, p, m)
            sub = _take(a, rows)
            full = _take(a, last)
            y_last = test.labels[last]
            folds[name].append({
                "repeat": r, "fold": f, "rows": int(len(rows)),
                **selective_metrics(sub.confidence, sub.probability, y),
                "interval": interval_metrics(sub, y, conf.coverage),
                "full_dialogue": {
                    **selective_metrics(full.confidence, full.probability, y_last),
                    "interval": interval_metrics(full, y_last, conf.coverage)},
                "margin_only": margin,
                "meta": {"C": conf.C_, "interactions": float(conf.interactions_),
                         "n_signals": len(conf.meta_names_)},
                "meta_names": list(conf.meta_names_),
                "thresholds": {"conf": conf.conf_threshold_, "ood": conf.ood_threshold_,
                               "conformal_q": conf.conformal_q_}})
            cov, risk, _ = risk_coverage(sub.confidence, (sub.probability >= 0.5) == (y == 1))
            curves[name].append(np.interp(grid, cov, risk))
        if progress is not None:
            progress(s + 1, len(splits), f"repeat {r + 1} fold {f + 1}")
    if not any(folds.values()):
        raise ValueError(f"no split was evaluated (cached_only with nothing in {cache_dir})")
    out = {}
    for name in variants:
        report = summarise_folds(folds[name])
        report["risk_coverage"] = {"coverage": grid.round(3).tolist(),
                                   "risk": np.mean(curves[name], axis=0).round(4).tolist()}
        report["protocol"] = {"n_splits": n_splits, "repeats": repeats,
                              "splits_evaluated": len(folds[name]),
                              "inner_folds": inner_folds, "split_by": "conversation",
                              "fractions": list(fractions), "max_turn": max_turn}
        report["folds"] = folds[name]
        out[name] = report
    return out


def _last_rows(inputs: TurnInputs) -> np.ndarray:
    """Row index of each conversation's last turn (the full dialogue)."""
    return np.r_[np.flatnonzero(np.diff(inputs.conv)), len(inputs) - 1] if len(inputs) \
        else np.zeros(0, dtype=np.int64)


def _take(a: BatchAssessment, rows: np.ndarray) -> BatchAssessment:
    return BatchAssessment(a.probability[rows], a.confidence[rows], a.lower[rows],
                           a.upper[rows], a.abstain[rows], [a.reasons[i] for i in rows],
                           a.ood_score[rows], {})


def cv_splits_labels(y_conv: np.ndarray, n_splits: int, repeats: int
                     ) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """Stratified splits by conversation (the protocol's :func:`cv_splits` on labels)."""
    from salesrl.conversation import Outcome, Turn

    convs = [Conversation(id=str(i), turns=[Turn(role="rep", text="x")],
                          outcome=Outcome.CONVERTED if y else Outcome.NOT_CONVERTED)
             for i, y in enumerate(y_conv)]
    return [(s.repeat, s.fold, s.train, s.test)
            for s in cv_splits(convs, n_splits=n_splits, repeats=repeats)]


def summarise_folds(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and std across folds of every number in the fold entries."""
    def walk(entries: list[Any]) -> Any:
        first = entries[0]
        if isinstance(first, dict):
            return {k: walk([e[k] for e in entries]) for k in first
                    if k not in ("repeat", "fold", "meta_names")}
        v = np.asarray(entries, dtype=np.float64)
        if np.isnan(v).all():  # e.g. the accuracy of abstentions where none abstained
            return {"mean": float("nan"), "std": float("nan")}
        return {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v))}

    out = walk(folds)
    for part in (out, out.get("full_dialogue"), *out.get("margin_only", {}).values()):
        if part is not None:
            part["gain_top50_vs_all"] = (part["top50"]["accuracy"]["mean"]
                                         - part["top100"]["accuracy"]["mean"])
    return out


def confidence_report(conversations: Sequence[Conversation], *, n_splits: int = 5,
                      repeats: int = 3, max_turn: int = MAX_TURN,
                      progress: ProgressCallback | None = None) -> dict[str, Any]:
    """The ``confidence`` section of ``salesrl evaluate --confidence``: the bagged state
    logistic regression on the shared state builder (``$SALESRL_EMBEDDING_BACKEND``) and a
    :class:`ConfidenceModel` with every signal, cross-validated by conversation."""
    from salesrl.evaluation.baselines.state_lr import default_builder

    builder = default_builder()
    convs = [c for c in conversations if len(c.turns)]
    inputs = TurnInputs.from_conversations(convs, builder.encode_many(convs), builder.embed)
    report = evaluate_confidence(
        inputs, base_factory=lambda: BaggedLogistic(state_dim=builder.state_dim),
        confidence_factory=lambda: ConfidenceModel(state_dim=builder.state_dim),
        n_splits=n_splits, repeats=repeats, max_turn=max_turn, progress=progress)
    report["base"] = "bagged state logistic regression (5 members)"
    report["backend"] = builder.backend_name
    return report


def summary_line(report: dict[str, Any]) -> str:
    """One line for the console: selective accuracy, AURC and interval coverage."""
    acc = {k: report[f"top{k}"]["accuracy"]["mean"] for k in (25, 50, 75, 100)}
    iv = report["interval"]
    return (f"confidence: accuracy on the most confident 25/50/75/100 %: "
            f"{acc[25]:.3f} / {acc[50]:.3f} / {acc[75]:.3f} / {acc[100]:.3f}; "
            f"AURC {report['aurc']['mean']:.3f}; interval coverage "
            f"{iv['coverage']['mean']:.3f} (nominal {iv['nominal']['mean']:.2f}); "
            f"abstain {iv['abstain_rate']['mean']:.3f}")
