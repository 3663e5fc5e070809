"""``salesrl convert``: import real conversations (P4G, CraigslistBargain, CSV) into JSONL."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from salesrl.cli.app import app, console, friendly_errors, warnings_as_lines
from salesrl.conversation import DataError, Outcome, write_jsonl
from salesrl.importers import IMPORTERS, DataWarning


class Source(StrEnum):
    """The ``--from`` choices; each is a key of ``salesrl.importers.IMPORTERS``."""

    P4G = "p4g"
    P4G_TRAITS = "p4g-traits"
    P4G_ANNOTATED = "p4g-annotated"
    CRAIGSLIST = "craigslist"
    CSV = "csv"


def parse_mapping(text: str | None, option: str) -> dict[str, str] | None:
    """``"agent=rep,client=customer"`` -> ``{"agent": "rep", "client": "customer"}``."""
    if text is None:
        return None
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise DataError(f"expected VALUE=TARGET pairs separated by commas, got {item!r}",
                            field=option)
        out[key.strip()] = value.strip()
    return out


@app.command()
@friendly_errors
def convert(
    input_path: Path = typer.Argument(..., metavar="INPUT", help=(
        "p4g: the folder holding full_dialog.csv and full_info.csv (or its parent); "
        "p4g-traits: the same, with the persuadee's survey traits as customer metadata; "
        "p4g-annotated: the folder holding 300_dialog.xlsx and 300_info.xlsx (or its parent); "
        "craigslist: the release JSON file; csv: the CSV file.")),
    source: Source = typer.Option(..., "--from", help="Input format."),
    output: Path = typer.Option(..., "-o", "--output", help="Output salesrl JSONL file."),
    id_col: str = typer.Option("id", help="csv: conversation id column."),
    role_col: str = typer.Option("role", help="csv: speaker role column."),
    text_col: str = typer.Option("text", help="csv: utterance text column."),
    time_col: str | None = typer.Option(None, help="csv: optional time column (s or ISO 8601)."),
    outcome_col: str | None = typer.Option(None, help="csv: optional outcome column."),
    role_map: str | None = typer.Option(
        None, help="csv: role values, e.g. agent=rep,client=customer."),
    outcome_map: str | None = typer.Option(
        None, help="csv: outcome values, e.g. won=converted,lost=not_converted."),
) -> None:
    """Convert real conversations into salesrl JSONL; prints the count and conversion rate."""
    options: dict[str, object] = {}
    csv_flags = {"--id-col": id_col != "id", "--role-col": role_col != "role",
                 "--text-col": text_col != "text", "--time-col": time_col is not None,
                 "--outcome-col": outcome_col is not None, "--role-map": role_map is not None,
                 "--outcome-map": outcome_map is not None}
    if source is Source.CSV:
        options = dict(id_col=id_col, role_col=role_col, text_col=text_col, time_col=time_col,
                       outcome_col=outcome_col, role_map=parse_mapping(role_map, "--role-map"),
                       outcome_map=parse_mapping(outcome_map, "--outcome-map"))
    elif any(csv_flags.values()):
        used = ", ".join(flag for flag, given in csv_flags.items() if given)
        raise DataError(f"{used} only apply to --from csv", field="--from")

    with warnings_as_lines(DataWarning):
        conversations = IMPORTERS[source.value](input_path, **options)

    try:
        n = write_jsonl(conversations, output)
    except OSError as exc:
        raise DataError(f"cannot write ({exc.strerror or exc})", file=output) from None

    converted = sum(c.outcome is Outcome.CONVERTED for c in conversations)
    unknown = sum(c.outcome is Outcome.UNKNOWN for c in conversations)
    known = n - unknown
    turns = sum(len(c) for c in conversations)
    rate = f"{100 * converted / known:.1f} %" if known else "n/a"
    console.print(f"Wrote {n} conversations ({turns} turns) to {output}", highlight=False)
    console.print(f"converted {converted} / {known} with a known outcome: conversion rate {rate}"
                  + (f"; {unknown} unknown" if unknown else ""), highlight=False)
