"""``minilm-q8``: int8 matrix products derived from the verified MiniLM file, checked at load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from salesrl.features.embeddings import ModelIntegrityError, get_backend
from salesrl.features.embeddings.minilm import MODEL_SHA256
from salesrl.features.embeddings.minilm_q8 import derived_model_path

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("q8cache")


@pytest.fixture(scope="module")
def q8(cache_dir: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALESRL_CACHE_DIR", str(cache_dir))
        yield get_backend("minilm-q8").load()


def test_runs_int8_products_and_stays_close_to_minilm(q8) -> None:
    out = q8.embed(REFERENCE["texts"])
    ref = np.asarray(REFERENCE["embeddings"], dtype=np.float32)
    cos = (out * ref).sum(axis=1)
    assert out.shape == ref.shape and np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert cos.min() > 0.98, cos
    assert q8.model_id != get_backend("minilm").model_id


def test_derived_graph_uses_integer_matmul(q8, cache_dir: Path) -> None:
    import onnx

    path = derived_model_path(MODEL_SHA256, cache_dir / "models")
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "MatMulInteger" in ops


def test_tampered_derived_file_is_refused(q8, cache_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(cache_dir))
    path = derived_model_path(MODEL_SHA256, cache_dir / "models")
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-16] + bytes(16))
        with pytest.raises(ModelIntegrityError):
            get_backend("minilm-q8").load()
    finally:
        path.write_bytes(original)
