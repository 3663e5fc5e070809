"""``salesrl ablate``: the agent's ablation table (full recipe vs one piece removed, basic ML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from salesrl.cli.app import app, console, friendly_errors
from salesrl.cli.protocol_run import run_with_progress
from salesrl.conversation import read_jsonl


def ablation_table(report: dict[str, Any], descriptions: dict[str, str]) -> Table:
    """Rich table: one row per variant, AUC / Brier per prefix fraction, fit seconds."""
    models = report.get("models", {})
    fracs = sorted({k for e in models.values() for k in e.get("prefix", {})}, key=float)
    table = Table(title="Ablations (mean over folds)")
    table.add_column("variant")
    for k in fracs:
        table.add_column(f"{float(k) * 100:g} % AUC / Brier", justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("what", style="dim")

    def fmt(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    for name, entry in models.items():
        cells = [f"{fmt(entry['prefix'].get(k, {}).get('auc'))} / "
                 f"{fmt(entry['prefix'].get(k, {}).get('brier'))}" for k in fracs]
        fit = entry.get("fit_seconds")
        table.add_row(name, *cells, "–" if fit is None else f"{fit:.0f}",
                      descriptions.get(name, ""))
    return table


@app.command()
@friendly_errors
def ablate(
    data: Annotated[Path, typer.Option("--data", help="Labelled salesrl JSONL.")],
    folds: Annotated[int, typer.Option("--folds", min=2, help="Number of folds.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Repeats of the split.")] = 1,
    preset: Annotated[str, typer.Option(
        "--preset", help="Agent preset: auto (as the registered agent: small below 5,000 "
        "conversations, large from 10,000, else fast), fast, small, large or default.")
    ] = "auto",
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help="Only these variants (repeatable); default: all.")] = None,
    test: Annotated[Path | None, typer.Option(
        "--test", help="Labelled JSONL to test on; then --data is the training set, no CV.")
    ] = None,
    max_turn: Annotated[int, typer.Option(
        "--max-turn", min=0, help="Also score absolute turns 1..N.")] = 0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every number.")] = None,
    override: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a TrainConfig field of every agent variant, KEY=VALUE "
        "(JSON value), e.g. --set ppo_steps=256 (repeatable).")] = None,
) -> None:
    """Score the agent with one piece removed at a time, and basic ML, on the same folds."""
    from salesrl.agent.ablation import VARIANTS, agent_factories
    from salesrl.agent.predictor import preset_for
    from salesrl.evaluation.report import write_json

    if preset not in ("auto", "fast", "small", "large", "default"):
        raise typer.BadParameter(f"unknown preset {preset!r}; choose auto, fast, small, large "
                                 "or default", param_hint="'--preset'")
    overrides: dict[str, Any] = {}
    for item in override or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--set'")
        try:
            overrides[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key.strip()] = raw
    conversations = read_jsonl(data, require_outcome=True)
    if preset == "auto":
        preset = preset_for(len(conversations))
    try:
        factories = agent_factories(preset, variant or None, overrides=overrides)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="'--variant' / '--set'") from err
    test_convs = read_jsonl(test, require_outcome=True) if test is not None else None

    result, report = run_with_progress(
        factories, conversations, data, test_convs=test_convs, test=test, n_splits=folds,
        repeats=repeats, max_turn=max_turn, label="ablating")
    report["protocol"]["preset"] = preset
    report["variants"] = {k: VARIANTS[k] for k in factories}
    console.print(ablation_table(report, VARIANTS))
    console.print(f"{len(factories)} variant(s), {len(result.folds)} fold(s), "
                  f"{report['protocol']['seconds']:.1f} s")
    if json_out is not None:
        write_json(report, json_out)
        console.print(f"wrote {json_out}")
