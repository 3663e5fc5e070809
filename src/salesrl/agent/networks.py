"""The agent's networks: a state encoder, an actor (logit mean) and a critic (expected return).

Trained with PPO (Schulman, Wolski, Dhariwal, Radford & Klimov, "Proximal Policy Optimization
Algorithms", arXiv:1707.06347, 2017) through stable-baselines3 (Raffin et al., JMLR 2021).

The encoder runs an MLP over the state part of a row (plus the agent's extra features) and a
GRU (Cho et al., 2014) over the window of recent turn vectors, with input standardisation,
layer norm (Ba et al., 2016) and dropout. Everything here is plain torch: the SB3 features
extractor, :class:`SalesFeaturesExtractor`, is a thin wrapper created on first access, so
inference (:class:`PolicyNet`) needs neither stable-baselines3 nor gymnasium.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import torch
from torch import nn

from salesrl.agent.data import ObsLayout


def _mlp(in_dim: int, arch: Sequence[int], activation: type[nn.Module]) -> nn.Sequential:
    """``Linear, act, Linear, act, ...``: the same structure (and state-dict keys) as the
    ``policy_net`` / ``value_net`` of SB3's ``MlpExtractor``."""
    layers: list[nn.Module] = []
    last = in_dim
    for width in arch:
        layers += [nn.Linear(last, int(width)), activation()]
        last = int(width)
    return nn.Sequential(*layers)


class StateEncoder(nn.Module):
    """MLP over ``[state | extra]`` + masked GRU over the turn window -> features.

    Inputs are standardised with buffers set by :meth:`fit_normaliser` (saved with the
    weights). The GRU update is gated by the mask, so padded slots leave the hidden state
    untouched wherever they sit in the window.
    """

    def __init__(self, layout: ObsLayout, state_hidden: Sequence[int] = (64,),
                 gru_hidden: int = 32, dropout: float = 0.1,
                 input_clip: float | None = None) -> None:
        super().__init__()
        self.layout = layout
        # standardised inputs are clipped to [-input_clip, input_clip]: rare, heavy-tailed
        # signal counts (a feature at 60 standard deviations) otherwise swamp the layer norm
        self.input_clip = input_clip
        self.state_in = layout.state_dim + layout.extra_dim
        self.use_window = layout.has_window and gru_hidden > 0
        self.register_buffer("in_mean", torch.zeros(self.state_in))
        self.register_buffer("in_std", torch.ones(self.state_in))
        self.register_buffer("turn_mean", torch.zeros(max(layout.turn_dim, 1)))
        self.register_buffer("turn_std", torch.ones(max(layout.turn_dim, 1)))
        out = 0
        if self.state_in > 0:
            layers: list[nn.Module] = []
            last = self.state_in
            for width in state_hidden:
                layers += [nn.Linear(last, int(width)), nn.LayerNorm(int(width)), nn.GELU(),
                           nn.Dropout(dropout)]
                last = int(width)
            self.state_mlp = nn.Sequential(*layers)
            out += last
        if self.use_window:
            self.gru = nn.GRUCell(layout.turn_dim, int(gru_hidden))
            self.gru_drop = nn.Dropout(dropout)
            out += int(gru_hidden)
        if out == 0:
            raise ValueError("StateEncoder has nothing to encode")
        self.out_norm = nn.LayerNorm(out)
        self.features_dim = out

    @torch.no_grad()
    def fit_normaliser(self, rows: np.ndarray) -> None:
        """Set the input standardisation from training rows ``(N, obs_dim)``."""
        state, win, mask, extra = self.layout.split(np.asarray(rows, dtype=np.float32))
        s = np.concatenate([state, extra], axis=1)
        if s.shape[1]:
            self.in_mean.copy_(torch.from_numpy(s.mean(0)))
            self.in_std.copy_(torch.from_numpy(np.maximum(s.std(0), 1e-4)))
        if self.use_window:
            real = win[mask > 0.5]
            if len(real):
                self.turn_mean.copy_(torch.from_numpy(real.mean(0)))
                self.turn_std.copy_(torch.from_numpy(np.maximum(real.std(0), 1e-4)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        state, win, mask, extra = self.layout.split(obs)
        parts = []
        if self.state_in > 0:
            s = torch.cat([state, extra], dim=-1)
            s = (s - self.in_mean) / self.in_std
            if self.input_clip is not None:
                s = s.clamp(-self.input_clip, self.input_clip)
            parts.append(self.state_mlp(s))
        if self.use_window:
            h = obs.new_zeros(obs.shape[0], self.gru.hidden_size)
            for k in range(self.layout.window):
                x = (win[:, k] - self.turn_mean) / self.turn_std
                if self.input_clip is not None:
                    x = x.clamp(-self.input_clip, self.input_clip)
                m = mask[:, k : k + 1]
                h = m * self.gru(x, h) + (1.0 - m) * h
            parts.append(self.gru_drop(h))
        return self.out_norm(torch.cat(parts, dim=-1))


class PolicyNet(nn.Module):
    """The actor: encoder -> MLP -> logit mean (and the Gaussian ``log_std`` PPO samples with).

    Its submodules mirror SB3's ``ActorCriticPolicy`` (``pi_features_extractor.encoder``,
    ``mlp_extractor.policy_net``, ``action_net``, ``log_std``) so weights copy both ways.
    """

    def __init__(self, layout: ObsLayout, state_hidden: Sequence[int] = (64,),
                 gru_hidden: int = 32, dropout: float = 0.1, pi_arch: Sequence[int] = (64,),
                 log_std_init: float = -2.0, input_clip: float | None = None) -> None:
        super().__init__()
        self.encoder = StateEncoder(layout, state_hidden, gru_hidden, dropout, input_clip)
        self.pi = _mlp(self.encoder.features_dim, pi_arch, nn.Tanh)
        last = int(pi_arch[-1]) if len(pi_arch) else self.encoder.features_dim
        self.action_net = nn.Linear(last, 1)
        self.log_std = nn.Parameter(torch.full((1,), float(log_std_init)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Logit mean, shape ``(B,)``."""
        return self.action_net(self.pi(self.encoder(obs))).squeeze(-1)


class ValueNet(nn.Module):
    """The critic: its own encoder -> MLP -> expected return (SB3 ``vf_*`` modules)."""

    def __init__(self, layout: ObsLayout, state_hidden: Sequence[int] = (64,),
                 gru_hidden: int = 32, dropout: float = 0.1,
                 vf_arch: Sequence[int] = (64,), input_clip: float | None = None) -> None:
        super().__init__()
        self.encoder = StateEncoder(layout, state_hidden, gru_hidden, dropout, input_clip)
        self.vf = _mlp(self.encoder.features_dim, vf_arch, nn.Tanh)
        last = int(vf_arch[-1]) if len(vf_arch) else self.encoder.features_dim
        self.value_net = nn.Linear(last, 1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value_net(self.vf(self.encoder(obs))).squeeze(-1)


def set_dropout(module: nn.Module, p: float) -> None:
    """Set the rate of every dropout layer (PPO runs with 0: dropout would make the ratio
    between old and new action probabilities noisy)."""
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.p = float(p)


def member_logits(members: Sequence[PolicyNet], rows: np.ndarray, bound: float,
                  batch: int = 8192) -> np.ndarray:
    """``(n, K)`` logit means of every member, clipped to the action bound."""
    x = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    out = np.empty((len(x), len(members)), dtype=np.float64)
    with torch.inference_mode():
        for k, m in enumerate(members):
            m.eval()
            for lo in range(0, len(x), batch):
                out[lo : lo + batch, k] = m(x[lo : lo + batch]).clamp(-bound, bound).numpy()
    return out


def combine_logits(z: np.ndarray, how: str) -> np.ndarray:
    """Ensemble mean of member logits ``(n, K)`` in logit or probability space, as a logit."""
    if how == "prob":
        p = np.clip((1 / (1 + np.exp(-z))).mean(1), 1e-7, 1 - 1e-7)
        return np.log(p / (1 - p))
    return z.mean(1)



# -- stable-baselines3 glue -----------------------------------------------------------------

@cache
def _features_extractor_class() -> type:
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class SalesFeaturesExtractor(BaseFeaturesExtractor):
        """SB3 features extractor wrapping :class:`StateEncoder` (``policy_kwargs=dict(
        features_extractor_class=SalesFeaturesExtractor, features_extractor_kwargs=...)``)."""

        def __init__(self, observation_space: Any, layout: dict[str, int],
                     state_hidden: Sequence[int] = (64,), gru_hidden: int = 32,
                     dropout: float = 0.1, input_clip: float | None = None) -> None:
            lay = ObsLayout.from_dict(layout)
            enc = StateEncoder(lay, state_hidden, gru_hidden, dropout, input_clip)
            super().__init__(observation_space, features_dim=enc.features_dim)
            self.encoder = enc

        def forward(self, observations: torch.Tensor) -> torch.Tensor:
            return self.encoder(observations)

    SalesFeaturesExtractor.__module__ = __name__
    return SalesFeaturesExtractor


def __getattr__(name: str) -> Any:
    # PEP 562: importing this module does not import stable-baselines3; touching
    # ``SalesFeaturesExtractor`` does.
    if name == "SalesFeaturesExtractor":
        return _features_extractor_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@torch.no_grad()
def load_into_sb3(policy: Any, actor: PolicyNet, critic: ValueNet | None = None) -> None:
    """Copy warm-started actor (and critic) weights into an SB3 ``ActorCriticPolicy`` built
    with ``share_features_extractor=False``."""
    policy.pi_features_extractor.encoder.load_state_dict(actor.encoder.state_dict())
    policy.mlp_extractor.policy_net.load_state_dict(actor.pi.state_dict())
    policy.action_net.load_state_dict(actor.action_net.state_dict())
    policy.log_std.copy_(actor.log_std)
    if critic is not None:
        policy.vf_features_extractor.encoder.load_state_dict(critic.encoder.state_dict())
        policy.mlp_extractor.value_net.load_state_dict(critic.vf.state_dict())
        policy.value_net.load_state_dict(critic.value_net.state_dict())


@torch.no_grad()
def extract_from_sb3(policy: Any, actor: PolicyNet) -> PolicyNet:
    """Copy the actor of a trained SB3 policy back into a plain :class:`PolicyNet`."""
    actor.encoder.load_state_dict(policy.pi_features_extractor.encoder.state_dict())
    actor.pi.load_state_dict(policy.mlp_extractor.policy_net.state_dict())
    actor.action_net.load_state_dict(policy.action_net.state_dict())
    actor.log_std.copy_(policy.log_std)
    return actor
