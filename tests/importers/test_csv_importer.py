"""Generic one-row-per-utterance CSV importer."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesrl.conversation import DataError, Outcome, Role
from salesrl.importers import IMPORTERS, load_csv

MAPPED = dict(id_col="call", role_col="who", text_col="said", time_col="t",
              outcome_col="result", role_map={"agent": "rep", "client": "customer"},
              outcome_map={"won": "converted", "lost": "not_converted"})
HEADER = "call,who,said,t,result\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_grouping_mapping_and_times(tmp_path: Path) -> None:
    path = _csv(tmp_path, (
        "a,agent,Hello,100,\n"
        "b,client,Hi there,5,\n"
        "a,Client,\"Hi, who is this?\",102.5,\n"
        "\n"
        "a,agent,We sell widgets.,110,won\n"
        "b,rep,Want a demo?,,lost\n"
        "c,customer,Just browsing,,\n"
    ))
    convs = load_csv(path, **MAPPED)
    assert [c.id for c in convs] == ["a", "b", "c"]
    a, b, c = convs
    assert [(t.role, t.text) for t in a.turns] == [
        (Role.REP, "Hello"), (Role.CUSTOMER, "Hi, who is this?"), (Role.REP, "We sell widgets.")]
    assert [t.start for t in a.turns] == [0.0, 2.5, 10.0]
    assert [t.start for t in b.turns] == [0.0, None]
    assert (a.outcome, b.outcome, c.outcome) == (
        Outcome.CONVERTED, Outcome.NOT_CONVERTED, Outcome.UNKNOWN)
    assert a.metadata.source == "csv"
    assert IMPORTERS["csv"] is load_csv


def test_defaults_and_iso_times(tmp_path: Path) -> None:
    path = _csv(tmp_path, "x,rep,Hi,2024-05-01T10:00:00,1\nx,customer,Yo,2024-05-01T10:01:30,\n",
                header="id,role,text,when,outcome\n")
    (conv,) = load_csv(path, time_col="when", outcome_col="outcome")
    assert conv.outcome is Outcome.CONVERTED
    assert [t.start for t in conv.turns] == [0.0, 90.0]
    (no_outcome,) = load_csv(path)
    assert no_outcome.outcome is Outcome.UNKNOWN and no_outcome.turns[0].start is None


@pytest.mark.parametrize(("body", "line", "field", "words"), [
    ("a,agent,Hello,1,\na,boss,Hi,2,\n", 3, "who", "unknown role 'boss'"),
    ("a,agent,Hello,1,\na,client,  ,2,\n", 3, "said", "empty text"),
    ("a,agent,Hello,1,won\na,client,Hi,2,\na,agent,Bye,3,lost\n", 4, "result", "conflicting"),
    ("a,agent,Hello,1,maybe\n", 2, "result", "unknown outcome 'maybe'"),
    ("a,agent,Hello,soon,\n", 2, "t", "not a time"),
    (" ,agent,Hello,1,\n", 2, "call", "empty conversation id"),
])
def test_errors_name_file_line_and_column(tmp_path: Path, body: str, line: int, field: str,
                                          words: str) -> None:
    path = _csv(tmp_path, body)
    with pytest.raises(DataError) as exc:
        load_csv(path, **MAPPED)
    err = exc.value
    assert (err.file, err.line, err.field) == (str(path), line, field)
    assert words in str(err) and f"{path}:{line}" in str(err)


def test_line_counts_the_header_and_blank_lines(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,agent,Hello,1,\n\na,agent,\"multi\nline\",2,\na,robot,x,3,\n")
    with pytest.raises(DataError) as exc:
        load_csv(path, **MAPPED)
    assert exc.value.line == 6  # the record starts on physical line 6


def test_missing_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,agent,Hello\n", header="call,who,said\n")
    with pytest.raises(DataError) as exc:
        load_csv(path, **MAPPED)
    assert (exc.value.line, exc.value.field) == (1, "t")
    with pytest.raises(DataError) as exc:
        load_csv(path)  # default column names
    assert (exc.value.line, exc.value.field) == (1, "id")


def test_bad_mapping_and_missing_file(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,agent,Hello,1,\n")
    with pytest.raises(DataError, match="role_map"):
        load_csv(path, **{**MAPPED, "role_map": {"agent": "seller"}})
    with pytest.raises(DataError, match="file not found"):
        load_csv(tmp_path / "nope.csv")
