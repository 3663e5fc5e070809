"""Any CSV with one row per utterance, as salesrl conversations.

Rows are grouped by the id column, conversations in order of first appearance and turns in file
order (rows of one conversation need not be contiguous). Values are matched after stripping
spaces; role and outcome values case-insensitively.

- Role: ``rep`` / ``customer``, or any value named in ``role_map`` (e.g.
  ``{"agent": "rep", "client": "customer"}``).
- Outcome (optional column): ``converted`` / ``not_converted`` / ``unknown``, ``1`` / ``0``,
  ``true`` / ``false``, ``yes`` / ``no``, or any value named in ``outcome_map``. Empty cells are
  ignored (the outcome is often only on the last row); the non-empty cells of one conversation
  must agree. A conversation with no outcome cell, or no outcome column, is ``unknown``.
- Time (optional column): seconds (a number) or an ISO 8601 date-time; ``Turn.start`` is the
  row's time minus the earliest time of its conversation. Empty cells give no start.

Errors (:class:`~salesrl.conversation.DataError`) name the file, the line (the header is
line 1; a row's number unless a quoted cell spans lines) and the column: missing column, empty
id, unknown role, empty text, unknown outcome value, conflicting outcomes, bad time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from salesrl.conversation import Conversation, DataError, Metadata, Outcome, Role, Turn
from salesrl.importers._common import read_csv_rows

SOURCE = "csv"
_DEFAULT_OUTCOMES: dict[str, Outcome] = {
    **{o.value: o for o in Outcome},
    "1": Outcome.CONVERTED, "0": Outcome.NOT_CONVERTED,
    "true": Outcome.CONVERTED, "false": Outcome.NOT_CONVERTED,
    "yes": Outcome.CONVERTED, "no": Outcome.NOT_CONVERTED,
}


@dataclass
class _Row:
    line: int
    role: Role
    text: str
    time: float | None


def _lookup_table(defaults: Mapping[str, object], extra: Mapping[str, str] | None, kind: type,
                  option: str) -> dict:
    table = {k.lower(): v for k, v in defaults.items()}
    for raw, target in (extra or {}).items():
        try:
            table[str(raw).strip().lower()] = kind(str(target).strip().lower())
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise DataError(f"{option} maps {raw!r} to {target!r}; expected one of {allowed}",
                            field=option) from None
    return table


def _time(value: str, *, file: Path, line: int, field: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value) if _is_number(value) else datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise DataError(f"not a time in seconds or ISO 8601: {value!r}", file=file, line=line,
                        field=field) from None


def _is_number(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return number == number and abs(number) != float("inf")


def load_csv(path: str | Path, *, id_col: str = "id", role_col: str = "role",
             text_col: str = "text", time_col: str | None = None,
             outcome_col: str | None = None, role_map: Mapping[str, str] | None = None,
             outcome_map: Mapping[str, str] | None = None,
             source: str = SOURCE) -> list[Conversation]:
    """Conversations from a CSV file with one row per utterance (see the module docstring)."""
    path = Path(path)
    roles = _lookup_table({r.value: r for r in Role}, role_map, Role, "role_map")
    outcomes = _lookup_table(_DEFAULT_OUTCOMES, outcome_map, Outcome, "outcome_map")
    required = [c for c in (id_col, role_col, text_col, time_col, outcome_col) if c]
    rows: dict[str, list[_Row]] = {}
    outcome_of: dict[str, tuple[Outcome, int]] = {}
    for line, row in read_csv_rows(path, required):
        conv_id = row[id_col].strip()
        if not conv_id:
            raise DataError("empty conversation id", file=path, line=line, field=id_col)
        raw_role = row[role_col].strip()
        if raw_role.lower() not in roles:
            raise DataError(f"unknown role {raw_role!r}; expected one of "
                            f"{', '.join(sorted(roles))} (map others with role_map / --role-map)",
                            file=path, line=line, field=role_col)
        text = row[text_col].strip()
        if not text:
            raise DataError("empty text", file=path, line=line, field=text_col)
        time = _time(row[time_col], file=path, line=line, field=time_col) if time_col else None
        rows.setdefault(conv_id, []).append(_Row(line, roles[raw_role.lower()], text, time))
        raw_outcome = row[outcome_col].strip() if outcome_col else ""
        if raw_outcome:
            if raw_outcome.lower() not in outcomes:
                raise DataError(f"unknown outcome {raw_outcome!r}; expected one of "
                                f"{', '.join(sorted(outcomes))} (map others with outcome_map / "
                                "--outcome-map)", file=path, line=line, field=outcome_col)
            outcome = outcomes[raw_outcome.lower()]
            first = outcome_of.setdefault(conv_id, (outcome, line))
            if first[0] is not outcome:
                raise DataError(f"conflicting outcomes for conversation {conv_id!r}: "
                                f"{outcome.value!r} here, {first[0].value!r} on line {first[1]}",
                                file=path, line=line, field=outcome_col)
    conversations = []
    for conv_id, conv_rows in rows.items():
        times = [r.time for r in conv_rows if r.time is not None]
        t0 = min(times) if times else 0.0
        conversations.append(Conversation(
            id=conv_id,
            turns=[Turn(role=r.role, text=r.text,
                        start=None if r.time is None else r.time - t0) for r in conv_rows],
            outcome=outcome_of.get(conv_id, (Outcome.UNKNOWN, 0))[0],
            metadata=Metadata(source=source),
        ))
    return conversations
