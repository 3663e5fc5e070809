"""``ConfidenceModel``: how far to trust each per-turn P(sale), learned on validation folds.

Fitting (meta-learning, in the sense of learning to predict the base model's errors; cf.
Corbière et al., "Confidence estimation via auxiliary models", TPAMI 2021) takes the
*out-of-fold* predictions of the base predictor on the training conversations (every turn
predicted by a model that did not see that conversation) and the fold of each conversation:

1. for each fold, a :class:`~.reference.TrainingReference` of the other folds gives that
   fold's signals (:mod:`.signals`), so no turn is compared with its own conversation;
2. a logistic regression over the standardised enabled signals (with their squares and
   their products with the margin when ``interactions``) predicts whether the base
   prediction is on the right side of 0.5; its fold-wise cross-fitted output is used to choose
   the thresholds below, the one fitted on all folds is kept;
3. an out-of-distribution score: each signal of :data:`~.signals.OOD_SIGNALS`, scaled so that
   0 is its validation median and 1 its validation 99th percentile; the score is the sum of
   their positive parts (``ood_combine="sum"``, the default) or their maximum. Beyond the
   validation ``ood_quantile`` ``tau`` of that score the confidence is multiplied by
   ``exp(-(score - tau))``, falling towards 0 ("no basis for trust"): the meta-model's
   calibration holds only where it was fitted, and outside the training distribution even a
   coin-flip 0.5 would be a claim it cannot back. Such predictions are withheld (``abstain``)
   with the reason of the signal that stood out most;
4. a split-conformal band (Vovk et al., 2005; normalised scores, Papadopoulos et al., 2008):
   with ``sigma = 1.1 - confidence`` and score ``|y - p| / sigma``, ``q`` is the conformal
   ``coverage`` quantile of the validation scores and the interval is ``[p - q sigma,
   p + q sigma]`` clipped to [0, 1]. **What it covers:** the outcome ``y`` in {0, 1} of the
   conversation, with probability ``coverage`` over the turns of new conversations exchangeable
   with the training ones (marginal coverage, checked on held-out folds by
   :mod:`salesrl.evaluation.confidence_eval`). Because ``y`` is 0 or 1, the interval covers it
   exactly when it reaches it: it is a conformal prediction set drawn around ``p``. An interval
   that reaches 1 but not 0 says "converts" at that level; one reaching both says "cannot
   tell"; its width shrinks as the confidence grows. With ``conformal_bins > 1`` the quantile
   is taken per bin of the turn count (bins at validation quantiles of it): Mondrian conformal
   prediction (Vovk et al., 2005, ch. 4), which promises the coverage within each bin, so late
   turns, whose predictions are the most confident, are not under-covered while early turns
   are over-covered;
5. ``abstain`` also below a confidence threshold chosen on validation: the largest of the
   5 %, 10 %, ... (at most ``max_abstain``) quantiles of the cross-fitted confidence below
   which validation accuracy is at most ``abstain_accuracy``.

Saved as ``confidence.safetensors`` + ``confidence.json`` (no pickle) in any directory, e.g.
the agent's model directory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
from safetensors.numpy import load_file, save_file

from salesrl.confidence import meta as meta_model
from salesrl.confidence.inputs import STRUCTURE_NAMES, StructureTracker, TurnInputs
from salesrl.confidence.reference import TrainingReference
from salesrl.confidence.signals import (
    OOD_SIGNALS,
    SIGNAL_GROUPS,
    PrefixSums,
    Trajectory,
    assemble,
    batch_signals,
    batch_trajectory,
    raw_parts,
    raw_turns,
)
from salesrl.conversation import Turn

__all__ = ["Assessment", "BatchAssessment", "ConfidenceModel", "ConfidenceTracker"]

FORMAT_VERSION = 1
# smallest OOD scale per signal; 0.05 for the rest (rates in [0, 1])
_OOD_FLOOR = {"nn_sim": 0.02, "struct_max_z": 0.5, "position_prefix": 0.1}


@dataclass
class Assessment:
    """One turn's answer: how far to trust ``probability``."""

    probability: float
    confidence: float
    interval: tuple[float, float]
    abstain: bool
    reason: str | None
    ood_score: float
    signals: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"probability": self.probability, "confidence": self.confidence,
                "interval": list(self.interval), "abstain": self.abstain,
                "reason": self.reason, "ood_score": self.ood_score, "signals": self.signals}


@dataclass
class BatchAssessment:
    """Column arrays of many turns' assessments; ``item(i)`` gives one :class:`Assessment`."""

    probability: np.ndarray
    confidence: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    abstain: np.ndarray
    reasons: list[str | None]
    ood_score: np.ndarray
    signals: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.probability)

    def item(self, i: int) -> Assessment:
        return Assessment(float(self.probability[i]), float(self.confidence[i]),
                          (float(self.lower[i]), float(self.upper[i])), bool(self.abstain[i]),
                          self.reasons[i], float(self.ood_score[i]),
                          {k: float(v[i]) for k, v in self.signals.items()})


def _finite(x: float) -> float | None:
    """JSON has no inf / NaN: None stands for them."""
    return x if math.isfinite(x) else None


def _fold_ids(inputs: TurnInputs, n_folds: int, seed: int) -> np.ndarray:
    n_conv = int(inputs.conv.max()) + 1 if len(inputs) else 0
    fold_of_conv = np.random.default_rng(seed).permutation(n_conv) % n_folds
    return fold_of_conv[inputs.conv]


#: fewest validation rows for a turn-count bin's own conformal quantile (else the global one)
_MIN_BIN_ROWS = 50


def _conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The ``ceil((n + 1) coverage) / n`` empirical quantile (finite-sample valid)."""
    n = len(scores)
    level = min(1.0, math.ceil((n + 1) * coverage) / n)
    return float(np.quantile(scores, level, method="higher"))


class ConfidenceModel:
    """Calibrated confidence, interval and abstention for a base predictor's P(sale).

    Args:
        groups: signal groups to use (:data:`~.signals.SIGNAL_GROUPS`; default all).
        state_dim: leading columns of the state rows compared with training (None: all; the
            agent's rows: ``StateBuilder.state_dim``, leaving out the turn window).
        n_components, k, max_rows, max_turns: of the :class:`TrainingReference`.
        coverage: nominal coverage of the interval.
        ood_quantile: validation quantile of the OOD score above which the model abstains.
        novel_quantile: validation quantile of turn novelty above which a turn counts as novel.
        abstain_accuracy, max_abstain: the low-confidence abstention rule (see module doc).
        n_folds: folds drawn by conversation when ``fit`` is not given them.
        C: inverse L2 strength of the meta logistic regression.
        interactions: give the meta-model squared signals and products with the margin
            (still a logistic regression; without, it is linear in the signals).
        select: choose the meta-model's signal set, interactions and ``C`` among
            :func:`.meta.candidates` by cross-fitted log loss on the validation folds (the
            chosen ones are ``meta_names_``, ``interactions_``, ``C_``); the OOD score still
            reads every enabled group.
        ood_combine: ``"max"`` of the scaled OOD signals, or ``"sum"`` of their positive
            parts (rewards several moderately unusual signals at once).
        seed: of folds and subsamples.
    """

    def __init__(self, groups: Sequence[str] | None = None, *, state_dim: int | None = None,
                 n_components: int = 32, k: int = 10, max_rows: int = 20000,
                 max_turns: int = 4096, coverage: float = 0.9, ood_quantile: float = 0.99,
                 novel_quantile: float = 0.95, abstain_accuracy: float = 0.55,
                 max_abstain: float = 0.3, n_folds: int = 5, C: float = 1.0,
                 interactions: bool = True, ood_combine: str = "sum", seed: int = 0,
                 select: bool = False, conformal_bins: int = 4) -> None:
        self.groups = groups
        self.state_dim = state_dim
        self.n_components = n_components
        self.k = k
        self.max_rows = max_rows
        self.max_turns = max_turns
        self.coverage = coverage
        self.ood_quantile = ood_quantile
        self.novel_quantile = novel_quantile
        self.abstain_accuracy = abstain_accuracy
        self.max_abstain = max_abstain
        self.n_folds = n_folds
        self.C = C
        self.interactions = interactions
        self.ood_combine = ood_combine
        self.seed = seed
        self.select = select
        self.conformal_bins = conformal_bins

    # -- fitting --------------------------------------------------------------------------
    def _reference(self) -> TrainingReference:
        return TrainingReference(self.state_dim, self.n_components, self.k, self.max_rows,
                                 self.max_turns, self.seed)

    def _check_groups(self) -> list[str]:
        groups = list(SIGNAL_GROUPS) if self.groups is None else list(self.groups)
        unknown = [g for g in groups if g not in SIGNAL_GROUPS]
        if unknown or not groups:
            raise ValueError(f"unknown confidence signal group(s) {unknown}; choose from "
                             f"{', '.join(SIGNAL_GROUPS)}")
        if self.ood_combine not in ("max", "sum"):
            raise ValueError(f"ood_combine must be 'max' or 'sum', not {self.ood_combine!r}")
        if not 0.0 < self.coverage < 1.0:
            raise ValueError(f"coverage must be in (0, 1), not {self.coverage}")
        if self.conformal_bins < 1:
            raise ValueError(f"conformal_bins must be >= 1, not {self.conformal_bins}")
        return groups

    def fit(self, inputs: TurnInputs, proba: np.ndarray, members: np.ndarray | None = None,
            folds: np.ndarray | None = None) -> Self:
        """Learn from labelled training turns and the base predictor's out-of-fold ``proba``
        (and ``members``, ``(n, K)``) on them; ``folds`` (per row) are the folds those
        predictions came from (default: ``n_folds`` random folds by conversation)."""
        groups = self._check_groups()
        if inputs.labels is None:
            raise ValueError("ConfidenceModel.fit needs labelled turns (TurnInputs.labels)")
        p = np.asarray(proba, dtype=np.float64).reshape(-1)
        if len(p) != len(inputs):
            raise ValueError(f"{len(p)} out-of-fold probabilities for {len(inputs)} turns")
        folds = _fold_ids(inputs, self.n_folds, self.seed) if folds is None else np.asarray(
            folds)
        if len(folds) != len(inputs):
            raise ValueError("folds must have one entry per turn")
        fold_values = np.unique(folds)
        if len(fold_values) < 2:
            raise ValueError("ConfidenceModel.fit needs at least 2 folds")
        # 1. out-of-fold raw quantities, each fold against a reference of the others
        raw: dict[str, np.ndarray] = {}
        for f in fold_values:
            test = folds == f
            train_convs = np.unique(inputs.conv[~test])
            ref = self._reference().fit(inputs.subset_convs(train_convs))
            part = raw_turns(ref, inputs.subset_convs(np.unique(inputs.conv[test])))
            for key, v in part.items():
                raw.setdefault(key, np.zeros(len(inputs)))[test] = v
        self.novel_threshold_ = float(np.quantile(1.0 - raw["turn_sim"], self.novel_quantile))
        prefix = batch_signals(raw, inputs.conv, self.novel_threshold_)
        prefix.update(batch_trajectory(p, inputs.conv))
        sig = assemble(raw, prefix, p, members)
        # 2. meta-model, cross-fitted on the folds, then on everything
        self.signal_names_ = [n for g in groups for n in SIGNAL_GROUPS[g]]
        correct = ((p >= 0.5).astype(int) == inputs.labels).astype(int)
        if len(set(correct.tolist())) < 2:
            raise ValueError("the base predictions are all right or all wrong on validation; "
                             "nothing to learn confidence from")
        specs = meta_model.candidates(self.signal_names_, self.interactions, self.C, self.select)
        spec, meta_cf, losses = meta_model.select(sig, specs, correct, folds)
        self.meta_names_, self.interactions_, self.C_ = list(spec.names), spec.interactions, \
            spec.C
        self.x_mean_, self.x_scale_, lr = meta_model.fit(sig, spec, correct)
        self.coef_ = lr.coef_.reshape(-1).astype(np.float64)
        self.intercept_ = float(lr.intercept_[0])
        # 3. out-of-distribution score
        ood_names = [n for n in OOD_SIGNALS if n in self.signal_names_]
        self.ood_names_ = ood_names
        if ood_names:
            v = np.column_stack([self._oriented(n, sig[n]) for n in ood_names])
            med = np.median(v, axis=0)
            hi = np.quantile(v, 0.99, axis=0)
            floor = np.array([_OOD_FLOOR.get(n, 0.05) for n in ood_names])
            self.ood_center_, self.ood_scale_ = med, np.maximum(hi - med, floor)
            ood = self._ood((v - med) / self.ood_scale_)
            self.ood_threshold_ = float(np.quantile(ood, self.ood_quantile))
        else:
            self.ood_center_ = self.ood_scale_ = np.zeros(0)
            ood = np.zeros(len(p))
            self.ood_threshold_ = math.inf
        conf_cf = self._shrink(meta_cf, ood)
        # 4. conformal band on the outcome
        scores = np.abs(inputs.labels - p) / (1.1 - conf_cf)
        self.conformal_q_ = _conformal_quantile(scores, self.coverage)
        self._fit_conformal_bins(scores, raw["n_turns"])
        # 5. low-confidence abstention threshold
        self.conf_threshold_, self.conf_threshold_accuracy_ = 0.0, float("nan")
        for level in np.arange(0.05, self.max_abstain + 1e-9, 0.05):
            t = float(np.quantile(conf_cf, level))
            below = conf_cf < t
            if below.any() and correct[below].mean() <= self.abstain_accuracy:
                self.conf_threshold_ = t
                self.conf_threshold_accuracy_ = float(correct[below].mean())
        self.validation_ = {"rows": int(len(p)), "accuracy": float(correct.mean()),
                            "meta_brier": float(np.mean((conf_cf - correct) ** 2)),
                            "meta_log_loss": min(losses), "candidates": len(specs),
                            "novel_threshold": self.novel_threshold_}
        # final reference on all training turns
        self.reference_ = self._reference().fit(inputs)
        return self

    def _fit_conformal_bins(self, scores: np.ndarray, n_turns: np.ndarray) -> None:
        """Per turn-count bin conformal quantiles (Mondrian); one bin: the global quantile."""
        qs = np.linspace(0, 1, self.conformal_bins + 1)[1:-1]
        edges = np.unique(np.quantile(n_turns, qs)) if len(qs) else np.zeros(0)
        bins = np.searchsorted(edges, n_turns, side="right")
        self.conformal_edges_ = edges.astype(np.float64)
        self.conformal_qs_ = np.array([
            _conformal_quantile(scores[bins == b], self.coverage)
            if (bins == b).sum() >= _MIN_BIN_ROWS else self.conformal_q_
            for b in range(len(edges) + 1)], dtype=np.float64)

    def _band(self, n_turns: np.ndarray) -> np.ndarray:
        """The conformal quantile of each row's turn-count bin."""
        return self.conformal_qs_[np.searchsorted(self.conformal_edges_, n_turns, side="right")]

    def _z(self, x: np.ndarray) -> np.ndarray:
        """The meta-model's design matrix (:func:`.meta.design`) of ``meta_names_`` columns."""
        return meta_model.design(x, self.x_mean_, self.x_scale_, self.meta_names_,
                           self.interactions_)

    def _ood(self, u: np.ndarray) -> np.ndarray:
        if self.ood_combine == "sum":
            return np.maximum(u, 0.0).sum(axis=1)
        return u.max(axis=1)

    @staticmethod
    def _oriented(name: str, v: np.ndarray) -> np.ndarray:
        return -v if name == "nn_sim" else v

    def _shrink(self, meta: np.ndarray, ood: np.ndarray) -> np.ndarray:
        """``meta`` inside the validation range of ``ood``; decaying to 0 beyond it."""
        return meta * np.exp(-np.maximum(0.0, ood - self.ood_threshold_))

    # -- assessing ------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("ConfidenceModel is not fitted; call fit() or load() first")

    def _finish(self, raw: dict[str, np.ndarray], prefix: dict[str, np.ndarray],
                p: np.ndarray, members: np.ndarray | None) -> BatchAssessment:
        sig = assemble(raw, prefix, p, members)
        x = np.column_stack([sig[n] for n in self.meta_names_])
        meta_p = 1.0 / (1.0 + np.exp(-(self._z(x) @ self.coef_ + self.intercept_)))
        if self.ood_names_:
            v = np.column_stack([self._oriented(n, sig[n]) for n in self.ood_names_])
            u = (v - self.ood_center_) / self.ood_scale_
            ood, top = self._ood(u), u.argmax(axis=1)
        else:
            ood, top = np.zeros(len(p)), np.zeros(len(p), dtype=int)
        conf = self._shrink(meta_p, ood)
        sigma = 1.1 - conf
        q = self._band(raw["n_turns"])
        lower = np.clip(p - q * sigma, 0.0, 1.0)
        upper = np.clip(p + q * sigma, 0.0, 1.0)
        is_ood = ood > self.ood_threshold_
        low = conf < self.conf_threshold_
        reasons: list[str | None] = []
        for i in range(len(p)):
            if is_ood[i]:
                reasons.append(self._ood_reason(self.ood_names_[int(top[i])], sig, raw, i))
            elif low[i]:
                reasons.append(f"low confidence {conf[i]:.2f}: on validation, predictions "
                               f"below {self.conf_threshold_:.2f} were right "
                               f"{self.conf_threshold_accuracy_:.0%} of the time")
            else:
                reasons.append(None)
        return BatchAssessment(p, conf, lower, upper, is_ood | low, reasons, ood,
                               {n: sig[n] for n in self.signal_names_})

    def _ood_reason(self, name: str, sig: dict[str, np.ndarray], raw: dict[str, np.ndarray],
                    i: int) -> str:
        if name == "nn_sim":
            return (f"unfamiliar conversation: nearest training conversation similarity "
                    f"{sig['nn_sim'][i]:.2f}")
        if name == "struct_max_z":
            feat = STRUCTURE_NAMES[int(raw["struct_arg"][i])]
            return (f"unusual structure: {feat.replace('_', ' ')} is "
                    f"{sig['struct_max_z'][i]:.1f} robust SDs from training conversations of "
                    f"this length")
        if name == "position_prefix":
            return ("unusual order: turns so far sit far from where similar turns occur in "
                    f"training conversations (mean log-position gap "
                    f"{sig['position_prefix'][i]:.2f})")
        if name in ("novelty_prefix", "novel_share"):
            return (f"unfamiliar content: {sig['novel_share'][i]:.0%} of turns so far are "
                    f"unlike any training turn")
        if name == "oov_prefix":
            return f"unfamiliar words: {sig['oov_prefix'][i]:.0%} of words never seen in training"
        return (f"language other than the training language ({self.reference_.language_}): "
                f"P(other) {sig['foreign_prefix'][i]:.2f} over the conversation so far")

    def assess_batch(self, inputs: TurnInputs, proba: np.ndarray,
                     members: np.ndarray | None = None) -> BatchAssessment:
        """Assess every turn of ``inputs`` (whole conversations, in order) given the base
        predictor's ``proba`` (and ``members``) on those turns."""
        self._check()
        p = np.asarray(proba, dtype=np.float64).reshape(-1)
        if len(p) != len(inputs):
            raise ValueError(f"{len(p)} probabilities for {len(inputs)} turns")
        raw = raw_turns(self.reference_, inputs)
        prefix = batch_signals(raw, inputs.conv, self.novel_threshold_)
        prefix.update(batch_trajectory(p, inputs.conv))
        return self._finish(raw, prefix, p, members)

    def new_tracker(self) -> ConfidenceTracker:
        """A per-conversation tracker for turn-by-turn use (the service path)."""
        self._check()
        return ConfidenceTracker(self)

    # -- persistence ----------------------------------------------------------------------
    _PARAMS = ("groups", "state_dim", "n_components", "k", "max_rows", "max_turns",
               "coverage", "ood_quantile", "novel_quantile", "abstain_accuracy",
               "max_abstain", "n_folds", "C", "interactions", "ood_combine", "seed", "select",
               "conformal_bins")

    def save(self, path: str | Path) -> Path:
        """Write ``confidence.safetensors`` and ``confidence.json`` into directory ``path``."""
        self._check()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays, ref_meta = self.reference_.to_arrays()
        for n in ("x_mean", "x_scale", "coef", "ood_center", "ood_scale"):
            arrays[n] = np.ascontiguousarray(getattr(self, n + "_"), dtype=np.float64)
        save_file(arrays, str(path / "confidence.safetensors"))
        meta = {"format": "salesrl-confidence", "version": FORMAT_VERSION,
                "params": {n: getattr(self, n) for n in self._PARAMS},
                "signal_names": self.signal_names_, "ood_names": self.ood_names_,
                "meta_names": self.meta_names_, "meta_interactions": self.interactions_,
                "meta_C": self.C_,
                "intercept": self.intercept_, "novel_threshold": self.novel_threshold_,
                "ood_threshold": _finite(self.ood_threshold_),
                "conformal_q": self.conformal_q_,
                "conformal_edges": self.conformal_edges_.tolist(),
                "conformal_qs": self.conformal_qs_.tolist(),
                "conf_threshold": self.conf_threshold_,
                "conf_threshold_accuracy": _finite(self.conf_threshold_accuracy_),
                "validation": self.validation_, "reference": ref_meta}
        (path / "confidence.json").write_text(json.dumps(meta, indent=1, allow_nan=False))
        return path

    @classmethod
    def load(cls, path: str | Path) -> ConfidenceModel:
        """Read a model written by :meth:`save`."""
        path = Path(path)
        try:
            meta = json.loads((path / "confidence.json").read_text())
            arrays = load_file(str(path / "confidence.safetensors"))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"no confidence model in {path}: {exc.filename} is "
                                    f"missing") from None
        if meta.get("format") != "salesrl-confidence" or meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path / 'confidence.json'} is not a version {FORMAT_VERSION} "
                             f"salesrl confidence model")
        params = dict(meta["params"])
        model = cls(params.pop("groups"), **params)
        model.reference_ = TrainingReference.from_arrays(arrays, meta["reference"])
        for n in ("x_mean", "x_scale", "coef", "ood_center", "ood_scale"):
            setattr(model, n + "_", arrays[n])
        model.signal_names_ = list(meta["signal_names"])
        # written before the meta-model could be selected: it read every signal
        model.meta_names_ = list(meta.get("meta_names", model.signal_names_))
        model.interactions_ = bool(meta.get("meta_interactions", model.interactions))
        model.C_ = float(meta.get("meta_C", model.C))
        model.ood_names_ = list(meta["ood_names"])
        model.intercept_ = float(meta["intercept"])
        model.novel_threshold_ = float(meta["novel_threshold"])
        model.ood_threshold_ = (math.inf if meta["ood_threshold"] is None
                                else float(meta["ood_threshold"]))
        model.conformal_q_ = float(meta["conformal_q"])
        # files written before Mondrian bins existed: one bin, the global quantile
        model.conformal_edges_ = np.asarray(meta.get("conformal_edges", []), dtype=np.float64)
        model.conformal_qs_ = np.asarray(meta.get("conformal_qs", [model.conformal_q_]),
                                         dtype=np.float64)
        model.conf_threshold_ = float(meta["conf_threshold"])
        model.conf_threshold_accuracy_ = (math.nan if meta["conf_threshold_accuracy"] is None
                                          else float(meta["conf_threshold_accuracy"]))
        model.validation_ = dict(meta["validation"])
        return model


class ConfidenceTracker:
    """Turn-by-turn assessments of one conversation (O(1) state per conversation).

    ``update(turn, row, probability, members=None, embedding=None)`` takes the next turn, the
    state row the agent read after it, the agent's probability (and members), and the turn's
    embedding (the state builder's; required unless the reference needs none), and returns an
    :class:`Assessment` computed from the prefix only.
    """

    def __init__(self, model: ConfidenceModel) -> None:
        self.model = model
        self.structure = StructureTracker()
        self.sums = PrefixSums()
        self.trajectory = Trajectory()

    def update(self, turn: Turn, row: np.ndarray, probability: float,
               members: np.ndarray | None = None,
               embedding: np.ndarray | None = None) -> Assessment:
        m = self.model
        if embedding is None:
            raise ValueError("ConfidenceTracker.update needs the turn embedding")
        struct = self.structure.update_turn(turn)
        raw = raw_parts(m.reference_, row, embedding, [turn.text], struct)
        prefix = self.sums.update(raw, m.novel_threshold_)
        traj = self.trajectory.update(float(probability))
        prefix.update({n: np.array([v]) for n, v in zip(SIGNAL_GROUPS["trajectory"], traj,
                                                         strict=True)})
        mem = None if members is None else np.asarray(members, dtype=np.float64).reshape(1, -1)
        return m._finish(raw, prefix, np.array([float(probability)]), mem).item(0)

    @staticmethod
    def update_many(trackers: Sequence[ConfidenceTracker], turns: Sequence[Turn],
                    rows: np.ndarray, probabilities: np.ndarray,
                    members: np.ndarray | None, embeddings: np.ndarray) -> list[Assessment]:
        """:meth:`update` for the next turn of several conversations of one model at once.

        The reference is searched with every row in one matrix product (the search reads the
        whole reference, so one pass for the batch instead of one per turn), then each tracker
        folds its own row into its running sums, as :meth:`update` does.
        """
        if not trackers:
            return []
        m = trackers[0].model
        if any(t.model is not m for t in trackers):
            raise ValueError("update_many: every tracker must share one ConfidenceModel")
        structs = np.stack([t.structure.update_turn(turn)
                            for t, turn in zip(trackers, turns, strict=True)])
        raw = raw_parts(m.reference_, np.asarray(rows), np.asarray(embeddings),
                        [turn.text for turn in turns], structs)
        prefixes: list[dict[str, np.ndarray]] = []
        for i, tracker in enumerate(trackers):
            prefix = tracker.sums.update({k: v[i:i + 1] for k, v in raw.items()},
                                         m.novel_threshold_)
            traj = tracker.trajectory.update(float(probabilities[i]))
            prefix.update({n: np.array([v]) for n, v in zip(SIGNAL_GROUPS["trajectory"], traj,
                                                             strict=True)})
            prefixes.append(prefix)
        prefix = {k: np.concatenate([p[k] for p in prefixes]) for k in prefixes[0]}
        mem = None if members is None else np.asarray(members, dtype=np.float64)
        out = m._finish(raw, prefix, np.asarray(probabilities, dtype=np.float64), mem)
        return [out.item(i) for i in range(len(trackers))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe running state (structure, prefix sums, trajectory); NaN becomes None."""
        def clean(d: dict[str, Any]) -> dict[str, Any]:
            return {k: None if isinstance(v, float) and math.isnan(v) else v
                    for k, v in d.items()}

        return {"structure": clean(asdict(self.structure)), "sums": asdict(self.sums),
                "trajectory": asdict(self.trajectory)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], model: ConfidenceModel) -> ConfidenceTracker:
        """Continue a tracker saved by :meth:`to_dict` with ``model``."""
        tracker = cls(model)
        structure = dict(data["structure"])
        if structure.get("last_gap") is None:
            structure["last_gap"] = math.nan
        tracker.structure = StructureTracker(**structure)
        tracker.sums = PrefixSums(**data["sums"])
        tracker.trajectory = Trajectory(**data["trajectory"])
        return tracker
