"""Output that goes to a pipe or a file is wide enough for the turn table."""

from __future__ import annotations

import pytest

from salesrl.cli.app import PIPED_WIDTH, make_console


def test_piped_output_is_wide_when_columns_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    out = make_console()
    assert not out.is_terminal  # pytest captures stdout
    assert out.width == PIPED_WIDTH > 80


def test_columns_wins_over_the_piped_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert make_console().width == 100
    assert make_console(stderr=True).width == 100
