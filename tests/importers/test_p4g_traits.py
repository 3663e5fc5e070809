"""PersuasionForGood with the persuadee's survey traits as customer metadata (``p4g-traits``):
what goes in, and that the donation (B6) and the turn count (B7) never do."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from salesrl.cli.main import app
from salesrl.conversation import read_jsonl
from salesrl.importers import IMPORTERS, load_persuasionforgood, load_persuasionforgood_dir

HEADER = "B2,B3,B4,B6,B7,extrovert.x,age.x,sex.x,income.x\n"
DIALOG = (",Unit,Turn,B4,B2\n"
          "0,Hello there.,0,0,d1\n1,Fine.,0,1,d1\n2,Will you donate?,1,0,d1\n"
          "3,Hi.,0,0,d2\n4,Hey.,0,1,d2\n")
# distinctive numbers for B6 / B7 so that a leak would show up anywhere in the metadata
INFO = ("d1,u1,0,0.0,77,3.0,40.0,Male,5.0\n"
        "d1,u2,1,0.0,77,4.2,31.0,Female,\n"
        "d2,u3,0,1.0,66,3.0,50.0,Male,6.0\n"
        "d2,u4,1,0.61,66,2.8,,Other,9.0\n")


def _files(tmp_path: Path) -> tuple[Path, Path]:
    d, i = tmp_path / "full_dialog.csv", tmp_path / "full_info.csv"
    d.write_text(DIALOG, encoding="utf-8")
    i.write_text(HEADER + INFO, encoding="utf-8")
    return d, i


def test_traits_of_the_persuadee_become_customer_metadata(tmp_path: Path) -> None:
    d1, d2 = load_persuasionforgood(*_files(tmp_path), traits=True)
    assert d1.metadata.extra == {"customer": {"extrovert": 4.2, "age": 31.0, "sex": "Female"}}
    assert d2.metadata.extra == {"customer": {"extrovert": 2.8, "sex": "Other", "income": 9.0}}
    assert d1.metadata.rep_id == "u1"  # the persuader stays the rep; their traits stay out


def test_donation_and_turn_count_never_reach_the_metadata(tmp_path: Path) -> None:
    for conv in load_persuasionforgood(*_files(tmp_path), traits=True):
        dumped = conv.metadata.model_dump_json()
        customer = conv.metadata.extra["customer"]
        assert not {"B6", "B7", "B5", "donation"} & set(customer)
        for leak in ("77", "66", "0.61"):  # B7 of d1 / d2 and the persuadee's B6 of d2
            assert leak not in dumped


def test_off_by_default_and_registered_for_convert(tmp_path: Path) -> None:
    assert all(c.metadata.extra == {} for c in load_persuasionforgood(*_files(tmp_path)))
    convs = IMPORTERS["p4g-traits"](tmp_path)
    assert convs[0].metadata.extra["customer"]["age"] == 31.0
    assert [c.id for c in convs] == [c.id for c in load_persuasionforgood_dir(tmp_path)]


def test_convert_p4g_traits(tmp_path: Path) -> None:
    _files(tmp_path)
    out = tmp_path / "ctx.jsonl"
    result = CliRunner().invoke(app, ["convert", str(tmp_path), "--from", "p4g-traits",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_jsonl(out)[1].metadata.extra["customer"]["income"] == 9.0
    plain = tmp_path / "plain.jsonl"
    assert CliRunner().invoke(app, ["convert", str(tmp_path), "--from", "p4g", "-o",
                                    str(plain)]).exit_code == 0
    assert all(c.metadata.extra == {} for c in read_jsonl(plain))
