"""The ``small`` preset, input clipping, and the old-artifact defaults of new config fields."""

from __future__ import annotations

import pytest
import torch

from salesrl.agent import ObsLayout, TrainConfig
from salesrl.agent.networks import StateEncoder


def test_small_preset_is_fast_narrowed_and_regularised() -> None:
    fast, small = TrainConfig.preset("fast"), TrainConfig.preset("small")
    assert small.ensemble_size == fast.ensemble_size and small.ppo_steps == fast.ppo_steps
    assert small.gru_hidden < fast.gru_hidden and small.dropout > fast.dropout
    assert small.ws_weight_decay > fast.ws_weight_decay and not small.curriculum
    assert small.input_clip == 5.0
    assert TrainConfig.preset("small", ensemble_size=1).ensemble_size == 1
    with pytest.raises(ValueError, match="small"):
        TrainConfig.preset("huge")


def test_configs_saved_before_the_new_fields_load_with_them_off() -> None:
    old = TrainConfig.preset("fast").to_dict()
    for key in ("input_clip", "stack_extra"):
        old.pop(key)
    cfg = TrainConfig.from_dict(old)
    assert cfg.input_clip is None  # old artifacts keep their unclipped encoder


def test_input_clip_bounds_an_outlier_feature() -> None:
    layout = ObsLayout(state_dim=3)
    torch.manual_seed(0)
    clipped = StateEncoder(layout, (8,), 0, 0.0, input_clip=5.0).eval()
    plain = StateEncoder(layout, (8,), 0, 0.0).eval()
    plain.load_state_dict(clipped.state_dict())
    normal = torch.tensor([[0.5, -1.0, 2.0]])
    assert torch.allclose(clipped(normal), plain(normal))
    far = torch.tensor([[0.5, -1.0, 60.0]])
    at_clip = torch.tensor([[0.5, -1.0, 5.0]])
    assert torch.allclose(clipped(far), clipped(at_clip))
    assert not torch.allclose(plain(far), plain(at_clip))


def test_small_data_switch_narrows_a_given_config(tiny) -> None:
    import numpy as np

    from salesrl.agent.predictor import AgentPredictor
    from salesrl.conversation import Conversation, Outcome, Role, Turn

    convs = [Conversation(id=f"c{i}", turns=[Turn(role=Role.REP, text="hi"),
                                              Turn(role=Role.CUSTOMER, text="ok")],
                          outcome=Outcome.CONVERTED if i % 2 else Outcome.NOT_CONVERTED)
             for i in range(20)]

    def encode(conv: Conversation) -> np.ndarray:
        return np.arange(len(conv.turns), dtype=np.float32)[:, None]

    cfg = tiny(use_ppo=False, adversarial_rate=0.0, retrieval=False, ws_epochs=2)
    layout = ObsLayout(state_dim=1)
    narrowed = AgentPredictor(encode, layout, cfg, small_data=True).fit(convs)
    assert narrowed.agent_.config_.gru_hidden == 8 and narrowed.agent_.config_.dropout == 0.5
    kept = AgentPredictor(encode, layout, cfg).fit(convs)
    assert kept.agent_.config_ == cfg
