"""``salesrl generate``: write synthetic sales conversations to a JSONL file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from salesrl.cli.app import app, console, friendly_errors
from salesrl.conversation import DataError
from salesrl.synth import SimulatorConfig, generate_to_jsonl


@app.command()
@friendly_errors
def generate(
    n: int = typer.Option(1000, "-n", "--n", help="How many conversations to generate."),
    seed: int = typer.Option(0, "--seed", help="Random seed (0 or more); same seed, same file."),
    output: Path = typer.Option(..., "-o", "--output", help="The JSONL file to write."),
    batch_size: int = typer.Option(1024, "--batch-size",
                                   help="Conversations simulated together (part of the seed)."),
    untimed_share: float = typer.Option(
        0.0, "--untimed-share", min=0.0, max=1.0,
        help="Share of conversations written without turn times (like chat or email logs)."),
) -> None:
    """Generate synthetic sales conversations with act labels and reference probabilities."""
    try:
        config = SimulatorConfig(batch_size=batch_size, untimed_share=untimed_share)
    except ValueError as exc:
        raise DataError(str(exc), field="batch_size") from None
    progress = Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)
    with progress:
        task = progress.add_task("generate", total=max(n, 0))
        stats = generate_to_jsonl(output, n, seed, config,
                                  on_progress=lambda done: progress.update(task, completed=done))
    rate = f"{stats.conversion_rate:.1%}" if stats.n else "n/a"
    console.print(f"Wrote {stats.n:,} conversations to {output}: conversion rate {rate}, "
                  f"{stats.per_second:,.0f} conversations/s", highlight=False, soft_wrap=True)
