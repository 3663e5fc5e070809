"""Steps (2)-(3) of the SalesRLAgent recipe (:mod:`salesrl.agent.training`): conservative PPO
(Schulman et al., "Proximal Policy Optimization Algorithms", 2017) in the replay environment,
with a learning rate driven by how hard recent episodes are (:class:`DifficultyLR`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from salesrl.agent.config import TrainConfig
from salesrl.agent.data import Episodes
from salesrl.agent.env import ConversationReplayEnv
from salesrl.agent.networks import PolicyNet, ValueNet

__all__ = ["DifficultyLR", "train_ppo"]


# -- (2)-(3) PPO with a difficulty-driven learning rate ---------------------------------------

class DifficultyLR:
    """SB3 learning-rate schedule driven by how hard recent episodes are (see module doc).

    ``update(sq_errs)`` feeds Brier terms of recent steps; calling the object (as SB3 does with
    ``progress_remaining``) returns ``base * clip((D / D_ref) ** alpha, lo, hi)``.
    """

    def __init__(self, base: float, alpha: float = 0.5, clip: tuple[float, float] = (0.5, 2.0),
                 halflife: float = 2048.0, enabled: bool = True) -> None:
        self.base = base
        self.alpha = alpha
        self.clip = clip
        self.decay = 0.5 ** (1.0 / max(halflife, 1.0))
        self.enabled = enabled
        self.ema: float | None = None
        self.ref: float | None = None
        self.trace: list[float] = []

    def update(self, sq_errs: np.ndarray) -> None:
        for v in np.asarray(sq_errs, dtype=np.float64).reshape(-1):
            prev = float(v) if self.ema is None else self.ema
            self.ema = self.decay * prev + (1 - self.decay) * float(v)

    def freeze_reference(self) -> None:
        if self.ref is None and self.ema is not None:
            self.ref = max(self.ema, 1e-6)

    def __call__(self, progress_remaining: float) -> float:
        lr = self.base
        if self.enabled and self.ref is not None and self.ema is not None:
            lr = self.base * float(np.clip((self.ema / self.ref) ** self.alpha, *self.clip))
        self.trace.append(lr)
        return lr


def train_ppo(actor: PolicyNet, critic: ValueNet | None, train: Episodes, cfg: TrainConfig,
              *, weights: np.ndarray | None = None, adversarial: Episodes | None = None,
              base_rate: float | None = None, seed: int = 0, base_col: int | None = None
              ) -> dict[str, Any]:
    """Fine-tune ``actor`` (in place) with conservative PPO in the replay environment
    (with ``base_col``, the action is the residual added to that column's base logit)."""
    from salesrl._quiet import import_gym_quietly, silence_sb3_logger

    import_gym_quietly()
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    from salesrl.agent.networks import SalesFeaturesExtractor, extract_from_sb3, load_into_sb3

    layout = actor.encoder.layout
    sched = cfg.schedule()

    def make_env() -> ConversationReplayEnv:
        return ConversationReplayEnv(train, reward=cfg.reward, action_bound=cfg.action_bound,
                                     weights=weights, curriculum=sched, adversarial=adversarial,
                                     adversarial_rate=cfg.adversarial_rate,
                                     base_rate=base_rate, offset_col=base_col)

    venv = DummyVecEnv([make_env for _ in range(cfg.n_envs)])
    lr = DifficultyLR(cfg.ppo_lr, cfg.difficulty_alpha, cfg.difficulty_clip,
                      cfg.difficulty_halflife, enabled=cfg.adaptive_lr)
    policy_kwargs = dict(
        features_extractor_class=SalesFeaturesExtractor,
        features_extractor_kwargs=dict(layout=layout.to_dict(),
                                       state_hidden=tuple(cfg.state_hidden),
                                       gru_hidden=cfg.gru_hidden, dropout=0.0,
                                       input_clip=cfg.input_clip),
        share_features_extractor=False,
        net_arch=dict(pi=list(cfg.pi_arch), vf=list(cfg.vf_arch)),
        activation_fn=nn.Tanh,
        log_std_init=cfg.log_std_init,
        optimizer_class=torch.optim.AdamW,
        optimizer_kwargs=dict(weight_decay=cfg.ppo_weight_decay),
    )
    batch = min(cfg.ppo_batch_size, cfg.n_steps * cfg.n_envs)
    model = PPO("MlpPolicy", venv, learning_rate=lr, n_steps=cfg.n_steps, batch_size=batch,
                n_epochs=cfg.ppo_epochs, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda,
                clip_range=cfg.clip_range, ent_coef=cfg.ent_coef, vf_coef=cfg.vf_coef,
                max_grad_norm=cfg.max_grad_norm, target_kl=cfg.target_kl,
                policy_kwargs=policy_kwargs, seed=seed, device="cpu", verbose=0)
    silence_sb3_logger(model)
    if cfg.warm_start:
        load_into_sb3(model.policy, actor, critic)
    else:
        # keep the input standardisation fitted on the data
        for enc in (model.policy.pi_features_extractor, model.policy.vf_features_extractor):
            for name in ("in_mean", "in_std", "turn_mean", "turn_std"):
                getattr(enc.encoder, name).copy_(getattr(actor.encoder, name))
    total = cfg.ppo_steps
    stats: dict[str, list[float]] = {"approx_kl": [], "clip_fraction": [], "difficulty": [],
                                     "mean_reward": []}

    class _Callback(BaseCallback):
        def _on_step(self) -> bool:
            sq = [i["sq_err"] for i in self.locals.get("infos", []) if "sq_err" in i]
            lr.update(np.array(sq))
            return True

        def _on_rollout_start(self) -> None:
            self.training_env.env_method("set_progress", self.num_timesteps / max(total, 1))
            vals = self.model.logger.name_to_value
            for k in ("approx_kl", "clip_fraction"):
                if f"train/{k}" in vals:
                    stats[k].append(float(vals[f"train/{k}"]))

        def _on_rollout_end(self) -> None:
            lr.freeze_reference()
            stats["difficulty"].append(lr.ema if lr.ema is not None else float("nan"))
            stats["mean_reward"].append(float(self.model.rollout_buffer.rewards.mean()))

    t0 = time.perf_counter()
    model.learn(total_timesteps=total, callback=_Callback())
    elapsed = time.perf_counter() - t0
    extract_from_sb3(model.policy, actor)
    actor.eval()
    venv.close()
    return {"ppo_seconds": elapsed, "ppo_timesteps": int(model.num_timesteps),
            "steps_per_second": model.num_timesteps / max(elapsed, 1e-9),
            "lr_trace": lr.trace, **stats}
