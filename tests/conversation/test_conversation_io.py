"""The schema and its JSONL format: round trip, located errors, prefixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salesrl.conversation import (
    Conversation,
    DataError,
    Metadata,
    Outcome,
    Role,
    Turn,
    TurnAnnotations,
    parse_conversation,
    read_jsonl,
    write_jsonl,
)


def _conv(cid: str = "c1", outcome: str = "converted") -> Conversation:
    return Conversation(
        id=cid,
        outcome=Outcome(outcome),
        metadata=Metadata(industry="saas", channel="call", source="test",
                          extra={"listing_price": 12.5, "tags": ["a", "b"], "note": None}),
        turns=[
            Turn(role=Role.REP, text="Hi, thanks for taking the call.", start=0.0, end=2.5,
                 speaker="ann", annotations=TurnAnnotations(acts=["small_talk"], oracle=0.4)),
            Turn(role=Role.CUSTOMER, text="Sure, what's this about?",
                 annotations=TurnAnnotations(acts=["question"], bayes=0.5)),
            Turn(role=Role.REP, text="Our pricing — ünïcode ok?", start=3.0),
        ],
    )


def _write_lines(path: Path, objs: list[object | str]) -> Path:
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n",
                    encoding="utf-8")
    return path


def _obj(**overrides: object) -> dict:
    obj = json.loads(_conv().model_dump_json(exclude_none=True))
    obj.update(overrides)
    return obj


def test_round_trip(tmp_path: Path) -> None:
    convs = [_conv("c1"), _conv("c2", "not_converted"), _conv("c3", "unknown")]
    path = tmp_path / "sub" / "out.jsonl"
    assert write_jsonl(convs, path) == 3
    back = read_jsonl(path)
    assert back == convs
    assert back[0].metadata.extra == {"listing_price": 12.5, "tags": ["a", "b"], "note": None}
    assert back[0].turns[0].annotations.acts == ["small_talk"]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    bad = _obj(id="c2")
    bad["turns"][0]["text"] = " "
    path = _write_lines(tmp_path / "x.jsonl", [_obj(), "", "   ", bad])
    with pytest.raises(DataError) as exc:
        read_jsonl(path)
    assert exc.value.line == 4


def _error(tmp_path: Path, objs: list[object | str], **kwargs: object) -> DataError:
    path = _write_lines(tmp_path / "bad.jsonl", objs)
    with pytest.raises(DataError) as exc:
        read_jsonl(path, **kwargs)
    assert exc.value.file == str(path)
    assert str(path) in str(exc.value)
    return exc.value


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    err = _error(tmp_path, [_obj(), '{"id": "c2", "turns": [}'])
    assert err.line == 2
    assert "invalid JSON" in str(err)
    assert "bad.jsonl:2" in str(err)


def test_unknown_role_names_field(tmp_path: Path) -> None:
    obj = _obj()
    obj["turns"][1]["role"] = "agent"
    err = _error(tmp_path, [obj])
    assert (err.line, err.field) == (1, "turns[1].role")
    assert "'turns[1].role'" in str(err) and "rep" in str(err)


def test_empty_text_names_field(tmp_path: Path) -> None:
    obj = _obj()
    obj["turns"][0]["text"] = "   "
    err = _error(tmp_path, [_obj(id="ok"), obj])
    assert (err.line, err.field) == (2, "turns[0].text")
    assert "empty text" in err.reason


def test_missing_outcome_names_field(tmp_path: Path) -> None:
    obj = _obj()
    del obj["outcome"]
    err = _error(tmp_path, [obj])
    assert (err.line, err.field) == (1, "outcome")


def test_require_outcome_rejects_unknown(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "u.jsonl", [_obj(), _obj(id="c2", outcome="unknown")])
    assert len(read_jsonl(path)) == 2
    err = _error(tmp_path, [_obj(), _obj(id="c2", outcome="unknown")], require_outcome=True)
    assert (err.line, err.field) == (2, "outcome")


def test_duplicate_ids(tmp_path: Path) -> None:
    err = _error(tmp_path, [_obj(id="a"), _obj(id="b"), _obj(id="a")])
    assert (err.line, err.field) == (3, "id")
    assert "line 1" in err.reason


@pytest.mark.parametrize(("turn", "field"), [
    ({"role": "rep", "text": "x", "start": 5.0, "end": 1.0}, "turns[0]"),
    ({"role": "rep", "text": "x", "start": -1.0}, "turns[0].start"),
    ({"role": "rep", "text": "x", "mood": "happy"}, "turns[0].mood"),
    ({"role": "rep", "text": "x", "annotations": {"oracle": 1.5}}, "turns[0].annotations.oracle"),
])
def test_other_turn_errors_are_located(turn: dict, field: str) -> None:
    with pytest.raises(DataError) as exc:
        parse_conversation({"id": "c", "outcome": "unknown", "turns": [turn]}, file="f", line=7)
    assert (exc.value.file, exc.value.line, exc.value.field) == ("f", 7, field)


def test_non_finite_times_are_rejected(tmp_path: Path) -> None:
    # JSON "Infinity" parses to inf; it used to be accepted and then written back as null.
    obj = _obj()
    obj["turns"][0]["start"] = float("inf")
    err = _error(tmp_path, [obj])
    assert err.field == "turns[0].start"


def test_missing_file() -> None:
    with pytest.raises(DataError, match="file not found"):
        read_jsonl("/nonexistent/x.jsonl")


def test_prefix_drops_later_turns_outcome_and_annotations() -> None:
    conv = _conv()
    p = conv.prefix(2)
    assert [t.text for t in p.turns] == [t.text for t in conv.turns[:2]]
    assert p.outcome is Outcome.UNKNOWN and p.converted is None
    assert all(t.annotations is None for t in p.turns)
    assert p.turns[0].start == 0.0 and p.turns[0].speaker == "ann"
    assert p.id == conv.id and p.metadata == conv.metadata
    # the original is untouched
    assert conv.outcome is Outcome.CONVERTED and conv.turns[0].annotations is not None
    assert len(conv.prefix(0)) == 0 and len(conv.prefix(3)) == 3
    with pytest.raises(ValueError):
        p.label  # noqa: B018
    for bad in (-1, 4):
        with pytest.raises(ValueError):
            conv.prefix(bad)


def test_label_and_converted() -> None:
    assert _conv(outcome="converted").label == 1
    assert _conv(outcome="not_converted").label == 0
    assert _conv(outcome="not_converted").converted is False
