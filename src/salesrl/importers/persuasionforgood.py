"""PersuasionForGood (Wang et al., "Persuasion for Good: Towards a Personalized Persuasive
Dialogue System for Social Good", ACL 2019) as salesrl conversations.

The persuader (``B4`` = 0) is the rep, the persuadee (``B4`` = 1) the customer. A dialogue is
``converted`` when the persuadee's actual donation after the chat (``B6`` in the info file) is
above zero: 545 of the 1,017 dialogues of the full release.

Turns: the units of a dialogue are ordered by turn index (``Turn``), keeping file order inside
one index, and consecutive units of the same speaker are joined with a space into one
:class:`~salesrl.conversation.Turn`. In the full release every row is already one utterance
and every turn index is "persuader, then persuadee" (the last index is sometimes persuader
only), so this gives exactly one turn per (turn index, role). In the annotated release a row is
one sentence, and five turn indexes do not follow that order (the annotators' turn index is off
by one around them); file order matches the chat there, so it is kept and a
:class:`~salesrl.importers.DataWarning` says how many such indexes were seen.

Nothing derived from ``B6`` (or the stated intention ``B5``) goes into the metadata: the
persuader's user id is the ``rep_id``. With ``traits=True`` (``salesrl convert --from
p4g-traits``) the persuadee's pre-chat survey, what a CRM would hold about a contact, goes into
``metadata.extra["customer"]``: every ``*.x`` column of the info file, named without the
``.x`` (Big Five ``extrovert`` ... ``open``, moral foundations ``care`` ... ``purity``,
values ``freedom`` ... ``security``, ``rational`` / ``intuitive``, ``age``, ``income`` as
numbers; ``sex``, ``race``, ``edu``, ``marital``, ``employment``, ``religion``, ``ideology`` as
strings; an empty cell is left out). ``B6`` (the donation: the label) and ``B7`` (the number of
turns: the future) are never copied, whatever the file's columns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from salesrl.conversation import (
    Conversation,
    DataError,
    Metadata,
    Outcome,
    Role,
    Turn,
    TurnAnnotations,
)
from salesrl.importers._common import parse_float, read_csv_rows, warn

SOURCE = "persuasionforgood"
PERSUADER, PERSUADEE = 0, 1
_ROLE = {PERSUADER: Role.REP, PERSUADEE: Role.CUSTOMER}
_LABEL_COLS = {PERSUADER: ("er_label_1", "er_label_2"), PERSUADEE: ("ee_label_1", "ee_label_2")}
DATA_DIR_ENV = "SALESRL_DATA_DIR"


@dataclass
class _Unit:
    role: int
    turn_index: int
    text: str
    labels: list[str] = field(default_factory=list)
    extra_labels: list[str] = field(default_factory=list)


#: info-file columns that must never reach metadata: the donation (label), turn count (future)
LEAKY_COLUMNS = frozenset({"B5", "B6", "B7"})
TRAIT_SUFFIX = ".x"


@dataclass
class _Participant:
    user_id: str
    donation: float
    line: int
    traits: dict[str, float | str] = field(default_factory=dict)


def _traits(row: dict) -> dict[str, float | str]:
    """The survey columns (``*.x``) of an info row: numbers as floats, the rest as strings."""
    out: dict[str, float | str] = {}
    for col, value in row.items():
        if not col.endswith(TRAIT_SUFFIX) or col in LEAKY_COLUMNS:
            continue
        text = _text(value)
        if not text:
            continue
        try:
            number = float(text)
        except ValueError:
            out[col[: -len(TRAIT_SUFFIX)]] = text
        else:
            if number == number:  # not NaN
                out[col[: -len(TRAIT_SUFFIX)]] = number
    return out


# ----------------------------------------------------------------------------- cell parsing


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int(value: object, *, file: Path, line: int, field: str) -> int:
    number = parse_float(_text(value), file=file, line=line, field=field)
    if not number.is_integer():
        raise DataError(f"not a whole number: {value!r}", file=file, line=line, field=field)
    return int(number)


def _role(value: object, *, file: Path, line: int) -> int:
    role = _int(value, file=file, line=line, field="B4")
    if role not in _ROLE:
        raise DataError(f"role must be 0 (persuader) or 1 (persuadee), got {value!r}",
                        file=file, line=line, field="B4")
    return role


# ----------------------------------------------------------------------------- file reading


def _read_xlsx_rows(path: str | Path, required: Sequence[str]) -> Iterator[tuple[int, dict]]:
    """Yield ``(excel_row_number, row)`` for each non-blank row of the first sheet."""
    import openpyxl  # local: only the annotated loader needs it
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise DataError(f"not a readable .xlsx workbook ({exc})", file=path) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [_text(h) for h in next(rows, ())]
        for col in required:
            if col not in header:
                raise DataError("missing required column", file=path, line=1, field=col)
        for number, values in enumerate(rows, start=2):
            if all(_text(v) == "" for v in values):
                continue
            yield number, {h: v for h, v in zip(header, values, strict=False) if h}
    finally:
        wb.close()


def _read_info(rows: Iterator[tuple[int, dict]], file: Path) -> dict[tuple[str, int], _Participant]:
    info: dict[tuple[str, int], _Participant] = {}
    for line, row in rows:
        dialogue = _text(row["B2"])
        if not dialogue:
            raise DataError("empty dialogue id", file=file, line=line, field="B2")
        role = _role(row["B4"], file=file, line=line)
        key = (dialogue, role)
        if key in info:
            raise DataError(f"second info row for dialogue {dialogue!r} role {role} (first on "
                            f"line {info[key].line})", file=file, line=line, field="B2")
        donation = parse_float(_text(row["B6"]), file=file, line=line, field="B6")
        if donation < 0:
            raise DataError(f"negative donation {donation}", file=file, line=line, field="B6")
        info[key] = _Participant(user_id=_text(row.get("B3")), donation=donation, line=line,
                                 traits=_traits(row))
    return info


def _read_units(rows: Iterator[tuple[int, dict]], file: Path, *,
                annotated: bool) -> dict[str, list[_Unit]]:
    dialogues: dict[str, list[_Unit]] = {}
    for line, row in rows:
        dialogue = _text(row["B2"])
        if not dialogue:
            raise DataError("empty dialogue id", file=file, line=line, field="B2")
        role = _role(row["B4"], file=file, line=line)
        turn_index = _int(row["Turn"], file=file, line=line, field="Turn")
        text = _text(row["Unit"])
        if not text:
            raise DataError("empty text", file=file, line=line, field="Unit")
        unit = _Unit(role=role, turn_index=turn_index, text=text)
        if annotated:
            first, second = _LABEL_COLS[role]
            label = _text(row.get(first))
            if not label:
                raise DataError("unit has no strategy label", file=file, line=line, field=first)
            unit.labels.append(label)
            if _text(row.get(second)):
                unit.extra_labels.append(_text(row.get(second)))
        dialogues.setdefault(dialogue, []).append(unit)
    return dialogues


# ----------------------------------------------------------------------------- assembly


def _out_of_order(units: list[_Unit]) -> int:
    """How many turn indexes are not 'persuader units, then persuadee units'."""
    by_index: dict[int, list[int]] = {}
    for u in units:
        by_index.setdefault(u.turn_index, []).append(u.role)
    return sum(roles != sorted(roles) for roles in by_index.values())


def _turns(units: list[_Unit], *, annotated: bool, secondary_labels: bool) -> list[Turn]:
    turns: list[Turn] = []
    run: list[_Unit] = []

    def flush() -> None:
        if not run:
            return
        annotations = None
        if annotated:
            acts = [label for u in run for label in u.labels]
            if secondary_labels:
                acts += [label for u in run for label in u.extra_labels]
            annotations = TurnAnnotations(acts=acts)
        turns.append(Turn(role=_ROLE[run[0].role], text=" ".join(u.text for u in run),
                          annotations=annotations))
        run.clear()

    for unit in units:
        if run and unit.role != run[-1].role:
            flush()
        run.append(unit)
    flush()
    return turns


def _assemble(units_by_dialogue: dict[str, list[_Unit]],
              info: dict[tuple[str, int], _Participant], *, dialog_file: Path, info_file: Path,
              annotated: bool, secondary_labels: bool = False,
              traits: bool = False) -> list[Conversation]:
    conversations: list[Conversation] = []
    odd_indexes = odd_dialogues = 0
    for dialogue, units in units_by_dialogue.items():
        for role, name in ((PERSUADEE, "persuadee"), (PERSUADER, "persuader")):
            if (dialogue, role) not in info:
                raise DataError(f"dialogue {dialogue!r} of {dialog_file.name} has no {name} "
                                f"row (B4={role}) here", file=info_file, field="B2")
        units = sorted(units, key=lambda u: u.turn_index)  # stable: file order within an index
        odd = _out_of_order(units)
        odd_indexes += odd
        odd_dialogues += odd > 0
        outcome = (Outcome.CONVERTED if info[(dialogue, PERSUADEE)].donation > 0
                   else Outcome.NOT_CONVERTED)
        customer = dict(info[(dialogue, PERSUADEE)].traits) if traits else {}
        conversations.append(Conversation(
            id=dialogue,
            turns=_turns(units, annotated=annotated, secondary_labels=secondary_labels),
            outcome=outcome,
            metadata=Metadata(industry="nonprofit", product="donation to Save the Children",
                              channel="chat", source=SOURCE,
                              rep_id=info[(dialogue, PERSUADER)].user_id or None,
                              extra={"customer": customer} if customer else {}),
        ))
    if odd_indexes:
        warn(f"{dialog_file}: {odd_indexes} turn index(es) in {odd_dialogues} dialogue(s) are "
             "not 'persuader, then persuadee'; kept in file order, consecutive units of one "
             "speaker joined into one turn")
    orphans = {d for d, _ in info} - set(units_by_dialogue)
    if orphans:
        warn(f"{info_file}: {len(orphans)} dialogue id(s) have info rows but no units in "
             f"{dialog_file.name} (e.g. {sorted(orphans)[0]!r}); they are not conversations "
             "and were not imported")
    return conversations


# ----------------------------------------------------------------------------- public API


def load_persuasionforgood(full_dialog_csv: str | Path, full_info_csv: str | Path, *,
                           traits: bool = False) -> list[Conversation]:
    """The 1,017 dialogues of the full release (``FullData/``), in file order.

    ``traits``: the persuadee's pre-chat survey into ``metadata.extra["customer"]`` (see the
    module docstring; never ``B6`` / ``B7``).

    Raises :class:`DataError` (file, line, column) for malformed rows and for a dialogue with no
    info row for one of its participants.
    """
    dialog_file, info_file = Path(full_dialog_csv), Path(full_info_csv)
    units = _read_units(read_csv_rows(dialog_file, ("B2", "B4", "Turn", "Unit")), dialog_file,
                        annotated=False)
    info = _read_info(read_csv_rows(info_file, ("B2", "B4", "B6")), info_file)
    return _assemble(units, info, dialog_file=dialog_file, info_file=info_file, annotated=False,
                     traits=traits)


def load_persuasionforgood_annotated(dialog_xlsx: str | Path, info_xlsx: str | Path, *,
                                     secondary_labels: bool = False) -> list[Conversation]:
    """The 300 strategy-annotated dialogues (``AnnotatedData/300_dialog.xlsx`` + ``300_info.xlsx``).

    Each row of the dialog sheet is one sentence ("unit") with its most salient strategy label
    (``er_label_1`` for the persuader, ``ee_label_1`` for the persuadee). A turn's
    ``annotations.acts`` lists the labels of its units in order, one per unit, repeats kept: so
    ``len(acts)`` is the number of sentences and ``set(acts)`` the strategies used in the turn.
    The rare second labels (``*_label_2``, 37 of 10,864 units) are left out unless
    ``secondary_labels`` is true, in which case they are appended after the primary labels.
    Labels are the raw strings of the P4G schemes (``persuader_scheme.docx``,
    ``persuadee_scheme.docx``), e.g. ``credibility-appeal``, ``ask-org-info``.
    Outcome: the persuadee's ``B6`` > 0, as in the full release (148 of 300 converted).
    """
    dialog_file, info_file = Path(dialog_xlsx), Path(info_xlsx)
    units = _read_units(
        _read_xlsx_rows(dialog_file, ("B2", "B4", "Turn", "Unit", "er_label_1", "ee_label_1")),
        dialog_file, annotated=True)
    info = _read_info(_read_xlsx_rows(info_file, ("B2", "B4", "B6")), info_file)
    return _assemble(units, info, dialog_file=dialog_file, info_file=info_file, annotated=True,
                     secondary_labels=secondary_labels)


def _find_files(folder: str | Path, sub: str, names: tuple[str, str]) -> tuple[Path, Path]:
    folder = Path(folder)
    for cand in (folder, folder / sub, folder / "persuasionforgood" / sub):
        if all((cand / n).is_file() for n in names):
            return cand / names[0], cand / names[1]
    raise DataError(f"no {names[0]} and {names[1]} in this folder, its {sub}/ or "
                    f"persuasionforgood/{sub}/ subfolder", file=folder)


def load_persuasionforgood_dir(folder: str | Path, *, traits: bool = False
                               ) -> list[Conversation]:
    """:func:`load_persuasionforgood` on a folder holding the two CSVs (or its parent)."""
    return load_persuasionforgood(*_find_files(folder, "FullData",
                                               ("full_dialog.csv", "full_info.csv")),
                                  traits=traits)


def load_persuasionforgood_traits_dir(folder: str | Path) -> list[Conversation]:
    """:func:`load_persuasionforgood_dir` with the persuadee's survey traits as customer
    metadata (``salesrl convert --from p4g-traits``)."""
    return load_persuasionforgood_dir(folder, traits=True)


def load_persuasionforgood_annotated_dir(folder: str | Path, *,
                                         secondary_labels: bool = False) -> list[Conversation]:
    """:func:`load_persuasionforgood_annotated` on a folder holding the two workbooks."""
    return load_persuasionforgood_annotated(
        *_find_files(folder, "AnnotatedData", ("300_dialog.xlsx", "300_info.xlsx")),
        secondary_labels=secondary_labels)


def persuasionforgood_dir() -> Path:
    """Where the vendored PersuasionForGood copy lives.

    ``$SALESRL_DATA_DIR/persuasionforgood`` when the variable is set, else the first
    ``data/persuasionforgood`` folder found walking up from this module (the repo's ``data/``).
    """
    hint = ("put the PersuasionForGood release (FullData/full_dialog.csv, FullData/"
            "full_info.csv, AnnotatedData/...) under <repo>/data/persuasionforgood/, or set "
            f"{DATA_DIR_ENV} to a folder containing persuasionforgood/")
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env) / "persuasionforgood"
        if not path.is_dir():
            raise DataError(f"PersuasionForGood not found ({DATA_DIR_ENV}={env}); {hint}",
                            file=path)
        return path
    for parent in Path(__file__).resolve().parents:
        if (parent / "data" / "persuasionforgood").is_dir():
            return parent / "data" / "persuasionforgood"
    raise DataError(f"PersuasionForGood not found; {hint}")


def default_persuasionforgood() -> list[Conversation]:
    """The vendored full release (1,017 dialogues); see :func:`persuasionforgood_dir`."""
    return load_persuasionforgood_dir(persuasionforgood_dir())


def default_persuasionforgood_annotated(*, secondary_labels: bool = False) -> list[Conversation]:
    """The vendored 300 annotated dialogues; see :func:`persuasionforgood_dir`."""
    return load_persuasionforgood_annotated_dir(persuasionforgood_dir(),
                                                secondary_labels=secondary_labels)
