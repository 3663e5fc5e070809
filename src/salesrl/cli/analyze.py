"""``salesrl analyze``: P(sale) after every turn of one or more conversations."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from salesrl.cli.app import app, console, friendly_errors, limit_thread_pools, warnings_as_lines
from salesrl.conversation import Conversation, DataError, parse_conversation, read_jsonl
from salesrl.conversation.plaintext import parse_plaintext

if TYPE_CHECKING:
    from salesrl.agent.api import SalesAgent, TurnUpdate

TEXT_WIDTH = 56
# what the table's other columns, padding and borders take
FIXED_WIDTH = 76
# "need payoff question (+13.3 pt)" on one line
NEXT_MOVE_WIDTH = 32


def read_conversations(path: Path) -> list[Conversation]:
    """A ``.jsonl`` file (one or many), a JSON conversation (or a list of them), or plain
    ``Rep:`` / ``Customer:`` text; ``-`` reads standard input. The format is chosen by the
    suffix, else by the first character (``{`` or ``[``: JSON)."""
    if str(path) == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        if not path.is_file():
            raise DataError("file not found", file=path)
        if path.suffix.lower() == ".jsonl":
            return read_jsonl(path)
        try:
            text, name = path.read_text(encoding="utf-8"), str(path)
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text ({exc.reason})", file=path) from None
    head = text.lstrip()[:1]
    if path.suffix.lower() == ".json" or head in ("{", "["):
        try:
            obj: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON ({exc.msg} at column {exc.colno})", file=name,
                            line=exc.lineno) from None
        items = obj if isinstance(obj, list) else [obj]
        if not items:
            raise DataError("an empty JSON list: no conversation to analyse", file=name)
        return [parse_conversation(o, file=name, line=None) for o in items]
    stem = path.stem if str(path) != "-" else "stdin"
    return [parse_plaintext(text, conversation_id=stem or "conversation", file=name)]


def _short(text: str, width: int = TEXT_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _change(c: float | None) -> str:
    if c is None:
        return "—"
    colour = "green" if c > 0.005 else "red" if c < -0.005 else "dim"
    return f"[{colour}]{c * 100:+.1f} pt[/]"


def _turning(tp: dict[str, Any] | None) -> str:
    if tp is None:
        return ""
    arrow = "[green]▲" if tp["delta"] > 0 else "[red]▼"
    return f"{arrow}{tp['delta'] * 100:+.0f}[/] {tp['cause']}"


def _confidence(u: TurnUpdate) -> str:
    if u.confidence is None:
        return "—"
    if u.abstain:
        return f"[yellow]{u.confidence:.2f}?[/]"
    return f"{u.confidence:.2f}"


def _next_move(u: TurnUpdate) -> str:
    if u.next_move is None:
        return ""
    m = u.next_move
    if not m.get("supported", True):
        return f"{m['act'].replace('_', ' ')} (rare situation)"
    return f"{m['act'].replace('_', ' ')} ({m['expected_lift'] * 100:+.1f} pt)"


def turn_table(conv: Conversation, updates: list[TurnUpdate]) -> Table:
    """The rich table of one conversation: turn, role, text, probability, change, confidence
    (``?``: the model would rather not say), turning point with its likely cause, and the
    next move the guide advises after the turn with its expected lift."""
    table = Table(title=f"{conv.id}: P(sale) after each turn", title_justify="left",
                  show_lines=False)
    for name, justify, width in (("turn", "right", 4), ("role", "left", 8)):
        table.add_column(name, justify=justify, no_wrap=True, min_width=width)
    table.add_column("text", no_wrap=True, overflow="ellipsis")
    for name, width in (("P(sale)", 7), ("change", 8), ("conf.", 5)):
        table.add_column(name, justify="right", no_wrap=True, min_width=width)
    table.add_column("turning point", overflow="fold", max_width=22)
    guided = any(u.next_move is not None for u in updates)
    if guided:
        table.add_column("next move", overflow="fold", max_width=NEXT_MOVE_WIDTH)
    fixed = FIXED_WIDTH + (NEXT_MOVE_WIDTH + 2 if guided else 0)
    text_width = max(12, min(TEXT_WIDTH, console.width - fixed))
    for t, u in zip(conv.turns, updates, strict=True):
        cells = [str(u.turn_index + 1), u.role, _short(t.text, text_width),
                 f"{u.probability:.1%}", _change(u.change), _confidence(u),
                 _turning(u.turning_point)]
        table.add_row(*cells, *([_next_move(u)] if guided else []))
    return table


def footer(agent: SalesAgent, last: TurnUpdate | None) -> str:
    """What the table's last columns mean for this model, and the advice after the call."""
    parts = [f"model {agent.model_version} ({agent.embedding_backend})"]
    if agent.confidence is None:
        parts.append("no confidence module in this model")
    else:
        parts.append(f"conf. = chance P(sale) is on the right side of 50 %; "
                     f"interval covers the outcome {agent.confidence.coverage:.0%} of the time")
    parts.append("turning points: change points of the whole call (PELT), causes from the "
                 "act detectors")
    if agent.guide is None:
        parts.append("no guide in this model (trained without act labels)")
    line = "[dim]" + "; ".join(parts) + "[/]"
    if last is not None and last.abstain and last.abstain_reason:
        line += f"\n[yellow]withheld:[/] {last.abstain_reason}"
    if last is not None and last.next_move is not None:
        m = last.next_move
        lift = (f"expected lift {m['expected_lift'] * 100:+.1f} pt" if m.get("supported", True)
                else "a rare situation in the training calls: no lift claimed")
        line += (f"\n[bold]Next move:[/] {m['act'].replace('_', ' ')} ({lift}): {m['text']}")
        for ex in m.get("examples") or []:
            line += f"\n  [dim]e.g. “{ex}”[/]"
    return line


def load_model(path: Path | None, option: str = "--model") -> SalesAgent:
    """:func:`salesrl.load` for a command: a model for another backend becomes a located
    :class:`DataError`, a state-drift warning one yellow line on stderr. The thread pools are
    sized for turn-by-turn work first (:func:`~salesrl.cli.app.limit_thread_pools`)."""
    from salesrl.agent.api import StateDriftWarning, load
    from salesrl.agent.artifacts import IncompatibleArtifactError

    limit_thread_pools()

    with warnings_as_lines(StateDriftWarning):
        try:
            return load(path)
        except IncompatibleArtifactError as exc:
            raise DataError(str(exc), field=option) from None


def analyze_conversations(model: SalesAgent, conversations: list[Conversation]
                          ) -> list[list[TurnUpdate]]:
    """Every conversation's per-turn updates (batched embedding)."""
    return model.analyze_many(conversations)


@app.command()
@friendly_errors
def analyze(
    conversation: Annotated[Path, typer.Argument(
        help="A JSON conversation, a JSONL file, or plain text with 'Rep:' / 'Customer:' "
        "lines; '-' reads standard input.")],
    model: Annotated[Path | None, typer.Option(
        "--model", help="Model directory from 'salesrl train' (default: the shipped one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")
                       ] = False,
) -> None:
    """Print P(sale) turn by turn: change, confidence, turning points and the next move."""
    convs = read_conversations(conversation)
    agent = load_model(model)
    results = analyze_conversations(agent, convs)
    if as_json:
        doc = {"model": agent.model_version, "embedding": agent.embedding_backend,
               "confidence_module": agent.confidence is not None,
               "guide": agent.guide is not None,
               "conversations": [
                   {"id": c.id, "turns": [{**u.to_dict(), "text": t.text}
                                          for t, u in zip(c.turns, ups, strict=True)]}
                   for c, ups in zip(convs, results, strict=True)]}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    for c, ups in zip(convs, results, strict=True):
        console.print(turn_table(c, ups))
        console.print(footer(agent, ups[-1] if ups else None), highlight=False)
