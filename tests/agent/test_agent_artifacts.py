"""Artifacts: safetensors + JSON round trip, backend check, no pickle, no SB3 at predict time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from salesrl.agent import ConversionAgent, Episodes
from salesrl.agent.artifacts import IncompatibleArtifactError


def test_save_load_roundtrip_gives_identical_predictions(
        ensemble_agent: ConversionAgent, ppo_agent: ConversionAgent,
        toy_test: tuple[Episodes, list], tmp_path: Path) -> None:
    x = np.concatenate(toy_test[0].obs)
    for name, agent in (("ens", ensemble_agent), ("ppo", ppo_agent)):
        out = agent.save(tmp_path / name)
        assert sorted(p.name for p in out.iterdir()) == ["agent.json", "weights.safetensors"]
        back = ConversionAgent.load(out)
        np.testing.assert_array_equal(back.predict_proba_rows(x), agent.predict_proba_rows(x))
        np.testing.assert_array_equal(back.predict_members(x), agent.predict_members(x))
        assert back.calibrator_ == agent.calibrator_
        assert back.layout_ == agent.layout_ and back.input_layout_ == agent.input_layout_
    doc = json.loads((tmp_path / "ens" / "agent.json").read_text())
    assert doc["embedding"] == {"backend": "toy-backend", "dim": 3}
    assert doc["ensemble"]["size"] == 3 and doc["retrieval"]["k"] == 10
    assert {"torch", "numpy", "safetensors"} <= set(doc["versions"])


def test_loading_for_another_backend_fails_clearly(ensemble_agent: ConversionAgent,
                                                   tmp_path: Path) -> None:
    path = ensemble_agent.save(tmp_path / "a")
    ConversionAgent.load(path, embedding_backend="toy-backend", embedding_dim=3)  # fine
    with pytest.raises(IncompatibleArtifactError,
                       match="trained on embedding backend 'toy-backend' \\(dim 3\\).*'minilm'"):
        ConversionAgent.load(path, embedding_backend="minilm", embedding_dim=384)
    with pytest.raises(IncompatibleArtifactError, match="dim 3"):
        ConversionAgent.load(path, embedding_dim=256)
    with pytest.raises(FileNotFoundError, match="no agent artifact"):
        ConversionAgent.load(tmp_path / "missing")


def test_weights_file_is_safetensors_not_pickle(ensemble_agent: ConversionAgent,
                                                tmp_path: Path) -> None:
    from safetensors import safe_open

    path = ensemble_agent.save(tmp_path / "a")
    raw = (path / "weights.safetensors").read_bytes()
    assert not raw.startswith(b"\x80") and b"PK\x03\x04" not in raw[:8]
    with safe_open(str(path / "weights.safetensors"), framework="np") as f:
        keys = list(f.keys())
    assert any(k.startswith("member2.") for k in keys)
    assert any(k.startswith("retrieval.vectors") for k in keys)


def test_wrong_row_width_is_a_clear_error(ensemble_agent: ConversionAgent) -> None:
    with pytest.raises(ValueError, match="expected rows of width"):
        ensemble_agent.predict_proba_rows(np.zeros((2, 5)))
    with pytest.raises(RuntimeError, match="not fitted"):
        ConversionAgent().predict_proba_rows(np.zeros((1, 3)))


def test_prediction_needs_neither_sb3_nor_gymnasium(ensemble_agent: ConversionAgent,
                                               tmp_path: Path) -> None:
    path = ensemble_agent.save(tmp_path / "a")
    width = ensemble_agent.input_layout_.obs_dim
    code = (
        "import sys, numpy as np\n"
        "from salesrl.agent.model import ConversionAgent\n"
        f"a = ConversionAgent.load({str(path)!r})\n"
        f"p = a.predict_proba_rows(np.zeros((3, {width}), dtype=np.float32))\n"
        "assert p.shape == (3,)\n"
        "heavy = [m for m in ('stable_baselines3', 'gymnasium') if m in sys.modules]\n"
        "assert not heavy, f'imported at predict time: {heavy}'\n"
        "print('ok')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "ok" in res.stdout
