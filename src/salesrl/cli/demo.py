"""``salesrl demo``: the main job end to end on the embedded defaults (what ``make demo`` runs).

Generates synthetic sales conversations, then evaluates the strongest baseline by
cross-validation on them and on the vendored PersuasionForGood dialogues, and prints both
tables; then loads the agent shipped with the package (``salesrl.load()``) and analyses a short
built-in sales call turn by turn. Small sizes so it finishes in a minute or two on a laptop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesrl.cli.app import app, console, friendly_errors

#: the call ``salesrl demo`` analyses with the shipped agent
EXAMPLE_CALL = """\
Rep: Hi Dana, thanks for making time today. How are things going with the team?
Customer: Busy, honestly. We're still doing all our reporting in spreadsheets.
Rep: How long does the month-end report take you right now?
Customer: About three days, and it's always a scramble.
Rep: What would it mean for you to get that down to a few hours?
Customer: That would be huge. But I'm worried about the price, our budget is tight this year.
Rep: I understand. Most teams your size start on the standard plan, and I can offer 20% off
the first year.
Customer: That helps. How long does setup take?
Rep: About two weeks, and we handle the data migration for you.
Customer: OK, that sounds good. Send me the proposal and I'll get it signed this week.
"""


def analyze_example(model: Path | None = None) -> None:
    """Load the shipped agent (or ``model``) and print the turn table of :data:`EXAMPLE_CALL`."""
    from salesrl.cli.analyze import footer, load_model, turn_table
    from salesrl.conversation.plaintext import parse_plaintext

    with console.status("loading the agent"):
        agent = load_model(model, "--agent")
        conv = parse_plaintext(EXAMPLE_CALL, conversation_id="example call")
        updates = agent.analyze(conv)
    console.print(f"\n[bold]the agent[/] ({agent.model_version}, {agent.embedding_backend}) on "
                  "a short sales call:")
    console.print(turn_table(conv, updates))
    console.print(footer(agent, updates[-1] if updates else None), highlight=False)


@app.command()
@friendly_errors
def demo(
    n: Annotated[int, typer.Option("-n", min=50, help="synthetic conversations")] = 2000,
    model: Annotated[str, typer.Option(help="registered model to evaluate")] = "tfidf_roles",
    out: Annotated[Path, typer.Option(help="folder for the reports")] = Path("runs/demo"),
    seed: Annotated[int, typer.Option(help="seed of the generator")] = 0,
    baselines: Annotated[bool, typer.Option(help="run the baseline evaluation")] = True,
    agent: Annotated[Path | None, typer.Option(
        "--agent", help="model directory to analyse the example call with (default: shipped)")
    ] = None,
) -> None:
    """Evaluate a baseline on synthetic and real conversations; analyse a call with the agent."""
    if baselines:
        _baselines(n, model, out, seed)
    analyze_example(agent)


def _baselines(n: int, model: str, out: Path, seed: int) -> None:
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
