"""``salesrl train``: fit the RL agent on labelled conversations and save a model directory."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from salesrl.cli.app import app, console, friendly_errors
from salesrl.conversation import DataError, read_jsonl


class Preset(StrEnum):
    auto = "auto"
    default = "default"
    fast = "fast"
    small = "small"
    large = "large"


class Backend(StrEnum):
    """The offline backends (the online ones cost money per training run; use the API)."""

    minilm = "minilm"
    minilm_q8 = "minilm-q8"
    wordllama = "wordllama"
    hashing = "hashing"


_LABELS = {"embedding": "embedding distinct turns", "encoding": "building state rows",
           "adversarial-embedding": "embedding counter-examples",
           "adversarial": "counter-example state rows", "training": "training the agent",
           "confidence": "confidence: fold agents", "guide": "guide: offline advisor"}


@app.command()
@friendly_errors
def train(
    data: Annotated[Path, typer.Option("--data", help="Labelled salesrl JSONL.")],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    preset: Annotated[Preset, typer.Option(help=(
        "Training recipe: auto (the one `salesrl evaluate --model agent` measures: small "
        "below 5,000 conversations, fast up to 10,000, large from there, with the lexical "
        "and context columns); default; fast (smaller nets, 3 members, short PPO); small "
        "(fast, narrower and more regularised, with a linear base: up to a few thousand "
        "conversations); large (fast with a training budget that does not grow with the "
        "data, members sharing one copy of the rows: tens of thousands of conversations)."
        ))] = Preset.auto,
    embedding: Annotated[Backend, typer.Option(help="Turn embedding backend.")] = Backend.minilm,
    seed: Annotated[int, typer.Option(min=0, help="Seed of splits, members and PPO.")] = 0,
    lexical: Annotated[bool | None, typer.Option(
        "--lexical/--no-lexical",
        help="Add the cross-fitted lexical-evidence column (role-aware TF-IDF logit) "
        "[default: with --preset auto].", show_default=False)] = None,
    context: Annotated[bool | None, typer.Option(
        "--context/--no-context",
        help="Add the cross-fitted context-prior column: P(sale) from each call's metadata "
        "(rep, industry, channel, product, metadata.extra fields), never its turns; left out "
        "when the metadata say nothing [default: with --preset auto].",
        show_default=False)] = None,
    confidence_folds: Annotated[int, typer.Option(
        min=0, help="Folds of extra agents whose out-of-fold predictions the confidence "
        "module learns from (0: no confidence module).")] = 3,
    guide: Annotated[bool | None, typer.Option(
        "--guide/--no-guide", help="Train the next-move guide (tagger + offline advisor) "
        "from the turns' act labels [default: when every turn has one].",
        show_default=False)] = None,
    guide_steps: Annotated[int, typer.Option(min=100, help="Offline CQL steps of the "
                                             "advisor.")] = 8000,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a TrainConfig field, KEY=VALUE (repeatable), e.g. "
        "--set ensemble_size=3.")] = None,
) -> None:
    """Train the SalesRL agent (warm start + conservative PPO ensemble) and save it."""
    from salesrl.agent.config import TrainConfig
    from salesrl.agent.pipeline import parse_overrides, train_agent

    overrides = parse_overrides(set_ or [])
    try:  # bad values fail here, before any data is read ("auto" resolves to one of these)
        check = "fast" if preset is Preset.auto else preset.value
        TrainConfig.preset(check, seed=seed, **overrides).validate()
    except (TypeError, ValueError) as exc:
        raise DataError(str(exc), field="--set") from None
    conversations = read_jsonl(data, require_outcome=True)
    columns = (SpinnerColumn(), TextColumn("{task.description:<26}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, int] = {}

        def tick(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                for tid in tasks.values():  # a new stage finishes the previous ones
                    task = bars.tasks[tid]
                    if task.total is not None:
                        bars.update(tid, completed=task.total)
                    else:
                        bars.update(tid, total=1, completed=1)
                tasks[stage] = bars.add_task(_LABELS.get(stage, stage), total=total)
            bars.update(tasks[stage], completed=done, total=total)

        model = train_agent(conversations, preset=preset.value, embedding=embedding.value,
                            seed=seed, overrides=overrides, out=out, source=data,
                            lexical=lexical, context=context,
                            confidence_folds=confidence_folds,
                            guide=guide, guide_steps=guide_steps, progress=tick)
        for tid in tasks.values():  # close the last stage
            task = bars.tasks[tid]
            bars.update(tid, total=task.total or 1, completed=task.total or 1)
    card = model.card
    d, s = card["data"], card["seconds"]
    console.print(
        f"Trained on {d['conversations']:,} conversations ({d['turns']:,} turns, "
        f"{d['unique_turns']:,} distinct) with preset {card['preset']!r}"
        f"{' (auto)' if preset is Preset.auto else ''}, lexical column "
        f"{'on' if card['lexical'] else 'off'}, context column "
        f"{'on' if card['context'] else 'off'}, embedding "
        f"{embedding.value!r}, {card['ensemble_size']} member(s): encoding {s['encoding']} s, "
        f"training {s['training']} s.", highlight=False, soft_wrap=True)
    if card.get("confidence"):
        v = card["confidence"]["validation"]
        console.print(f"Confidence module: {confidence_folds} fold agents "
                      f"({s['confidence']} s); out-of-fold accuracy {v['accuracy']:.3f} over "
                      f"{v['rows']:,} turns.", highlight=False, soft_wrap=True)
    if card.get("guide"):
        console.print(f"Guide: tagger, offline advisor ({guide_steps} steps) and examples "
                      f"({s['guide']} s).", highlight=False)
    elif guide is None:
        console.print("[dim]No guide: the training turns carry no act labels "
                      "(annotations.acts), so next moves are not available.[/]",
                      highlight=False)
    console.print(f"Wrote {out}/", highlight=False, soft_wrap=True)
