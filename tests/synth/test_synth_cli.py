"""``salesrl generate`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import salesrl.cli.generate  # noqa: F401  (registers the command)
from salesrl.cli.app import app
from salesrl.conversation import read_jsonl


def _invoke(args: list[str]):
    # The app always runs in group mode (it has a root callback), so name the command.
    return CliRunner().invoke(app, ["generate", *args])


def test_generate_writes_a_valid_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "synthetic.jsonl"
    result = _invoke(["-n", "40", "--seed", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "40 conversations" in result.output and "conversion rate" in result.output
    assert "conversations/s" in result.output
    convs = read_jsonl(out, require_outcome=True)
    assert len(convs) == 40
    again = tmp_path / "again.jsonl"
    assert _invoke(["-n", "40", "--seed", "2", "-o", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_generate_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    result = _invoke(["-n", "-3", "-o", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output
    result = _invoke(["-n", "3", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "directory" in result.output
