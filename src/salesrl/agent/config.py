"""Configuration of the SalesRLAgent recipe (see :mod:`salesrl.agent.training`).

Kept apart from the training code so that loading and running a trained agent imports neither
stable-baselines3 nor gymnasium.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Literal

from salesrl.agent.data import ObsLayout
from salesrl.agent.networks import PolicyNet

if TYPE_CHECKING:
    from salesrl.agent.env import CurriculumSchedule

ScoringRule = Literal["log", "log_normalised", "brier"]
CalibrationMethod = Literal["auto", "temperature", "platt", "none"]


@dataclass
class TrainConfig:
    """Every knob of the recipe; :meth:`preset` gives ``fast`` and ``default``."""

    # network
    state_hidden: tuple[int, ...] = (64,)
    gru_hidden: int = 32
    dropout: float = 0.1
    pi_arch: tuple[int, ...] = (64,)
    vf_arch: tuple[int, ...] = (64,)
    action_bound: float = 8.0
    # (1) supervised warm start
    warm_start: bool = True
    ws_epochs: int = 40
    ws_batch_size: int = 256
    ws_lr: float = 3e-3
    ws_weight_decay: float = 1e-4
    ws_patience: int = 5
    val_fraction: float = 0.2
    # (2) conservative PPO
    use_ppo: bool = True
    ppo_steps: int = 20_000
    n_envs: int = 4
    n_steps: int = 256
    ppo_batch_size: int = 256
    ppo_epochs: int = 4
    ppo_lr: float = 3e-5
    clip_range: float = 0.1
    target_kl: float | None = 0.01
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    ppo_weight_decay: float = 1e-4
    log_std_init: float = -2.0
    gamma: float = 0.0
    gae_lambda: float = 0.95
    reward: ScoringRule = "log"
    critic_prefit_epochs: int = 5
    # (3) adaptive learning rate by prediction difficulty
    adaptive_lr: bool = True
    difficulty_alpha: float = 0.5
    difficulty_clip: tuple[float, float] = (0.5, 2.0)
    difficulty_halflife: float = 2048.0
    # (4) curriculum
    curriculum: bool = True
    curriculum_start_len: int = 4
    curriculum_ramp: float = 0.5
    curriculum_mode: Literal["filter", "truncate"] = "filter"
    # (5) adversarial counter-examples
    adversarial_rate: float = 0.1
    # (6) ensemble
    ensemble_size: int = 5
    bootstrap: bool = True
    ensemble_combine: Literal["logit", "prob"] = "logit"
    # (7) balanced batches
    balance: bool = True
    balance_power: float = 1.0
    # retrieval features
    retrieval: bool = True
    retrieval_k: int = 10
    retrieval_proj_dim: int = 16
    retrieval_metric: Literal["cosine", "l2"] = "cosine"
    retrieval_max_rows: int = 20_000
    # post-hoc calibration
    calibration: CalibrationMethod = "auto"
    seed: int = 0

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """``fast`` (small nets, 3 members, short PPO) or ``default``; ``overrides`` win."""
        if name == "default":
            base = cls()
        elif name == "fast":
            base = cls(state_hidden=(32,), gru_hidden=16, pi_arch=(32,), vf_arch=(32,),
                       ws_epochs=20, ws_patience=3, ppo_steps=2048, n_envs=2, n_steps=128,
                       ppo_batch_size=128, ppo_epochs=3, critic_prefit_epochs=3,
                       difficulty_halflife=512.0, ensemble_size=3, retrieval_max_rows=5000)
        else:
            raise ValueError(f"unknown preset {name!r}; choose fast or default")
        return replace(base, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name: f for f in fields(cls)}
        kw = {}
        for k, v in d.items():
            if k in known:
                kw[k] = tuple(v) if isinstance(v, list) else v
        return cls(**kw)

    def validate(self) -> None:
        if not (self.warm_start or self.use_ppo):
            raise ValueError("TrainConfig: enable warm_start, use_ppo or both")
        if self.ensemble_size < 1:
            raise ValueError("TrainConfig.ensemble_size must be >= 1")
        if not 0.0 <= self.adversarial_rate < 1.0:
            raise ValueError("TrainConfig.adversarial_rate must be in [0, 1)")
        if self.ensemble_combine not in ("logit", "prob"):
            raise ValueError("TrainConfig.ensemble_combine must be 'logit' or 'prob'")

    def schedule(self) -> CurriculumSchedule | None:
        from salesrl.agent.env import CurriculumSchedule

        if not self.curriculum:
            return None
        return CurriculumSchedule(start_len=self.curriculum_start_len, ramp=self.curriculum_ramp,
                                  mode=self.curriculum_mode)

    def make_actor(self, layout: ObsLayout) -> PolicyNet:
        return PolicyNet(layout, self.state_hidden, self.gru_hidden, self.dropout,
                         self.pi_arch, self.log_std_init)
