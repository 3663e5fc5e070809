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

When the caller also passes each row's ``log(1 + turns so far)`` (the state tracker's
``sig_n_turns`` column), ``"platt_turn"`` and ``"stack_turn"`` are candidates too: the same maps
plus ``c1 * z * log(1 + t) + c2 * log(1 + t)``, so the slope and the offset change with the
length of the prefix. A forecaster is over-confident early and under-confident late in a
different measure than one global slope can fix (Platt scaling with a covariate, in the spirit
of Kull et al., "Beyond sigmoids", 2017).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from salesrl.agent.config import CalibrationMethod

_METHODS = ("none", "temperature", "platt")
_ALL = (*_METHODS, "stack", "platt_turn", "stack_turn")
_TURN_METHODS = ("platt_turn", "stack_turn")


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
    """A fitted affine map of the logit:
    ``z -> slope * z + intercept (+ extra @ extra_weights) (+ (a * z + b) * log_turns)``.

    ``z`` may be ``(n,)`` or ``(n, K)`` (one column per ensemble member); ``extra`` is
    ``(n, m)`` and only used by the stacking methods (``extra_weights`` non-empty);
    ``log_turns`` is ``(n,)``, ``log(1 + turns so far)``, only used by the turn-aware methods
    (``turn_weights = [a, b]``), read from column ``turn_column`` of the caller's rows.
    """

    method: str = "none"
    slope: float = 1.0
    intercept: float = 0.0
    cv_brier: dict[str, float] = field(default_factory=dict)
    extra_weights: list[float] = field(default_factory=list)
    turn_weights: list[float] = field(default_factory=list)
    turn_column: int = -1

    @property
    def uses_turns(self) -> bool:
        return bool(self.turn_weights)

    def apply(self, z: np.ndarray, extra: np.ndarray | None = None,
              log_turns: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        out = self.slope * z + self.intercept
        if self.extra_weights:
            if extra is None:
                raise ValueError("this calibrator stacks extra evidence columns; pass extra")
            lin = np.asarray(extra, dtype=np.float64) @ np.asarray(self.extra_weights)
            out = out + (lin[:, None] if out.ndim == 2 else lin)
        if self.turn_weights:
            if log_turns is None:
                raise ValueError("this calibrator reads the turn count; pass log_turns")
            lt = np.asarray(log_turns, dtype=np.float64).reshape(-1)
            if out.ndim == 2:
                lt = lt[:, None]
            a, b = self.turn_weights
            out = out + (a * z + b) * lt
        return out

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "slope": self.slope, "intercept": self.intercept,
                "cv_brier": self.cv_brier, "extra_weights": list(self.extra_weights),
                "turn_weights": list(self.turn_weights), "turn_column": self.turn_column}

    @classmethod
    def from_dict(cls, d: dict) -> Calibrator:
        return cls(str(d["method"]), float(d["slope"]), float(d["intercept"]),
                   {k: float(v) for k, v in dict(d.get("cv_brier", {})).items()},
                   [float(v) for v in d.get("extra_weights", [])],
                   [float(v) for v in d.get("turn_weights", [])],
                   int(d.get("turn_column", -1)))


def _fit_one(method: str, z: np.ndarray, y: np.ndarray, extra: np.ndarray | None = None,
             log_turns: np.ndarray | None = None) -> Calibrator:
    stack = method in ("stack", "stack_turn") and extra is not None
    by_turn = method in _TURN_METHODS and log_turns is not None
    if stack or by_turn:
        from sklearn.linear_model import LogisticRegression

        cols = [z[:, None]]
        if stack:
            cols.append(extra)
        if by_turn:
            cols += [(z * log_turns)[:, None], log_turns[:, None]]
        # mild L2 (C=100): with a few thousand rows the extra slopes are well determined
        lr = LogisticRegression(C=1e2, max_iter=1000).fit(np.hstack(cols), y.astype(int))
        w = lr.coef_[0]
        n_extra = extra.shape[1] if stack else 0
        return Calibrator(method, float(w[0]), float(lr.intercept_[0]), {},
                          [float(v) for v in w[1 : 1 + n_extra]],
                          [float(v) for v in w[1 + n_extra :]] if by_turn else [])
    if method == "temperature":
        return Calibrator("temperature", 1.0 / fit_temperature(z, y), 0.0)
    if method == "platt":
        a, b = fit_platt(z, y)
        return Calibrator("platt", a, b)
    return Calibrator("none")


def fit_calibrator(z: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None,
                   method: CalibrationMethod = "auto", n_splits: int = 5,
                   extra: np.ndarray | None = None,
                   log_turns: np.ndarray | None = None) -> Calibrator:
    """Fit the calibration map on validation logits ``z`` and outcomes ``y`` (and the rows'
    ``extra`` evidence columns, which make ``"stack"`` a candidate of ``"auto"``, and their
    ``log_turns``, which make the turn-aware methods candidates).

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
    if log_turns is not None:
        log_turns = np.asarray(log_turns, dtype=np.float64).reshape(-1)
        if len(log_turns) != len(z):
            raise ValueError(f"log_turns has {len(log_turns)} rows, the logits {len(z)}")
    if method != "auto":
        if method not in _ALL:
            raise ValueError(f"unknown calibration {method!r}; choose auto, "
                             f"{', '.join(_ALL[1:])} or none")
        if method in _TURN_METHODS and log_turns is None:
            raise ValueError(f"calibration {method!r} needs the rows' turn counts")
        return _fit_one(method, z, y, extra, log_turns)
    from sklearn.model_selection import GroupKFold

    groups = np.arange(len(z)) if groups is None else np.asarray(groups)
    k = min(n_splits, len(np.unique(groups)))
    if k < 2:
        return Calibrator("none")
    methods = _METHODS + (("stack",) if extra is not None else ())
    if log_turns is not None:
        methods += ("platt_turn",) + (("stack_turn",) if extra is not None else ())
    sq = {m: 0.0 for m in methods}
    for tr, te in GroupKFold(n_splits=k).split(z, y, groups):
        if len(np.unique(y[tr])) < 2:
            for m in methods:
                sq[m] += float(np.sum((_sigmoid(z[te]) - y[te]) ** 2))
            continue
        lt_tr, lt_te = (None, None) if log_turns is None else (log_turns[tr], log_turns[te])
        for m in methods:
            cal = _fit_one(m, z[tr], y[tr], None if extra is None else extra[tr], lt_tr)
            out = cal.apply(z[te], None if extra is None else extra[te], lt_te)
            sq[m] += float(np.sum((_sigmoid(out) - y[te]) ** 2))
    brier = {m: sq[m] / len(z) for m in methods}
    best = min(methods, key=lambda m: (brier[m], methods.index(m)))
    cal = _fit_one(best, z, y, extra, log_turns)
    cal.cv_brier = brier
    return cal
