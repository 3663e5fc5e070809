"""What an evaluation run writes: a JSON file with every number, a Markdown table, a PNG plot.

JSON layout::

    {"models": {NAME: {"prefix": {"0.25": {"auc", "brier", "brier_skill", "log_loss", "ece",
                                           "accuracy", "<metric>_std", "n", "n_folds"}, ...},
                       "turn": {"1": {...}, ...}, "fit_seconds", "predict_seconds"}},
     "references": {"oracle" | "bayes": {"prefix": ..., "turn": ...}},
     "protocol": {...}, "data": {...}}

Undefined numbers (an AUC with one class in every fold) are ``null``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from salesrl.conversation import Conversation
from salesrl.evaluation.metrics import summarize
from salesrl.evaluation.protocol import EvaluationResult


def data_summary(conversations: Sequence[Conversation], path: str | Path | None = None
                 ) -> dict[str, Any]:
    """Size, conversion rate, turn counts and sources of a labelled data set."""
    y = np.array([c.label for c in conversations], dtype=float)
    n_turns = np.array([len(c) for c in conversations], dtype=float)
    sources = sorted({c.metadata.source for c in conversations if c.metadata.source})
    out: dict[str, Any] = {
        "n_conversations": len(conversations),
        "n_converted": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else None,
        "turns_mean": float(n_turns.mean()) if len(y) else None,
        "turns_median": float(np.median(n_turns)) if len(y) else None,
        "turns_max": int(n_turns.max()) if len(y) else None,
        "sources": sources,
    }
    if path is not None:
        out["path"] = str(path)
    return out


def build_report(result: EvaluationResult, data: dict[str, Any] | None = None,
                 test_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-ready report of a run."""
    report: dict[str, Any] = summarize(result)
    report["protocol"] = dict(result.protocol)
    report["data"] = dict(data or {})
    if test_data is not None:
        report["data"]["test"] = test_data
    return _clean(report)


def _clean(obj: Any) -> Any:
    """NaN / inf -> None, numpy scalars -> Python, so the JSON is strict."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(report: dict[str, Any], path: str | Path) -> Path:
    """Write the report as strict JSON (no NaN)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(report), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def _fractions(report: dict[str, Any]) -> list[str]:
    keys: set[str] = set()
    for group in ("models", "references"):
        for entry in report.get(group, {}).values():
            keys.update(entry.get("prefix", {}))
    return sorted(keys, key=float)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(report: dict[str, Any]) -> str:
    """Rows: models then references; columns: AUC / Brier at each prefix fraction, then ECE of
    the full conversation (the last fraction)."""
    fracs = _fractions(report)
    last = fracs[-1] if fracs else None
    heads = [f"{float(k) * 100:g} % AUC / Brier" for k in fracs]
    ece_head = f"ECE ({float(last) * 100:g} %)" if last else "ECE"
    lines = ["| model | " + " | ".join([*heads, ece_head]) + " |",
             "|---|" + "---|" * (len(heads) + 1)]
    rows = [(name, entry) for name, entry in report.get("models", {}).items()]
    rows += [(f"*{name}* (reference)", entry)
             for name, entry in report.get("references", {}).items()]
    for name, entry in rows:
        cells = []
        for k in fracs:
            cell = entry.get("prefix", {}).get(k, {})
            cells.append(f"{_fmt(cell.get('auc'))} / {_fmt(cell.get('brier'))}")
        ece = entry.get("prefix", {}).get(last, {}).get("ece") if last else None
        lines.append(f"| {name} | " + " | ".join([*cells, _fmt(ece)]) + " |")
    return "\n".join(lines) + "\n"


def _protocol_line(report: dict[str, Any]) -> str:
    p = report.get("protocol", {})
    d = report.get("data", {})
    if p.get("kind") == "cross_validation":
        how = (f"stratified {p.get('n_splits')}-fold cross-validation by conversation x "
               f"{p.get('repeats')} repeats (seeds {p.get('seeds')}), mean over folds")
    else:
        how = f"train on {p.get('n_train')} conversations, test on {p.get('n_test')}"
    size = ""
    if d.get("n_conversations"):
        size = (f" on {d['n_conversations']} conversations "
                f"({d['n_converted']} converted, base rate {_fmt(d.get('base_rate'))})")
    return f"Protocol: {how}{size}; prefix f = first max(1, ceil(f * n)) turns."


def write_markdown(report: dict[str, Any], path: str | Path) -> Path:
    """The table plus one line describing the protocol."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown_table(report) + "\n" + _protocol_line(report) + "\n",
                    encoding="utf-8")
    return path


def write_plot(report: dict[str, Any], path: str | Path) -> Path:
    """AUC and Brier score against prefix fraction: one line per model, references dashed."""
    from matplotlib.figure import Figure  # Agg canvas; no pyplot, no global backend state

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fracs = _fractions(report)
    x = [float(k) * 100 for k in fracs]
    fig = Figure(figsize=(10, 4), dpi=120, layout="constrained")
    axes = fig.subplots(1, 2)
    series = [(n, e, "-", "o") for n, e in report.get("models", {}).items()]
    series += [(f"{n} (reference)", e, "--", None)
               for n, e in report.get("references", {}).items()]
    for ax, metric, title in ((axes[0], "auc", "ROC AUC (higher is better)"),
                              (axes[1], "brier", "Brier score (lower is better)")):
        for name, entry, style, marker in series:
            y = [entry.get("prefix", {}).get(k, {}).get(metric) for k in fracs]
            y = [math.nan if v is None else v for v in y]
            ax.plot(x, y, linestyle=style, marker=marker, label=name)
        ax.set_xlabel("prefix of the conversation (% of turns)")
        ax.set_title(title)
        ax.set_xticks(x)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.savefig(path)
    return path
