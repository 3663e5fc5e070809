"""Plain-text transcripts: speakers, continuation lines, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesrl.conversation import DataError, Outcome, Role
from salesrl.conversation.plaintext import parse_plaintext, read_plaintext

CALL = """\
# a note that is skipped
Rep: Hi Sam, thanks for taking the time.
Customer: Sure. We mostly use spreadsheets
and it takes forever.

Sales Rep: What would a faster close be worth?
CLIENT:   Honestly? A lot.
   Note: we close the books on the 5th.
"""


def test_parses_speakers_and_continuations() -> None:
    conv = parse_plaintext(CALL, conversation_id="call-1")
    assert conv.id == "call-1" and conv.outcome is Outcome.UNKNOWN
    assert [t.role for t in conv.turns] == [Role.REP, Role.CUSTOMER, Role.REP, Role.CUSTOMER]
    assert conv.turns[1].text == "Sure. We mostly use spreadsheets and it takes forever."
    # an indented line always continues, even with a colon in it
    assert conv.turns[3].text == "Honestly? A lot. Note: we close the books on the 5th."


def test_unknown_speaker_names_the_line() -> None:
    with pytest.raises(DataError, match=r"call.txt:3: unknown speaker 'Manager'") as info:
        parse_plaintext("Rep: hi\nCustomer: hello\nManager: I decide\n", file="call.txt")
    assert info.value.line == 3


def test_text_before_first_speaker_and_empty_input() -> None:
    with pytest.raises(DataError, match=":1: text before the first speaker"):
        parse_plaintext("hello there\nRep: hi\n", file="x.txt")
    with pytest.raises(DataError, match="no turns found"):
        parse_plaintext("\n# only a comment\n")
    with pytest.raises(DataError, match=":2: empty turn"):
        parse_plaintext("Rep: hi\nCustomer:\n", file="x.txt")


def test_read_plaintext_uses_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "demo-call.txt"
    path.write_text("Rep: hi\nCustomer: hello, what does it cost?\n", encoding="utf-8")
    conv = read_plaintext(path)
    assert conv.id == "demo-call" and len(conv.turns) == 2
    with pytest.raises(DataError, match="file not found"):
        read_plaintext(tmp_path / "missing.txt")
