"""PersuasionForGood importer: tiny hand-made files for the rules, the vendored copy for counts."""

from __future__ import annotations

import statistics
import warnings
from pathlib import Path

import openpyxl
import pytest

from salesrl.conversation import Conversation, DataError, Outcome, Role
from salesrl.importers import (
    IMPORTERS,
    DataWarning,
    default_persuasionforgood,
    default_persuasionforgood_annotated,
    load_persuasionforgood,
    load_persuasionforgood_annotated,
    load_persuasionforgood_dir,
    persuasionforgood_dir,
)

INFO_HEADER = "B2,B3,B4,B6,B7,extrovert.x\n"


def _write(folder: Path, dialog: str, info: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    d, i = folder / "full_dialog.csv", folder / "full_info.csv"
    d.write_text(",Unit,Turn,B4,B2\n" + dialog, encoding="utf-8")
    i.write_text(INFO_HEADER + info, encoding="utf-8")
    return d, i


DIALOG = (
    "0,Hello there.,0,0,d1\n"
    "1, How are you? ,0,0,d1\n"
    "2,Fine.,0,1,d1\n"
    "3,Will you donate?,1,0,d1\n"
    '4,"No, sorry.",1,1,d1\n'
    "5,Hi.,0,0,d2\n"
    "6,Hey.,0,1,d2\n"
    "7,Bye then.,1,0,d2\n"
)
INFO = ("d1,u1,0,0.0,2,3.0\nd1,u2,1,0.0,2,4.0\n"
        "d2,u3,0,1.0,2,3.0\nd2,u4,1,0.5,2,4.0\n")


def test_units_are_joined_into_turns_and_labelled(tmp_path: Path) -> None:
    convs = load_persuasionforgood(*_write(tmp_path, DIALOG, INFO))
    assert [c.id for c in convs] == ["d1", "d2"]
    d1, d2 = convs
    assert [(t.role, t.text) for t in d1.turns] == [
        (Role.REP, "Hello there. How are you?"), (Role.CUSTOMER, "Fine."),
        (Role.REP, "Will you donate?"), (Role.CUSTOMER, "No, sorry."),
    ]
    # persuadee B6 decides: d1 persuader 0 / persuadee 0 -> no; d2 persuadee 0.5 -> yes
    assert (d1.outcome, d2.outcome) == (Outcome.NOT_CONVERTED, Outcome.CONVERTED)
    assert len(d2) == 3 and d2.turns[-1].role is Role.REP
    md = d2.metadata
    assert (md.source, md.channel, md.rep_id) == ("persuasionforgood", "chat", "u3")
    assert md.extra == {}
    assert "0.5" not in d2.model_dump_json() and "u4" not in d2.model_dump_json()


def test_label_uses_persuadee_not_persuader(tmp_path: Path) -> None:
    info = "d1,u1,0,2.0,2,3\nd1,u2,1,0.0,2,4\nd2,u3,0,0.0,2,3\nd2,u4,1,0.01,2,4\n"
    d1, d2 = load_persuasionforgood(*_write(tmp_path, DIALOG, info))
    assert (d1.outcome, d2.outcome) == (Outcome.NOT_CONVERTED, Outcome.CONVERTED)


def test_turn_index_order_wins_over_file_order(tmp_path: Path) -> None:
    dialog = "0,Second.,1,0,d1\n1,First.,0,0,d1\n2,Reply.,0,1,d1\n"
    (d1,) = load_persuasionforgood(*_write(tmp_path, dialog, "d1,a,0,0,1,1\nd1,b,1,0,1,1\n"))
    assert [t.text for t in d1.turns] == ["First.", "Reply.", "Second."]


def test_odd_speaker_order_is_kept_and_counted(tmp_path: Path) -> None:
    dialog = "0,Hi.,0,0,d1\n1,Hello.,0,1,d1\n2,Question?,1,1,d1\n3,Answer.,1,0,d1\n4,Ok.,1,1,d1\n"
    with pytest.warns(DataWarning, match="1 turn index"):
        (d1,) = load_persuasionforgood(*_write(tmp_path, dialog, "d1,a,0,0,1,1\nd1,b,1,1,1,1\n"))
    assert [(t.role.value, t.text) for t in d1.turns] == [
        ("rep", "Hi."), ("customer", "Hello. Question?"), ("rep", "Answer."), ("customer", "Ok."),
    ]


def test_missing_info_row_is_an_error(tmp_path: Path) -> None:
    files = _write(tmp_path, DIALOG, "d1,u1,0,0.0,2,3\nd1,u2,1,0.0,2,4\nd2,u3,0,1.0,2,3\n")
    with pytest.raises(DataError) as exc:
        load_persuasionforgood(*files)
    assert exc.value.file == str(files[1]) and exc.value.field == "B2"
    assert "'d2'" in str(exc.value) and "persuadee" in str(exc.value)


def test_info_rows_without_dialogue_are_reported(tmp_path: Path) -> None:
    with pytest.warns(DataWarning, match="1 dialogue id"):
        convs = load_persuasionforgood(*_write(tmp_path, DIALOG, INFO + "d9,x,1,1.0,2,4\n"))
    assert len(convs) == 2


@pytest.mark.parametrize(("dialog", "info", "where", "line", "field"), [
    ("0,Hi.,0,2,d1\n", "d1,a,0,0,1,1\nd1,b,1,0,1,1\n", "dialog", 2, "B4"),
    ("0,Hi.,0,0,d1\n1,  ,0,1,d1\n", "d1,a,0,0,1,1\nd1,b,1,0,1,1\n", "dialog", 3, "Unit"),
    ("0,Hi.,x,0,d1\n", "d1,a,0,0,1,1\nd1,b,1,0,1,1\n", "dialog", 2, "Turn"),
    ("0,Hi.,0,0,d1\n", "d1,a,0,0,1,1\nd1,b,1,lots,1,1\n", "info", 3, "B6"),
    ("0,Hi.,0,0,d1\n", "d1,a,0,0,1,1\nd1,b,1,-1,1,1\n", "info", 3, "B6"),
    ("0,Hi.,0,0,d1\n", "d1,a,0,0,1,1\nd1,b,0,0,1,1\n", "info", 3, "B2"),
])
def test_bad_rows_are_located(tmp_path: Path, dialog: str, info: str, where: str, line: int,
                              field: str) -> None:
    files = _write(tmp_path, dialog, info)
    with pytest.raises(DataError) as exc:
        load_persuasionforgood(*files)
    expected_file = files[0] if where == "dialog" else files[1]
    assert (exc.value.file, exc.value.line, exc.value.field) == (str(expected_file), line, field)


def test_missing_column(tmp_path: Path) -> None:
    d, i = _write(tmp_path, "0,Hi.,0,0,d1\n", "d1,a,0,0,1,1\nd1,b,1,0,1,1\n")
    i.write_text("B2,B3,B4,B7\nd1,a,0,1\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_persuasionforgood(d, i)
    assert (exc.value.line, exc.value.field) == (1, "B6")


def test_dir_loader_accepts_the_folder_or_its_parent(tmp_path: Path) -> None:
    _write(tmp_path / "FullData", DIALOG, INFO)
    assert len(load_persuasionforgood_dir(tmp_path)) == 2
    assert len(load_persuasionforgood_dir(tmp_path / "FullData")) == 2
    assert IMPORTERS["p4g"] is load_persuasionforgood_dir
    with pytest.raises(DataError, match="full_dialog.csv"):
        load_persuasionforgood_dir(tmp_path / "nowhere")


def test_data_dir_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESRL_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="SALESRL_DATA_DIR") as exc:
        default_persuasionforgood()
    assert "data/persuasionforgood" in str(exc.value)
    _write(tmp_path / "persuasionforgood" / "FullData", DIALOG, INFO)
    assert persuasionforgood_dir() == tmp_path / "persuasionforgood"
    assert [c.id for c in default_persuasionforgood()] == ["d1", "d2"]


def _xlsx(path: Path, rows: list[tuple]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


DIALOG_COLS = (None, "B2", "B4", "Turn", "Unit", "er_label_1", "ee_label_1", "er_label_2",
               "ee_label_2", "neg", "neu", "pos")


def _annotated(tmp_path: Path, units: list[tuple]) -> tuple[Path, Path]:
    dialog = _xlsx(tmp_path / "300_dialog.xlsx",
                   [DIALOG_COLS] + [(i, *u, 0, 1, 0) for i, u in enumerate(units)])
    info = _xlsx(tmp_path / "300_info.xlsx", [("B2", "B3", "B4", "B5", "B6", "B7"),
                                              ("d1", "u1", 0, None, 0, 2),
                                              ("d1", "u2", 1, 1.0, 0.3, 2)])
    return dialog, info


def test_annotated_labels_per_turn(tmp_path: Path) -> None:
    files = _annotated(tmp_path, [
        ("d1", 0, 0, "Hello.", "greeting", None, None, None),
        ("d1", 0, 0, "We help kids.", "credibility-appeal", None, "logical-appeal", None),
        ("d1", 1, 0, "Who are you?", None, "ask-org-info", None, None),
        ("d1", 0, 1, "Save the Children.", "credibility-appeal", None, None, None),
    ])
    (conv,) = load_persuasionforgood_annotated(*files)
    assert conv.outcome is Outcome.CONVERTED
    assert [t.text for t in conv.turns] == ["Hello. We help kids.", "Who are you?",
                                            "Save the Children."]
    assert [t.annotations.acts for t in conv.turns] == [
        ["greeting", "credibility-appeal"], ["ask-org-info"], ["credibility-appeal"]]
    (with_second,) = load_persuasionforgood_annotated(*files, secondary_labels=True)
    assert with_second.turns[0].annotations.acts == ["greeting", "credibility-appeal",
                                                     "logical-appeal"]
    assert conv.prefix(2).turns[0].annotations is None


def test_annotated_missing_label_is_located(tmp_path: Path) -> None:
    files = _annotated(tmp_path, [("d1", 0, 0, "Hello.", "greeting", None, None, None),
                                  ("d1", 1, 0, "Hi.", None, None, None, None)])
    with pytest.raises(DataError) as exc:
        load_persuasionforgood_annotated(*files)
    assert (exc.value.line, exc.value.field) == (3, "ee_label_1")


# ----------------------------------------------------------------------------- vendored copy


@pytest.fixture(scope="module")
def p4g() -> list[Conversation]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # the full release is clean
        return default_persuasionforgood()


def test_vendored_full_release(p4g: list[Conversation]) -> None:
    assert len(p4g) == 1017
    assert len({c.id for c in p4g}) == 1017
    assert sum(c.outcome is Outcome.CONVERTED for c in p4g) == 545
    assert not any(c.outcome is Outcome.UNKNOWN for c in p4g)
    lengths = [len(c) for c in p4g]
    assert (min(lengths), statistics.median(lengths), max(lengths)) == (7, 20, 30)
    assert sum(lengths) == 20932  # one row per utterance in the full release
    assert all(c.turns[0].role is Role.REP for c in p4g)
    for c in p4g:  # roles alternate: one turn per (turn index, role)
        assert all(a.role is not b.role for a, b in zip(c.turns, c.turns[1:], strict=False))
    assert all(c.metadata.extra == {} for c in p4g)


def test_vendored_annotated_release(p4g: list[Conversation]) -> None:
    with pytest.warns(DataWarning, match="5 turn index"):
        ann = default_persuasionforgood_annotated()
    assert len(ann) == 300
    assert sum(c.outcome is Outcome.CONVERTED for c in ann) == 148
    full = {c.id: c for c in p4g}
    assert all(full[c.id].outcome is c.outcome for c in ann)
    assert sum(len(t.annotations.acts) for c in ann for t in c.turns) == 10864
    assert all(t.annotations.acts for c in ann for t in c.turns)
    acts = {a for c in ann for t in c.turns for a in t.annotations.acts}
    assert {"credibility-appeal", "emotion-appeal", "ask-org-info", "greeting"} <= acts
