"""``salesrl simulate-ab``: the simulated A/B test of the offline-RL guidance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from salesrl.cli.app import app, console, friendly_errors
from salesrl.conversation import DataError


@app.command("simulate-ab")
@friendly_errors
def simulate_ab(
    json_out: Annotated[Path, typer.Option("--json", help="Where to write the result JSON.")],
    n: Annotated[int, typer.Option("--n", help="Simulated calls per arm.")] = 20_000,
    adherence: Annotated[float, typer.Option(
        "--adherence", help="Chance a rep follows the advised act on a turn.")] = 0.7,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (0 or more).")] = 0,
    n_logged: Annotated[int, typer.Option(
        "--n-logged", help="Logged control calls the advisor learns from.")] = 200_000,
    advisor_steps: Annotated[int, typer.Option(
        "--advisor-steps", help="Gradient steps of the offline CQL advisor.")] = 8000,
    ppo_steps: Annotated[int, typer.Option(
        "--ppo-steps", help="Environment steps of the online PPO reference.")] = 1_500_000,
    save_advisor: Annotated[Path | None, typer.Option(
        "--save-advisor", help="Directory to save the trained advisor in.")] = None,
) -> None:
    """Control reps vs the same reps following the offline advisor, and the PPO ceiling.

    Runs in act space (no text): in production the act tagger maps text to acts.
    """
    from salesrl.guidance.experiment import ABSettings, run_experiment

    if json_out.is_dir():
        raise DataError("is a directory, not a file", file=json_out)
    settings = ABSettings(n=n, adherence=adherence, seed=seed, n_logged=n_logged,
                          advisor_steps=advisor_steps, ppo_steps=ppo_steps)
    try:
        settings.check()
    except ValueError as exc:
        raise DataError(str(exc)) from None
    progress = Progress(TextColumn("{task.description:<24}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=console)
    tasks: dict[str, int] = {}

    def tick(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=min(done, total))

    with progress:
        result = run_experiment(settings, tick,
                                str(save_advisor) if save_advisor is not None else None)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    lo, hi = result["uplift_ci"]
    console.print(
        f"control {result['control_rate']:.2%}  advisor {result['treatment_rate']:.2%}  "
        f"uplift {result['relative_uplift']:+.1%} (95% CI {lo:+.1%} to {hi:+.1%})  "
        f"PPO uplift {result['ppo_relative_uplift']:+.1%}  hidden-state ceiling "
        f"{result['hidden_state_ceiling_relative_uplift']:+.1%}  -> {json_out}",
        highlight=False, soft_wrap=True)
