"""Checks and set-ups shared by the test rooms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def assert_same_move(a: dict[str, Any] | None, b: dict[str, Any] | None) -> None:
    """Same advice; Q values to float32 rounding (a batched forward pass may differ by 1 ulp)."""
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            assert a[key] == pytest.approx(b[key], abs=1e-6), key
        elif key == "alternatives":
            assert [x[0] for x in a[key]] == [x[0] for x in b[key]]
            assert [x[1] for x in a[key]] == pytest.approx([x[1] for x in b[key]], abs=1e-6)
        else:
            assert a[key] == b[key], key


@pytest.fixture
def same_move() -> Callable[[dict[str, Any] | None, dict[str, Any] | None], None]:
    """:func:`assert_same_move`, for tests that compare next moves across code paths."""
    return assert_same_move


#: ``TrainConfig`` overrides that make an agent fit in seconds (one member, a few hundred PPO
#: steps): for tests of the product surface, not of what the agent learns
TINY_TRAINING: dict[str, Any] = dict(
    ensemble_size=1, ppo_steps=256, n_envs=2, n_steps=128, ppo_batch_size=64, ppo_epochs=1,
    critic_prefit_epochs=1, ws_epochs=3, retrieval_max_rows=500)


@pytest.fixture(scope="session")
def tiny_training() -> dict[str, Any]:
    """A copy of :data:`TINY_TRAINING` (add keys with ``{**tiny_training, ...}``)."""
    return dict(TINY_TRAINING)


@pytest.fixture
def hashing_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The offline hashing embedding and a cache folder of the test's own."""
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def thread_pools() -> Any:
    """torch (the module), with torch's intra-op threads and every BLAS / OpenMP pool restored
    after the test (they are process-wide)."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    with threadpool_limits(limits=None):  # restores every pool's size on exit
        yield torch
    torch.set_num_threads(before)
