"""``salesrl evaluate``: cross-validate conversion predictors on labelled conversations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesrl.cli.app import app, console, friendly_errors
from salesrl.cli.protocol_run import run_with_progress
from salesrl.conversation import read_jsonl


def _models(names: list[str]) -> list[str]:
    from salesrl.evaluation.predictor import available

    choices = available()
    if "all" in names:
        return list(choices)
    unknown = [n for n in names if n not in choices]
    if unknown:
        raise typer.BadParameter(
            f"unknown model {unknown[0]!r}; choose from: {', '.join(['all', *choices])}",
            param_hint="'--model'")
    return list(dict.fromkeys(names))


@app.command()
@friendly_errors
def evaluate(
    data: Annotated[Path, typer.Option("--data", help="Labelled salesrl JSONL.")],
    model: Annotated[list[str], typer.Option(
        "--model", help="Registered model name (repeatable), or 'all'.")],
    cv: Annotated[int, typer.Option("--cv", min=2, help="Number of folds.")] = 5,
    repeats: Annotated[int, typer.Option(
        "--repeats", min=1, help="Repeats of the k-fold split (seeds 0..repeats-1).")] = 3,
    test: Annotated[Path | None, typer.Option(
        "--test", help="Labelled JSONL to test on; then --data is the training set, no CV.")
    ] = None,
    max_turn: Annotated[int, typer.Option(
        "--max-turn", min=0, help="Also score absolute turns 1..N.")] = 30,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every number.")] = None,
    markdown_out: Annotated[Path | None, typer.Option(
        "--markdown", help="Write the Markdown table.")] = None,
    plot_out: Annotated[Path | None, typer.Option(
        "--plot", help="Write a PNG of AUC and Brier against prefix fraction.")] = None,
    confidence: Annotated[bool, typer.Option(
        "--confidence", help="Also cross-validate the confidence model (selective accuracy, "
        "AURC, interval coverage) into the report's 'confidence' section.")] = False,
) -> None:
    """Score each model's P(conversion) at 25/50/75/100 % of every conversation and per turn."""
    from salesrl.evaluation.report import (
        markdown_table,
        write_json,
        write_markdown,
        write_plot,
    )

    names = _models(model)
    if confidence and test is not None:
        raise typer.BadParameter("--confidence needs cross-validation; drop --test",
                                 param_hint="'--confidence'")
    conversations = read_jsonl(data, require_outcome=True)
    test_convs = read_jsonl(test, require_outcome=True) if test is not None else None

    result, report = run_with_progress(
        names, conversations, data, test_convs=test_convs, test=test, n_splits=cv,
        repeats=repeats, max_turn=max_turn, label="evaluating")
    if confidence:
        from salesrl.evaluation.confidence_eval import confidence_report, summary_line

        report["confidence"] = confidence_report(conversations, n_splits=cv,
                                                 repeats=repeats, max_turn=max_turn)
    console.print(markdown_table(report), highlight=False, soft_wrap=True, markup=False)
    console.print(f"{len(names)} model(s), {len(result.folds)} fold(s), "
                  f"{report['protocol']['seconds']:.1f} s")
    if confidence:
        console.print(summary_line(report["confidence"]), highlight=False, markup=False)
    for out, writer in ((json_out, write_json), (markdown_out, write_markdown),
                        (plot_out, write_plot)):
        if out is not None:
            writer(report, out)
            console.print(f"wrote {out}")
