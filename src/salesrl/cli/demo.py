"""``salesrl demo``: the main job end to end on the embedded defaults (what ``make demo`` runs).

Generates synthetic sales conversations, then evaluates the strongest baseline by
cross-validation on them and on the vendored PersuasionForGood dialogues, and prints both
tables. Small sizes so it finishes in a minute or two on a laptop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesrl.cli.app import app, console, friendly_errors


@app.command()
@friendly_errors
def demo(
    n: Annotated[int, typer.Option("-n", min=50, help="synthetic conversations")] = 2000,
    model: Annotated[str, typer.Option(help="registered model to evaluate")] = "tfidf_roles",
    out: Annotated[Path, typer.Option(help="folder for the reports")] = Path("runs/demo"),
    seed: Annotated[int, typer.Option(help="seed of the generator")] = 0,
) -> None:
    """Generate, evaluate on synthetic and real conversations, print the results."""
    from salesrl.evaluation.protocol import evaluate
    from salesrl.evaluation.report import (
        build_report,
        data_summary,
        markdown_table,
        write_json,
        write_plot,
    )
    from salesrl.importers.persuasionforgood import default_persuasionforgood
    from salesrl.synth import generate

    out.mkdir(parents=True, exist_ok=True)
    datasets = {}
    with console.status(f"generating {n:,} synthetic conversations"):
        datasets["synthetic"] = generate(n, seed)
    with console.status("loading PersuasionForGood"):
        datasets["persuasionforgood"] = default_persuasionforgood()

    for name, convs in datasets.items():
        with console.status(f"{model} on {name}: 5-fold cross-validation by conversation"):
            result = evaluate([model], convs, n_splits=5, repeats=1)
        report = build_report(result, data=data_summary(convs))
        write_json(report, out / f"{name}.json")
        write_plot(report, out / f"{name}.png")
        rate = sum(c.label for c in convs) / len(convs)
        console.print(f"\n[bold]{name}[/]: {len(convs):,} conversations, "
                      f"{rate:.1%} converted; AUC / Brier by share of turns seen")
        console.print(markdown_table(report), markup=False, highlight=False, soft_wrap=True)
    console.print(f"reports written to {out}/")
