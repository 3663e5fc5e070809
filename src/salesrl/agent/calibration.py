"""Post-hoc calibration of the agent's logits on a validation split.

Two maps of the logit ``z``: temperature scaling ``z / T`` (Guo et al., "On Calibration of
Modern Neural Networks", ICML 2017) and Platt scaling ``a z + b`` (Platt, 1999), fitted with
sklearn's ``LogisticRegression``. :func:`fit_calibrator` with ``method="auto"`` picks among
identity, temperature and Platt by the Brier score of cross-fitted predictions (group k-fold
over conversations, so the rows of one conversation never sit on both sides), then refits
the winner on all validation rows.

When the caller's rows carry extra evidence columns (the lexical logit of
:mod:`salesrl.agent.lexical`), ``"stack"`` is one more candidate: a logistic regression over
``[z, extra]`` on the validation rows (stacking, Wolpert 1992), so a strong input the network
under-uses still gets its weight. The extra columns there are out-of-fold, as at test time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from salesrl.agent.config import CalibrationMethod

_METHODS = ("none", "temperature", "platt")
_ALL = (*_METHODS, "stack")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _nll(z: np.ndarray, y: np.ndarray) -> float:
    # log(1 + e^z) - y z, stable
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def fit_temperature(z: np.ndarray, y: np.ndarray) -> float:
    """The temperature ``T`` minimising the log loss of ``sigmoid(z / T)``."""
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda lt: _nll(z / np.exp(lt), y), bounds=(-4.0, 4.0),
                          method="bounded", options={"xatol": 1e-5})
    return float(np.exp(res.x))


def fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of Platt scaling ``sigmoid(a z + b)`` (nearly unregularised)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=1000).fit(z.reshape(-1, 1), y.astype(int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


@dataclass
class Calibrator:
    """A fitted affine map of the logit: ``z -> slope * z + intercept (+ extra @ weights)``.

    ``z`` may be ``(n,)`` or ``(n, K)`` (one column per ensemble member); ``extra`` is
    ``(n, m)`` and only used by the ``"stack"`` method (``extra_weights`` non-empty).
    """

    method: str = "none"
    slope: float = 1.0
    intercept: float = 0.0
    cv_brier: dict[str, float] = field(default_factory=dict)
    extra_weights: list[float] = field(default_factory=list)

    def apply(self, z: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        out = self.slope * np.asarray(z, dtype=np.float64) + self.intercept
        if self.extra_weights:
            if extra is None:
                raise ValueError("this calibrator stacks extra evidence columns; pass extra")
            lin = np.asarray(extra, dtype=np.float64) @ np.asarray(self.extra_weights)
            out = out + (lin[:, None] if out.ndim == 2 else lin)
        return out

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "slope": self.slope, "intercept": self.intercept,
                "cv_brier": self.cv_brier, "extra_weights": list(self.extra_weights)}

    @classmethod
    def from_dict(cls, d: dict) -> Calibrator:
        return cls(str(d["method"]), float(d["slope"]), float(d["intercept"]),
                   {k: float(v) for k, v in dict(d.get("cv_brier", {})).items()},
                   [float(v) for v in d.get("extra_weights", [])])


def _fit_one(method: str, z: np.ndarray, y: np.ndarray,
             extra: np.ndarray | None = None) -> Calibrator:
    if method == "stack" and extra is not None:
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e2, max_iter=1000).fit(np.column_stack([z, extra]),
                                                          y.astype(int))
        w = lr.coef_[0]
        return Calibrator("stack", float(w[0]), float(lr.intercept_[0]), {},
                          [float(v) for v in w[1:]])
    if method == "temperature":
        return Calibrator("temperature", 1.0 / fit_temperature(z, y), 0.0)
    if method == "platt":
        a, b = fit_platt(z, y)
        return Calibrator("platt", a, b)
    return Calibrator("none")


def fit_calibrator(z: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None,
                   method: CalibrationMethod = "auto", n_splits: int = 5,
                   extra: np.ndarray | None = None) -> Calibrator:
    """Fit the calibration map on validation logits ``z`` and outcomes ``y`` (and the rows'
    ``extra`` evidence columns, which make ``"stack"`` a candidate of ``"auto"``).

    ``groups`` (conversation index per row) keeps each conversation within one fold when
    ``method="auto"`` compares the candidates. Falls back to the identity when the
    validation rows hold a single class.
    """
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if method == "none" or len(np.unique(y)) < 2 or len(y) < 10:
        return Calibrator("none")
    if extra is not None:
        extra = np.asarray(extra, dtype=np.float64).reshape(len(z), -1)
        if extra.shape[1] == 0:
            extra = None
    if method != "auto":
        if method not in _ALL:
            raise ValueError(f"unknown calibration {method!r}; choose auto, temperature, "
                             "platt, stack or none")
        return _fit_one(method, z, y, extra)
    from sklearn.model_selection import GroupKFold

    groups = np.arange(len(z)) if groups is None else np.asarray(groups)
    k = min(n_splits, len(np.unique(groups)))
    if k < 2:
        return Calibrator("none")
    methods = _ALL if extra is not None else _METHODS
    sq = {m: 0.0 for m in methods}
    for tr, te in GroupKFold(n_splits=k).split(z, y, groups):
        if len(np.unique(y[tr])) < 2:
            for m in methods:
                sq[m] += float(np.sum((_sigmoid(z[te]) - y[te]) ** 2))
            continue
        for m in methods:
            cal = _fit_one(m, z[tr], y[tr], None if extra is None else extra[tr])
            out = cal.apply(z[te], None if extra is None else extra[te])
            sq[m] += float(np.sum((_sigmoid(out) - y[te]) ** 2))
    brier = {m: sq[m] / len(z) for m in methods}
    best = min(methods, key=lambda m: (brier[m], methods.index(m)))
    cal = _fit_one(best, z, y, extra)
    cal.cv_brier = brier
    return cal
