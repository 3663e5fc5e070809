"""``salesrl convert`` through typer's CliRunner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from salesrl.cli import convert as convert_module
from salesrl.cli.app import app
from salesrl.conversation import Outcome, read_jsonl
from salesrl.importers import persuasionforgood_dir

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    # ``convert`` is registered on the shared app; invoke it through a small app with a callback
    # so that "convert" stays a subcommand whatever else is (or is not yet) registered.
    assert any(c.callback is convert_module.convert for c in app.registered_commands)
    local = typer.Typer()
    local.callback()(lambda: None)
    local.command()(convert_module.convert)
    return local


def _run(cli: typer.Typer, *args: str):
    return CliRunner().invoke(cli, ["convert", *map(str, args)])


def test_csv_with_mapping(cli: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "calls.csv"
    src.write_text("call,who,said,result\n1,agent,Hello,won\n1,client,Hi,\n2,agent,Yo,lost\n"
                   "3,agent,Hey,\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = _run(cli, "--from", "csv", src, "-o", out, "--id-col", "call", "--role-col", "who",
               "--text-col", "said", "--outcome-col", "result",
               "--role-map", "agent=rep,client=customer",
               "--outcome-map", "won=converted,lost=not_converted")
    assert res.exit_code == 0, res.output
    assert "Wrote 3 conversations" in res.output
    assert "1 / 2" in res.output and "50.0 %" in res.output and "1 unknown" in res.output
    convs = read_jsonl(out)
    assert [c.outcome for c in convs] == [Outcome.CONVERTED, Outcome.NOT_CONVERTED,
                                          Outcome.UNKNOWN]


def test_craigslist_prints_warnings(cli: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "cb.jsonl"
    res = _run(cli, "--from", "craigslist", FIXTURES / "craigslist_sample.json", "-o", out)
    assert res.exit_code == 0, res.output
    assert "warning:" in res.output and "'typing'" in res.output
    assert "Wrote 4 conversations" in res.output and "2 / 3" in res.output
    assert len(read_jsonl(out)) == 4


def test_p4g_folder(cli: typer.Typer, tmp_path: Path) -> None:
    full = tmp_path / "p4g" / "FullData"
    full.mkdir(parents=True)
    src = persuasionforgood_dir() / "FullData"
    ids = []
    with (src / "full_dialog.csv").open(encoding="utf-8") as fh, \
            (full / "full_dialog.csv").open("w", encoding="utf-8") as out_fh:
        for i, line in enumerate(fh):  # the first ~3 dialogues keep the test fast
            if i > 60:
                break
            out_fh.write(line)
            ids.append(line.rstrip().rsplit(",", 1)[-1])
    shutil.copy(src / "full_info.csv", full / "full_info.csv")
    out = tmp_path / "p4g.jsonl"
    res = _run(cli, "--from", "p4g", tmp_path / "p4g", "-o", out)
    assert res.exit_code == 0, res.output
    n = len(set(ids[1:]))
    assert f"Wrote {n} conversations" in res.output
    assert "conversion rate" in res.output
    assert "have info rows but no units" in res.output  # the other ~1,000 info rows
    assert [c.id for c in read_jsonl(out)] == list(dict.fromkeys(ids[1:]))


def _assert_one_line_error(res, *needles: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    for needle in needles:
        assert needle in lines[0], res.output


def test_bad_csv_exits_2_with_located_message(cli: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "calls.csv"
    src.write_text("id,role,text\n1,rep,Hello\n1,agent,Hi\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = _run(cli, "--from", "csv", src, "-o", out)
    _assert_one_line_error(res, "calls.csv:3", "'role'", "unknown role 'agent'")
    assert not out.exists()


def test_bad_craigslist_and_bad_options_exit_2(cli: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "cb.json"
    src.write_text('[{"uuid": "x", "scenario": {"kbs": []}, "events": []}]', encoding="utf-8")
    res = _run(cli, "--from", "craigslist", src, "-o", tmp_path / "o.jsonl")
    _assert_one_line_error(res, "cb.json", "[0].scenario.kbs")

    res = _run(cli, "--from", "p4g", tmp_path / "missing", "-o", tmp_path / "o.jsonl")
    _assert_one_line_error(res, "missing", "full_dialog.csv")

    csv = tmp_path / "c.csv"
    csv.write_text("id,role,text\n1,agent,Hello\n", encoding="utf-8")
    res = _run(cli, "--from", "csv", csv, "-o", tmp_path / "o.jsonl", "--role-map", "agent")
    _assert_one_line_error(res, "--role-map")

    res = _run(cli, "--from", "craigslist", src, "-o", tmp_path / "o.jsonl", "--id-col", "x")
    _assert_one_line_error(res, "--id-col", "--from csv")
