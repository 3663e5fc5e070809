"""Context prior: P(conversion | what the CRM knows before the call) as one extra column.

The agent reads the transcript; a CRM also knows, before a word is said, who the rep is (their
win rate), the industry, channel and product, and account / contact attributes
(``Metadata.extra``, e.g. the PersuasionForGood persuadee's survey traits under
``extra["customer"]``). :class:`ContextPrior` models P(conversion) from a conversation's
:class:`~salesrl.conversation.Metadata` only, never its turns or outcome:

* categorical fields (``rep_id``, ``industry``, ``channel``, ``product`` and the string
  fields of ``extra``, nested dicts flattened to ``a.b`` names) target-encoded with
  empirical-Bayes shrinkage towards the base rate (Micci-Barreca, "A preprocessing scheme for
  high-cardinality categorical attributes", SIGKDD Explorations 2001; scikit-learn's
  ``TargetEncoder``), as logits; a missing value is a level of its own, an unseen level gets
  the base rate;
* numeric fields of ``extra`` (numbers, booleans) standardised, missing -> the training mean
  plus a missing-indicator column (when the training data had missing values);
* an L2 logistic regression (Cox 1958) over one row per conversation, its strength picked by
  the inner stratified k-fold log loss (scikit-learn's ``LogisticRegressionCV``).

Why target encoding and not one-hot with one L2 strength: on 20,000 synthetic calls (test:
5,000) a first one-hot version (1,282 columns: 40 reps, but also 1,174 company names seen 10+
times) picked a strength that shrank the reps with the noise, held-out AUC 0.562; this one
gives 0.566 (the reps' raw training conversion rates alone: 0.568). Shrinkage per level, by
that level's own count, keeps the reps and mutes the companies. On PersuasionForGood with the
persuadee's survey traits (``salesrl convert --from p4g-traits``) the prior alone has AUC
0.636 / Brier 0.235 (5-fold CV by conversation, mean of seeds 0-2; both checks
``/tmp/h9/prior_check.py`` and ``/tmp/h9/p4g_prior_cv.py``, not shipped). The logit is the
same for every turn of a call.

Like the lexical column (:mod:`~.lexical`), the agent's training rows must not carry an
in-sample value: :func:`cross_fit` gives out-of-fold logits (stacking, Wolpert 1992) and the
model fitted on all training calls for new ones. Artifact form: arrays + JSON, never pickle.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from salesrl.agent.crossfit import cross_fit_logits
from salesrl.conversation import Conversation, DataError, Metadata

#: top-level categorical fields read (``deal_id`` and ``source`` identify, they do not inform)
CATEGORICAL = ("rep_id", "industry", "channel", "product")
#: keys of ``extra`` that salesrl itself writes on derived conversations (counter-examples)
IGNORED_EXTRA = frozenset({"adversarial", "early_from", "late_from", "source"})
MISSING = "<missing>"


def _flatten(extra: Mapping[str, Any], prefix: str = "extra") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in extra.items():
        if prefix == "extra" and key in IGNORED_EXTRA:
            continue
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def metadata_fields(metadata: Metadata) -> dict[str, Any]:
    """``{field name: value}`` of everything the prior may read (``None``: missing)."""
    out: dict[str, Any] = {f"metadata.{k}": getattr(metadata, k) for k in CATEGORICAL}
    out.update({f"metadata.{k}": v for k, v in _flatten(metadata.extra or {}).items()})
    return out


def _kind(value: Any) -> str | None:
    """``"num"``, ``"cat"``, None (missing) or ``"bad"`` for what the prior cannot read."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | float):
        return "num"
    if isinstance(value, str):
        return "cat" if value.strip() else None
    return "bad"


def _level(value: Any) -> str:
    return str(value).strip() if _kind(value) == "cat" else MISSING


def _te_folds(cv: StratifiedKFold) -> dict[str, Any]:
    """``TargetEncoder``'s fold arguments: a splitter from scikit-learn 1.9 on, else the
    number of folds and a seed (the older API)."""
    import sklearn

    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 9):
        return {"cv": cv}
    return {"cv": cv.get_n_splits(), "shuffle": True, "random_state": cv.random_state}


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(q / (1 - q))


class ContextPrior:
    """Logistic regression of the outcome on encoded metadata fields (one row per call).

    Categorical fields are target-encoded with empirical-Bayes shrinkage (scikit-learn's
    ``TargetEncoder``, ``smooth="auto"``; cross-fitted inside :meth:`fit` so the regression
    never sees a call's own outcome in its encoding) and enter as logits; numeric fields are
    standardised. ``Cs``: the L2 strengths tried, picked by ``n_splits``-fold log loss. A field
    constant in the training data adds no column; ``n_features_ == 0`` then (the base rate).
    ``gain_`` / ``gain_se_``: the inner-CV log-loss gain over the base rate and its standard
    error; when the gain is within one standard error (:attr:`informative_` false) the
    metadata say nothing the base rate does not, and
    :class:`~salesrl.agent.predictor.AgentPredictor` drops the column.
    """

    def __init__(self, Cs: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
                 n_splits: int = 5, seed: int = 0, max_iter: int = 1000) -> None:
        self.Cs = Cs
        self.n_splits = n_splits
        self.seed = seed
        self.max_iter = max_iter

    # -- the design ------------------------------------------------------------------------
    def _learn_fields(self, rows: list[dict[str, Any]], ids: list[str]) -> None:
        kinds: dict[str, str] = {}
        for cid, row in zip(ids, rows, strict=True):
            for name, value in row.items():
                k = _kind(value)
                if k is None or k == "bad":
                    continue  # missing; lists / objects are not features the prior models
                if kinds.setdefault(name, k) != k:
                    raise DataError(f"conversation {cid!r}: {type(value).__name__} here but "
                                    f"{'numbers' if kinds[name] == 'num' else 'strings'} in "
                                    "earlier conversations; use one type per field",
                                    field=name)
        self.categorical_: list[str] = []
        self.numeric_: dict[str, bool] = {}  # name -> has a missing-indicator column
        n = len(rows)
        stats: dict[str, tuple[float, float]] = {}
        for name in sorted(kinds):
            values = [r.get(name) for r in rows]
            if kinds[name] == "cat":
                if len({_level(v) for v in values}) > 1:  # one level: a constant, no column
                    self.categorical_.append(name)
            else:
                x = np.array([float(v) for v in values if _kind(v) == "num"])
                if x.std() > 0 or len(x) < n:
                    self.numeric_[name] = len(x) < n
                    stats[name] = (float(x.mean()), float(x.std()) or 1.0)
        self.mean_ = np.array([stats[k][0] for k in self.numeric_], dtype=np.float64)
        self.scale_ = np.array([stats[k][1] for k in self.numeric_], dtype=np.float64)

    @property
    def n_features_(self) -> int:
        return len(self.categorical_) + len(self.numeric_) + sum(self.numeric_.values())

    def _levels(self, metadatas: Sequence[Metadata]) -> tuple[np.ndarray, np.ndarray]:
        """``(categorical levels (n, n_cat) as strings, numeric block)``; a value of the wrong
        type raises :class:`DataError` naming the field."""
        cats = np.empty((len(metadatas), len(self.categorical_)), dtype=object)
        nums = np.zeros((len(metadatas), len(self.numeric_) + sum(self.numeric_.values())))
        for i, md in enumerate(metadatas):
            row = metadata_fields(md)
            for j, name in enumerate(self.categorical_):
                v = row.get(name)
                if _kind(v) not in ("cat", None):
                    raise DataError(f"expected a string (a category), got "
                                    f"{type(v).__name__} {v!r}", field=name)
                cats[i, j] = _level(v)
            j = 0
            for (name, flag), mu, sd in zip(self.numeric_.items(), self.mean_, self.scale_,
                                            strict=True):
                v = row.get(name)
                k = _kind(v)
                if k not in ("num", None):
                    raise DataError(f"expected a number, got {type(v).__name__} {v!r}",
                                    field=name)
                nums[i, j] = 0.0 if k is None else (float(v) - mu) / sd  # missing: the mean
                j += 1
                if flag:
                    nums[i, j] = float(k is None)
                    j += 1
        return cats, nums

    def design(self, metadatas: Sequence[Metadata]) -> np.ndarray:
        """The ``(n, n_features_)`` design: each categorical field's shrunk target encoding
        (unseen level: the training base rate) as a logit, then the numeric block."""
        cats, nums = self._levels(metadatas)
        enc = np.full(cats.shape, self.target_mean_, dtype=np.float64)
        for j, name in enumerate(self.categorical_):
            table = self.encodings_[name]
            enc[:, j] = [table.get(v, self.target_mean_) for v in cats[:, j]]
        return np.concatenate([_logit(enc), nums], axis=1)

    # -- fitting / prediction --------------------------------------------------------------
    def fit(self, conversations: Sequence[Conversation]) -> Self:
        from sklearn.preprocessing import TargetEncoder

        convs = [c for c in conversations if c.converted is not None]
        if not convs:
            raise ValueError("ContextPrior.fit: no labelled conversation")
        y = np.array([c.label for c in convs], dtype=int)
        self._learn_fields([metadata_fields(c.metadata) for c in convs], [c.id for c in convs])
        cats, nums = self._levels([c.metadata for c in convs])
        self.target_mean_ = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
        self.encodings_: dict[str, dict[str, float]] = {}
        self.coef_ = np.zeros(self.n_features_)
        self.intercept_ = float(_logit(np.array(self.target_mean_)))
        self.C_ = 0.0
        self.gain_ = self.gain_se_ = 0.0
        k = min(self.n_splits, int(np.bincount(y, minlength=2).min()))
        if self.n_features_ == 0 or k < 2:
            for name in self.categorical_:
                self.encodings_[name] = {}
            return self
        enc = np.zeros((len(convs), 0))
        cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=self.seed)
        if self.categorical_:
            te = TargetEncoder(target_type="binary", smooth="auto", **_te_folds(cv))
            enc = te.fit_transform(cats, y)  # cross-fitted: no call sees its own outcome
            for j, name in enumerate(self.categorical_):
                self.encodings_[name] = {str(lv): float(e) for lv, e in
                                         zip(te.categories_[j], te.encodings_[j], strict=True)}
        x = np.concatenate([_logit(enc), nums], axis=1)
        with warnings.catch_warnings():  # scikit-learn 1.9 announces new defaults; not ours
            warnings.simplefilter("ignore", FutureWarning)
            lr = LogisticRegressionCV(Cs=list(self.Cs), cv=cv, scoring="neg_log_loss",
                                      max_iter=self.max_iter).fit(x, y)
        self.C_ = float(lr.C_[0])  # refit=True: coefficients at that strength, on all rows
        self.coef_ = lr.coef_.ravel().astype(np.float64)
        self.intercept_ = float(lr.intercept_[0])
        # what the metadata buy over the base rate, in inner-CV log loss per fold (same folds;
        # the strength was picked on them too, so slightly optimistic): mean and standard error
        oof = cross_val_predict(LogisticRegression(C=self.C_, max_iter=self.max_iter), x, y,
                                cv=cv, method="predict_proba")[:, 1]
        gains = []
        for tr, te in cv.split(x, y):
            base = np.full(len(te), y[tr].mean())
            gains.append(log_loss(y[te], base, labels=[0, 1])
                         - log_loss(y[te], oof[te], labels=[0, 1]))
        self.gain_ = float(np.mean(gains))
        self.gain_se_ = float(np.std(gains, ddof=1) / np.sqrt(len(gains)))
        return self

    @property
    def informative_(self) -> bool:
        """Whether the metadata beat the base rate by more than one standard error of the
        inner-CV log-loss gain (the one-standard-error rule, Breiman et al., "Classification
        and Regression Trees", 1984)."""
        return self.n_features_ > 0 and self.gain_ > self.gain_se_

    def logit_of(self, metadatas: Sequence[Metadata]) -> np.ndarray:
        """One logit per metadata, shape ``(n,)``."""
        if not hasattr(self, "coef_"):
            raise RuntimeError("ContextPrior is not fitted; call fit() first")
        if not len(metadatas):
            return np.zeros(0)
        return self.design(metadatas) @ self.coef_ + self.intercept_

    def logits(self, conversations: Sequence[Conversation]) -> list[np.ndarray]:
        """The conversation's logit repeated on each of its turns (float32, like
        :meth:`LexicalEvidence.logits <salesrl.agent.lexical.LexicalEvidence.logits>`)."""
        z = self.logit_of([c.metadata for c in conversations])
        return [np.full(len(c.turns), zi, dtype=np.float32)
                for c, zi in zip(conversations, z, strict=True)]

    # -- persistence (arrays + JSON, no pickle) -------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {"coef": self.coef_, "mean": self.mean_, "scale": self.scale_}
        for j, name in enumerate(self.categorical_):
            out[f"encoding{j}"] = np.array(list(self.encodings_[name].values()), np.float64)
        return out

    def params(self) -> dict[str, Any]:
        return {"C": self.C_, "intercept": self.intercept_, "target_mean": self.target_mean_,
                "gain": self.gain_, "gain_se": self.gain_se_,
                "categorical": [{"name": k, "levels": list(self.encodings_[k])}
                                for k in self.categorical_],
                "numeric": [{"name": k, "missing_flag": v} for k, v in self.numeric_.items()]}

    @classmethod
    def from_arrays(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]
                    ) -> ContextPrior:
        obj = cls()
        obj.categorical_ = [str(d["name"]) for d in params["categorical"]]
        obj.encodings_ = {}
        for j, d in enumerate(params["categorical"]):
            values = np.asarray(arrays[f"encoding{j}"], dtype=np.float64).reshape(-1)
            if len(values) != len(d["levels"]):
                raise ValueError(f"context prior: {len(values)} encodings for "
                                 f"{len(d['levels'])} levels of {d['name']}")
            obj.encodings_[obj.categorical_[j]] = {str(lv): float(v) for lv, v in
                                                   zip(d["levels"], values, strict=True)}
        obj.numeric_ = {str(d["name"]): bool(d["missing_flag"]) for d in params["numeric"]}
        obj.C_ = float(params["C"])
        obj.intercept_ = float(params["intercept"])
        obj.target_mean_ = float(params["target_mean"])
        obj.gain_ = float(params.get("gain", 0.0))
        obj.gain_se_ = float(params.get("gain_se", 0.0))
        obj.coef_ = np.asarray(arrays["coef"], dtype=np.float64).reshape(-1)
        obj.mean_ = np.asarray(arrays["mean"], dtype=np.float64).reshape(-1)
        obj.scale_ = np.asarray(arrays["scale"], dtype=np.float64).reshape(-1)
        if obj.coef_.shape != (obj.n_features_,) or obj.mean_.shape != (len(obj.numeric_),):
            raise ValueError(f"context prior: {obj.coef_.shape[0]} coefficients for "
                             f"{obj.n_features_} columns")
        return obj


def cross_fit(conversations: Sequence[Conversation], n_splits: int = 5, seed: int = 0,
              extra: Sequence[Conversation] = (), **params: Any
              ) -> tuple[ContextPrior, list[np.ndarray], list[np.ndarray]]:
    """``(prior on all, out-of-fold logits per conversation, logits of extra)``, as
    :func:`salesrl.agent.lexical.cross_fit`: each derived conversation of ``extra`` gets the
    fold model that did not see its source (``extra['late_from']`` / ``['source']``)."""
    params.setdefault("seed", seed)
    return cross_fit_logits(lambda: ContextPrior(**params), conversations, n_splits, seed,
                            extra)


def append_context(agent: Any, conversations: Sequence[Conversation],
                   rows: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``rows`` (one ``(T_i, d)`` array per conversation, its last ``T_i`` turns) with the
    agent's context column appended when it has one (``agent.context_``); else unchanged."""
    prior = getattr(agent, "context_", None)
    if prior is None:
        return list(rows)
    z = prior.logit_of([c.metadata for c in conversations])
    return [np.concatenate([np.asarray(r, dtype=np.float32),
                            np.full((len(r), 1), zi, dtype=np.float32)], axis=1)
            for r, zi in zip(rows, z, strict=True)]
