"""Reading and writing salesrl JSONL: one conversation per line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from salesrl.conversation.schema import Conversation, Outcome


class DataError(ValueError):
    """Bad input, located: which file, which line, which field, and what is wrong."""

    def __init__(self, message: str, *, file: str | Path | None = None,
                 line: int | None = None, field: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.reason = message
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [p for p in (where, f"field {field!r}" if field else None, message) if p]
        super().__init__(": ".join(parts))


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_conversation(obj: object, *, file: str | Path | None = None,
                       line: int | None = None, require_outcome: bool = False) -> Conversation:
    """Validate one decoded JSON object as a :class:`Conversation`, or raise :class:`DataError`."""
    try:
        conv = Conversation.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        raise DataError(msg + more, file=file, line=line, field=_field_path(err["loc"])) from None
    if require_outcome and conv.outcome is Outcome.UNKNOWN:
        raise DataError("outcome is 'unknown' but a labelled conversation is required",
                        file=file, line=line, field="outcome")
    return conv


def iter_jsonl(path: str | Path, *, require_outcome: bool = False) -> Iterator[Conversation]:
    """Yield conversations from a salesrl JSONL file; blank lines are skipped, nothing else."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", file=path)
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON ({exc.msg} at column {exc.colno})",
                                file=path, line=lineno) from None
            conv = parse_conversation(obj, file=path, line=lineno, require_outcome=require_outcome)
            if conv.id in seen:
                raise DataError(f"duplicate conversation id {conv.id!r} (first on line "
                                f"{seen[conv.id]})", file=path, line=lineno, field="id")
            seen[conv.id] = lineno
            yield conv


def read_jsonl(path: str | Path, *, require_outcome: bool = False) -> list[Conversation]:
    """Read every conversation of a salesrl JSONL file (see :func:`iter_jsonl`)."""
    return list(iter_jsonl(path, require_outcome=require_outcome))


def write_jsonl(conversations: Iterable[Conversation], path: str | Path) -> int:
    """Write conversations one per line; returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for conv in conversations:
            fh.write(conv.model_dump_json(exclude_none=True) + "\n")
            n += 1
    return n
