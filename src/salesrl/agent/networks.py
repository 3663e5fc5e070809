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

import operator
import weakref
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


class StackedMembers:
    """Ensemble members with their weights stacked along a leading member axis, so the
    ensemble forward is one batched computation (``bmm``) instead of a Python loop over
    members; the maths is :meth:`StateEncoder.forward` -> ``pi`` -> ``action_net`` in eval
    mode (dropout off), written out because the GRU cell and layer norms must run with a
    different weight per member. Window steps whose mask is zero for every row are skipped:
    the masked update leaves the hidden state untouched there. Built by :func:`stack_members`.
    """

    def __init__(self, members: Sequence[PolicyNet]) -> None:
        def st(get: Any) -> torch.Tensor:
            return torch.stack([get(m).detach() for m in members]).contiguous()

        m0 = members[0]
        enc = m0.encoder
        self.layout = enc.layout
        self.clip = enc.input_clip
        self.state_in = enc.state_in
        self.use_window = enc.use_window
        self.state_layers: list[tuple[Any, ...]] = []
        if self.state_in > 0:
            self.in_mean = st(lambda m: m.encoder.in_mean)[:, None]
            self.in_std = st(lambda m: m.encoder.in_std)[:, None]
            for i in range(0, len(enc.state_mlp), 4):
                lin, ln = enc.state_mlp[i], enc.state_mlp[i + 1]
                self.state_layers.append((
                    st(lambda m, i=i: m.encoder.state_mlp[i].weight.T),
                    st(lambda m, i=i: m.encoder.state_mlp[i].bias)[:, None],
                    st(lambda m, i=i: m.encoder.state_mlp[i + 1].weight)[:, None],
                    st(lambda m, i=i: m.encoder.state_mlp[i + 1].bias)[:, None],
                    float(ln.eps), int(lin.out_features)))
        if self.use_window:
            self.hidden = enc.gru.hidden_size
            self.turn_mean = st(lambda m: m.encoder.turn_mean)[:, None]
            self.turn_std = st(lambda m: m.encoder.turn_std)[:, None]
            self.w_ih = st(lambda m: m.encoder.gru.weight_ih.T)
            self.b_ih = st(lambda m: m.encoder.gru.bias_ih)[:, None]
            self.w_hh = st(lambda m: m.encoder.gru.weight_hh.T)
            self.b_hh = st(lambda m: m.encoder.gru.bias_hh)[:, None]
        self.out_g = st(lambda m: m.encoder.out_norm.weight)[:, None]
        self.out_b = st(lambda m: m.encoder.out_norm.bias)[:, None]
        self.out_eps = float(enc.out_norm.eps)
        self.pi = [(st(lambda m, i=i: m.pi[i].weight.T), st(lambda m, i=i: m.pi[i].bias)[:, None])
                   for i in range(0, len(m0.pi), 2)]
        self.act_w = st(lambda m: m.action_net.weight.T)
        self.act_b = st(lambda m: m.action_net.bias)[:, None]

    def _norm(self, x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        x = (x - mean) / std
        return x if self.clip is None else x.clamp(-self.clip, self.clip)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """``(K, B)`` logit means for a batch of rows ``(B, obs_dim)``."""
        state, win, mask, extra = self.layout.split(obs)
        parts = []
        if self.state_in > 0:
            s = torch.cat([state, extra], dim=-1) if extra.shape[-1] else state
            s = self._norm(s[None], self.in_mean, self.in_std)
            for w, b, g, beta, eps, width in self.state_layers:
                s = torch.baddbmm(b, s, w)
                s = nn.functional.layer_norm(s, (width,), None, None, eps)
                s = nn.functional.gelu(s * g + beta)
            parts.append(s)
        if self.use_window:
            k, n = len(self.w_ih), obs.shape[0]
            steps = torch.nonzero(mask.amax(0) != 0).flatten().tolist()
            h = obs.new_zeros(k, n, self.hidden)
            if steps:
                x = self._norm(win[None, :, steps], self.turn_mean[:, None], self.turn_std[:, None])
                gi = torch.baddbmm(self.b_ih, x.reshape(k, -1, x.shape[-1]), self.w_ih)
                gi = gi.reshape(k, n, len(steps), -1)
                full = (mask[:, steps] == 1).all(0).tolist()
                g2 = 2 * self.hidden
                for j, step in enumerate(steps):
                    gh = torch.baddbmm(self.b_hh, h, self.w_hh)
                    gij = gi[:, :, j]
                    rz = torch.sigmoid(gij[..., :g2] + gh[..., :g2])
                    r, z = rz[..., : self.hidden], rz[..., self.hidden :]
                    new = torch.tanh(gij[..., g2:] + r * gh[..., g2:])
                    new = new + z * (h - new)  # (1 - z) * n + z * h
                    if full[j]:
                        h = new
                    else:
                        m = mask[:, step : step + 1]
                        h = m * new + (1.0 - m) * h
            parts.append(h)
        f = torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]
        f = nn.functional.layer_norm(f, (f.shape[-1],), None, None, self.out_eps)
        f = f * self.out_g + self.out_b
        for w, b in self.pi:
            f = torch.tanh(torch.baddbmm(b, f, w))
        return torch.baddbmm(self.act_b, f, self.act_w).squeeze(-1)


def _same_architecture(members: Sequence[PolicyNet]) -> bool:
    shapes = [[(k, tuple(v.shape)) for k, v in m.state_dict().items()] for m in members]
    encs = [(m.encoder.input_clip, m.encoder.layout) for m in members]
    return all(s == shapes[0] for s in shapes) and all(e == encs[0] for e in encs)


# first member -> (weakrefs to the members, their tensors, the tensors' versions, the stack):
# the stack is rebuilt whenever a weight is changed in place (optimiser step, load_state_dict)
_VERSION = operator.attrgetter("_version")
_STACKS: weakref.WeakKeyDictionary[nn.Module, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def stack_members(members: Sequence[PolicyNet]) -> StackedMembers | None:
    """The (cached) :class:`StackedMembers` of ``members``; ``None`` when they differ in
    architecture (then :func:`member_logits` loops over them)."""
    hit = _STACKS.get(members[0])
    if hit is not None:
        refs, tensors, versions, stack = hit
        if (len(refs) == len(members) and all(r() is m for r, m in zip(refs, members, strict=True))
                and tuple(map(_VERSION, tensors)) == versions):
            return stack
    stack = None
    if _same_architecture(members):
        with torch.no_grad():
            stack = StackedMembers(members)
    tensors = [t for m in members for t in (*m.parameters(), *m.buffers())]
    _STACKS[members[0]] = (tuple(weakref.ref(m) for m in members), tensors,
                           tuple(map(_VERSION, tensors)), stack)
    return stack


def member_logits(members: Sequence[PolicyNet], rows: np.ndarray, bound: float,
                  batch: int = 64) -> np.ndarray:
    """``(n, K)`` logit means of every member (in eval mode), clipped to the action bound.

    Runs :class:`StackedMembers` over chunks of ``batch`` rows (small chunks keep its
    ``(K, batch, ...)`` intermediates in cache; 64 was fastest on 5,000 MiniLM rows).
    """
    x = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    out = np.empty((len(x), len(members)), dtype=np.float64)
    stack = stack_members(members) if len(members) else None
    with torch.inference_mode():
        if stack is not None:
            for lo in range(0, len(x), batch):
                z = stack.forward(x[lo : lo + batch]).clamp(-bound, bound)
                out[lo : lo + batch] = z.T.numpy()
            return out
        for k, m in enumerate(members):
            m.eval()
            for lo in range(0, len(x), 8192):
                out[lo : lo + 8192, k] = m(x[lo : lo + 8192]).clamp(-bound, bound).numpy()
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
    from salesrl._quiet import import_gym_quietly

    import_gym_quietly()
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
