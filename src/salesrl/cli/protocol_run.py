"""The evaluation protocol behind a progress bar, shared by ``evaluate`` and ``ablate``."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from salesrl.cli.app import console
from salesrl.conversation import Conversation


def run_with_progress(models: Sequence[str] | Mapping[str, Any],
                      conversations: Sequence[Conversation], data: Path, *,
                      test_convs: Sequence[Conversation] | None, test: Path | None,
                      n_splits: int, repeats: int, max_turn: int,
                      label: str = "evaluating") -> tuple[Any, dict[str, Any]]:
    """Run :func:`salesrl.evaluation.protocol.evaluate` with a rich progress bar; return its
    result and the report (:func:`~salesrl.evaluation.report.build_report`) with the wall
    time in ``report["protocol"]["seconds"]``."""
    from salesrl.evaluation.protocol import evaluate as run_protocol
    from salesrl.evaluation.report import build_report, data_summary

    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def tick(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        result = run_protocol(models, conversations, test=test_convs, n_splits=n_splits,
                              repeats=repeats, max_turn=max_turn, progress=tick)
    report = build_report(
        result, data=data_summary(conversations, data),
        test_data=data_summary(test_convs, test) if test_convs is not None else None)
    report["protocol"]["seconds"] = round(time.perf_counter() - started, 2)
    return result, report
