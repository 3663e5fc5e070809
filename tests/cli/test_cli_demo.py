"""``salesrl demo``: the agent part (the baseline part is the evaluation harness, tested there)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from salesrl.cli.demo import EXAMPLE_CALL
from salesrl.cli.main import app
from salesrl.conversation.plaintext import parse_plaintext


def test_example_call_parses() -> None:
    conv = parse_plaintext(EXAMPLE_CALL)
    assert len(conv.turns) == 10 and conv.turns[0].role.value == "rep"
    assert conv.turns[6].text.endswith("20% off the first year.")  # a continuation line


def test_demo_analyses_the_example_call(trained: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(app, ["demo", "--no-baselines", "--agent", str(trained[0])])
    assert result.exit_code == 0, result.output
    assert "the agent" in result.output and "example call: P(sale) after each turn" in \
        result.output
    assert result.output.count("%") >= 10


def test_demo_with_a_missing_model_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--no-baselines", "--agent", str(tmp_path)])
    assert result.exit_code == 2 and "agent.json" in result.output
