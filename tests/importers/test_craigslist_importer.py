"""CraigslistBargain importer on a hand-written fixture in the original release format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salesrl.conversation import DataError, Outcome, Role, read_jsonl, write_jsonl
from salesrl.importers import IMPORTERS, DataWarning, load_craigslist

FIXTURE = Path(__file__).parent / "fixtures" / "craigslist_sample.json"


@pytest.fixture(scope="module")
def convs():
    with pytest.warns(DataWarning) as record:
        out = load_craigslist(FIXTURE)
    messages = [str(w.message) for w in record]
    assert any("1 dialogue(s) have no outcome" in m for m in messages)
    assert any("1 x action 'typing'" in m for m in messages)
    return {c.id: c for c in out}


def test_outcomes(convs) -> None:
    assert list(convs) == ["C_deal", "C_nodeal", "C_unknown_action", "C_no_outcome"]
    assert convs["C_deal"].outcome is Outcome.CONVERTED
    assert convs["C_nodeal"].outcome is Outcome.NOT_CONVERTED
    assert convs["C_unknown_action"].outcome is Outcome.CONVERTED
    assert convs["C_no_outcome"].outcome is Outcome.UNKNOWN


def test_only_messages_become_turns_seller_is_rep(convs) -> None:
    deal = convs["C_deal"]  # agent 0 is the buyer here
    assert [(t.role, t.text) for t in deal.turns] == [
        (Role.CUSTOMER, "Hi, is the table still available?"),
        (Role.REP, "Yes it is. It's in great shape."),
        (Role.CUSTOMER, "Would you take 150?"),
        (Role.REP, "I could do 175 if you pick it up."),
    ]
    nodeal = convs["C_nodeal"]  # agent 0 is the seller here
    assert [t.role for t in nodeal.turns] == [Role.CUSTOMER, Role.REP, Role.CUSTOMER]
    assert [t.text for t in convs["C_unknown_action"].turns] == ["Would you do 15?",
                                                                  "Sure, 15 works."]
    for conv in convs.values():  # nothing of the offers / accept / reject leaks into the text
        assert all("price" not in t.text and "accept" not in t.text for t in conv.turns)


def test_times_are_relative_to_the_first_event(convs) -> None:
    assert [t.start for t in convs["C_deal"].turns] == [0.0, 4.5, 10.0, 20.0]
    assert [t.start for t in convs["C_nodeal"].turns] == [0.0, 3.0, 9.0]
    assert all(t.start is None for t in convs["C_unknown_action"].turns)


def test_metadata(convs) -> None:
    md = convs["C_deal"].metadata
    assert (md.industry, md.product, md.channel, md.source) == (
        "classifieds", "Oak dining table", "chat", "craigslistbargain")
    assert md.extra == {"listing_price": 200.0, "title": "Oak dining table",
                        "category": "furniture", "buyer_target": 150.0, "seller_target": 200.0}
    assert convs["C_nodeal"].metadata.extra["buyer_target"] == 250.0


def test_round_trip_and_require_outcome(convs, tmp_path: Path) -> None:
    path = tmp_path / "cb.jsonl"
    write_jsonl(convs.values(), path)
    assert read_jsonl(path) == list(convs.values())
    with pytest.raises(DataError) as exc:
        read_jsonl(path, require_outcome=True)
    assert (exc.value.line, exc.value.field) == (4, "outcome")
    assert IMPORTERS["craigslist"] is load_craigslist


def _broken(tmp_path: Path, edit) -> Path:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d[1]["scenario"]["kbs"][0]["personal"].update(Role="broker"),
     "[1].scenario.kbs[0].personal.Role"),
    (lambda d: d[1]["scenario"]["kbs"][1]["personal"].update(Role="seller"), "[1].scenario.kbs"),
    (lambda d: d[0]["events"][2].update(agent=2), "[0].events[2].agent"),
    (lambda d: d[0]["events"][2].update(data={"x": 1}), "[0].events[2].data"),
    (lambda d: d[0]["events"][1].update(time="noon"), "[0].events[1].time"),
    (lambda d: d[2].pop("events"), "[2].events"),
    (lambda d: d[3].update(uuid="C_deal"), "[3].uuid"),
])
def test_structural_errors_are_located(tmp_path: Path, edit, field: str) -> None:
    path = _broken(tmp_path, edit)
    with pytest.raises(DataError) as exc:
        load_craigslist(path)
    assert (exc.value.file, exc.value.field) == (str(path), field)


def test_empty_message_is_skipped_and_counted(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d[0]["events"][2].update(data="  "))
    with pytest.warns(DataWarning) as record:
        out = load_craigslist(path)
    assert any("skipped 1 message event(s) with empty text" in str(w.message) for w in record)
    assert len(out[0]) == 3


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('[\n{"uuid": }\n]', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_craigslist(path)
    assert exc.value.line == 2 and "invalid JSON" in str(exc.value)
    path.write_text('{"uuid": "x"}', encoding="utf-8")
    with pytest.raises(DataError, match="list of dialogues"):
        load_craigslist(path)
