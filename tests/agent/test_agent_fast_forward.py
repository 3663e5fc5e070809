"""The stacked ensemble forward (``member_logits``) equals the plain per-member loop."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from salesrl.agent import ConversionAgent, ObsLayout
from salesrl.agent.networks import PolicyNet, combine_logits, member_logits, stack_members
from salesrl.models import DEFAULT_MODEL_DIR


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path))


def reference_logits(members: Sequence[PolicyNet], rows: np.ndarray, bound: float
                     ) -> np.ndarray:
    """The previous implementation: one eval-mode forward per member."""
    x = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    with torch.inference_mode():
        return np.stack([m.eval()(x).clamp(-bound, bound).numpy() for m in members], axis=1)


def _members(lay: ObsLayout, k: int = 3, clip: float | None = 5.0,
             state_hidden: tuple[int, ...] = (8, 6), pi_arch: tuple[int, ...] = (8, 4)
             ) -> list[PolicyNet]:
    out = []
    for seed in range(k):
        torch.manual_seed(seed)
        m = PolicyNet(lay, state_hidden, 5, 0.1, pi_arch, input_clip=clip)
        with torch.no_grad():  # distinct normalisers per member, as after training
            for b in (m.encoder.in_mean, m.encoder.turn_mean):
                b.normal_()
            for b in (m.encoder.in_std, m.encoder.turn_std):
                b.uniform_(0.5, 2.0)
            for name in ("weight", "bias"):  # non-trivial layer-norm affines
                getattr(m.encoder.out_norm, name).normal_()
        out.append(m.eval())
    return out


def _rows(lay: ObsLayout, n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.normal(0, 3, (n, lay.obs_dim)).astype(np.float32)
    d, k, e = lay.state_dim, lay.window, lay.turn_dim
    real = rng.integers(0, k + 1, n)  # newest slots real, like the state tracker's rows
    x[:, d + k * e : d + k * e + k] = (np.arange(k)[None, :] >= k - real[:, None])
    return x


@pytest.mark.parametrize("clip", [5.0, None])
@pytest.mark.parametrize("extra", [0, 2])
def test_stacked_forward_matches_member_loop(clip: float | None, extra: int) -> None:
    lay = ObsLayout(state_dim=6, window=4, turn_dim=3, extra_dim=extra)
    members = _members(lay, clip=clip)
    rng = np.random.default_rng(0)
    rows = _rows(lay, 300, rng)
    ref = reference_logits(members, rows, 8.0)
    assert stack_members(members) is not None
    np.testing.assert_allclose(member_logits(members, rows, 8.0), ref, atol=1e-5)
    single = np.concatenate([member_logits(members, r[None], 8.0) for r in rows[:40]])
    np.testing.assert_allclose(single, ref[:40], atol=1e-5)
    # chunking does not matter; a batch whose first slots are all masked skips them
    np.testing.assert_allclose(member_logits(members, rows, 8.0, batch=7), ref, atol=1e-5)
    short = rows[rows[:, -lay.window - extra] == 0]
    np.testing.assert_allclose(member_logits(members, short, 8.0),
                               reference_logits(members, short, 8.0), atol=1e-5)


def test_soft_masks_and_window_only_layout() -> None:
    lay = ObsLayout(state_dim=0, window=3, turn_dim=2)
    members = _members(lay, 2, state_hidden=(), pi_arch=(4,))
    rows = _rows(lay, 50, np.random.default_rng(1))
    rows[:, -3:] *= np.random.default_rng(2).uniform(0, 1, (50, 3)).astype(np.float32)
    np.testing.assert_allclose(member_logits(members, rows, 8.0),
                               reference_logits(members, rows, 8.0), atol=1e-5)


def test_cache_follows_in_place_weight_changes() -> None:
    lay = ObsLayout(state_dim=4, window=2, turn_dim=2)
    members = _members(lay, 2)
    rows = _rows(lay, 20, np.random.default_rng(3))
    before = member_logits(members, rows, 8.0)
    assert stack_members(members) is stack_members(members)  # cached
    with torch.no_grad():
        members[1].action_net.bias.add_(0.5)
    after = member_logits(members, rows, 8.0)
    np.testing.assert_allclose(after, reference_logits(members, rows, 8.0), atol=1e-5)
    np.testing.assert_allclose(after[:, 1] - before[:, 1], 0.5, atol=1e-5)
    np.testing.assert_array_equal(after[:, 0], before[:, 0])


def test_members_of_different_shapes_fall_back_to_the_loop() -> None:
    lay = ObsLayout(state_dim=4, window=2, turn_dim=2)
    members = [_members(lay, 1)[0], _members(lay, 1, state_hidden=(3,))[0]]
    assert stack_members(members) is None
    rows = _rows(lay, 10, np.random.default_rng(4))
    np.testing.assert_allclose(member_logits(members, rows, 8.0),
                               reference_logits(members, rows, 8.0), atol=1e-5)


def test_shipped_model_gives_the_same_probabilities() -> None:
    agent = ConversionAgent.load(DEFAULT_MODEL_DIR)
    lay = agent.input_layout_
    rng = np.random.default_rng(5)
    enc = agent.members_[0].encoder
    rows = _rows(lay, 300, rng)
    d, k, e = lay.state_dim, lay.window, lay.turn_dim
    # rows on the scale the encoder was trained on
    rows[:, :d] = enc.in_mean[:d].numpy() + rows[:, :d] / 3 * enc.in_std[:d].numpy()
    win = rows[:, d : d + k * e].reshape(-1, k, e)
    win[:] = enc.turn_mean.numpy() + win / 3 * enc.turn_std.numpy()
    x = agent._prepare(rows)
    z = reference_logits(agent.members_, x, agent.config_.action_bound) + agent.offsets_
    if getattr(agent, "linear_", None) is not None:  # the network models its residual
        z = z + x[:, -1:].astype(np.float64)
    extra = lay.split(x[:, : lay.obs_dim])[3]
    c = agent.calibrator_
    log_turns = rows[:, c.turn_column].astype(np.float64) if c.uses_turns else None
    cal = c.apply(combine_logits(z, agent.config_.ensemble_combine), extra, log_turns)
    old = 1 / (1 + np.exp(-cal))
    new = agent.predict_proba_rows(rows)
    assert np.abs(new - old).max() < 1e-5
    assert np.ptp(new) > 0.01  # the rows are not all the same
