"""Helpers shared by the importers: warnings for odd-but-usable raw data, CSV reading."""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from salesrl.conversation import DataError


class DataWarning(UserWarning):
    """Raw data was odd but usable; the message says what was done and how often.

    Importers never drop or repair anything silently: they either raise :class:`DataError` or
    emit one ``DataWarning`` per kind of oddity, with a count. The CLI prints them.
    """


def warn(message: str) -> None:
    """Emit a :class:`DataWarning` pointing at the importer's caller."""
    warnings.warn(message, DataWarning, stacklevel=3)


def read_csv_rows(path: str | Path,
                  required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` for each non-blank record of a CSV file with a header.

    ``line`` is the line on which the record starts, the header being line 1 (the same as the
    row number unless a quoted field spans several lines). Raises :class:`DataError` for a
    missing file, an empty file or a missing required column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError("empty file (no header row)", file=path, line=1) from None
        except csv.Error as exc:
            raise DataError(f"unreadable CSV ({exc})", file=path, line=1) from None
        header = [h.strip() for h in header]
        for col in required:
            if col not in header:
                raise DataError(f"missing required column (columns: {', '.join(header)})",
                                file=path, line=1, field=col)
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError(f"unreadable CSV ({exc})", file=path, line=start) from None
            if not any(cell.strip() for cell in record):
                continue
            row = {h: (record[i] if i < len(record) else "") for i, h in enumerate(header)}
            yield start, row


def parse_float(value: object, *, file: str | Path, line: int | None, field: str) -> float:
    """A finite float from a cell, or :class:`DataError` naming the cell."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(f"not a number: {value!r}", file=file, line=line, field=field) from None
    if out != out or out in (float("inf"), float("-inf")):
        raise DataError(f"not a finite number: {value!r}", file=file, line=line, field=field)
    return out
