"""``salesrl simulate-ab`` on a tiny run writes the contract keys."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from salesrl.cli.main import app


def test_simulate_ab_tiny(tmp_path: Path) -> None:
    out = tmp_path / "ab.json"
    result = CliRunner().invoke(app, [
        "simulate-ab", "--n", "300", "--n-logged", "200", "--advisor-steps", "5",
        "--ppo-steps", "256", "--seed", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in ("control_rate", "treatment_rate", "relative_uplift", "ppo_relative_uplift"):
        assert isinstance(data[key], float)
    assert len(data["uplift_ci"]) == 2 and data["uplift_ci"][0] <= data["uplift_ci"][1]
    assert data["n_per_arm"] == 300


def test_simulate_ab_bad_adherence(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate-ab", "--adherence", "2",
                                      "--json", str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert "adherence" in result.output
