"""Plain-text transcripts: one ``Speaker: text`` line per turn.

The format a person pastes from a call note::

    Rep: Hi Sam, thanks for taking the time today.
    Customer: Sure. We mostly use spreadsheets
    and it takes forever.                        <- continuation: joins the previous turn
    Rep: How does that affect your month-end close?

Rules: blank lines and lines starting with ``#`` are skipped; a line that starts (without
indentation) with a short label and a colon names the speaker, and that label must be one of
:data:`SPEAKERS` (case-insensitive), otherwise a :class:`DataError` names the line; any other
line continues the previous turn (an indented line always does, so a continuation may itself
contain ``Note: ...``). Text before the first speaker is an error. The outcome is unknown.
"""

from __future__ import annotations

import re
from pathlib import Path

from salesrl.conversation.io import DataError
from salesrl.conversation.schema import Conversation, Outcome, Role, Turn

#: speaker labels (lower case) and the role each one means
SPEAKERS: dict[str, Role] = {
    **dict.fromkeys(("rep", "agent", "seller", "sales", "salesperson", "sales rep", "ae",
                     "sdr", "bdr", "account executive"), Role.REP),
    **dict.fromkeys(("customer", "client", "prospect", "buyer", "lead", "caller"),
                    Role.CUSTOMER),
}

# A label: up to 3 words of letters/digits/'.-_ at the very start of the line, then a colon.
_LABEL = re.compile(r"^([A-Za-z][\w.'\-]*(?: [\w.'\-]+){0,2})\s*:(?!//)\s*(.*)$")


def parse_plaintext(text: str, *, conversation_id: str = "conversation",
                    file: str | Path | None = None) -> Conversation:
    """Parse ``Rep:`` / ``Customer:`` lines into a :class:`Conversation` (outcome unknown).

    Raises:
        DataError: an unknown speaker label, text before the first speaker, or no turn at all;
            located by ``file`` and line number.
    """
    turns: list[tuple[Role, list[str], int]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = None if raw[:1].isspace() else _LABEL.match(line)
        if m is not None:
            label = m.group(1).strip().lower()
            if label not in SPEAKERS:
                raise DataError(
                    f"unknown speaker {m.group(1)!r}; start each turn with 'Rep:' or "
                    "'Customer:' (indent a continuation line that contains a colon)",
                    file=file, line=lineno)
            turns.append((SPEAKERS[label], [m.group(2).strip()], lineno))
        elif turns:
            turns[-1][1].append(line.strip())
        else:
            raise DataError("text before the first speaker; start the line with 'Rep:' or "
                            "'Customer:'", file=file, line=lineno)
    if not turns:
        raise DataError("no turns found; expected lines like 'Rep: hello' and "
                        "'Customer: hi'", file=file)
    out = []
    for role, parts, lineno in turns:
        body = " ".join(p for p in parts if p)
        if not body:
            raise DataError("empty turn", file=file, line=lineno)
        out.append(Turn(role=role, text=body))
    return Conversation(id=conversation_id, turns=out, outcome=Outcome.UNKNOWN)


def read_plaintext(path: str | Path) -> Conversation:
    """:func:`parse_plaintext` of a UTF-8 file; the id is the file's stem."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    return parse_plaintext(text, conversation_id=path.stem or "conversation", file=path)
