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
CalibrationMethod = Literal["auto", "temperature", "platt", "stack", "platt_turn", "stack_turn",
                            "none"]


#: L2 strengths the lexical column chooses from by held-out log loss (``small`` / ``large``):
#: PersuasionForGood's dialogues want C=3, 20,000 synthetic calls C=0.1-0.3 (BENCHMARKS.md)
LEXICAL_CS: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)

#: what the ``small`` preset changes in ``fast`` (see :meth:`TrainConfig.preset`)
#: (``linear_base`` on: PersuasionForGood figures with and without it in BENCHMARKS.md;
#: ``cv_members``: PersuasionForGood text-only Brier 0.211 -> 0.203 on full dialogues)
SMALL_DATA_OVERRIDES: dict[str, Any] = dict(
    state_hidden=(16,), gru_hidden=8, pi_arch=(16,), vf_arch=(16,), dropout=0.5,
    ws_weight_decay=0.1, ws_lr=3e-4, curriculum=False, adaptive_lr=False, linear_base=True,
    lexical_commitment=True, calibration_by_turn=True, lexical_Cs=LEXICAL_CS, cv_members=True)

#: what the ``large`` preset changes in ``fast``: a training budget that does not grow with the
#: data (rows per warm-start epoch, critic rows, early-stopping rows, linear-base rows,
#: counter-examples) and members that share one row table (see :meth:`TrainConfig.preset`);
#: with the cross-fitted linear base (on 50,000 synthetic conversations: full-call AUC 0.811
#: against 0.799 without, training 9.5 min against 8.7 min cold; BENCHMARKS.md)
LARGE_DATA_OVERRIDES: dict[str, Any] = dict(
    ws_max_rows=40_000, critic_max_rows=20_000, val_max_conversations=2000,
    shared_rows=True, linear_max_rows=60_000, adversarial_max=2000, linear_base=True,
    calibration_by_turn=True, lexical_Cs=LEXICAL_CS)


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
    input_clip: float | None = None  # clip standardised inputs (None: off, old artifacts)
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
    # member k trains on all but fold k of ``ensemble_size`` folds (no bootstrap, no
    # validation split); calibration reads every member's held-out fold
    cv_members: bool = False
    # (7) balanced batches
    balance: bool = True
    balance_power: float = 1.0
    # retrieval features
    retrieval: bool = True
    retrieval_k: int = 10
    retrieval_proj_dim: int = 16
    retrieval_metric: Literal["cosine", "l2"] = "cosine"
    retrieval_max_rows: int = 20_000
    # small-data levers (defaults reproduce artifacts saved before they existed)
    linear_base: bool = False  # network models the residual of a cross-fitted linear logit
    linear_Cs: tuple[float, ...] = (0.0003, 0.001, 0.003)  # its L2 strengths, tuned by OOF
    compress_dim: int = 0  # PCA of the state columns to this many (0: off)
    compress_turn_dim: int = 0  # PCA of the window's turn vectors to this many (0: off)
    conversation_weight: bool = False  # warm start: each conversation's rows weigh 1 in all
    lexical_commitment: bool = False  # the lexical column also reads stated-intent signals
    lexical_Cs: tuple[float, ...] = ()  # L2 strengths the lexical column picks from (empty: 3)
    # large-data budget (0 / False: off, the size-proportional recipe of older artifacts)
    ws_max_rows: int = 0  # rows drawn per warm-start epoch (bounds its gradient steps)
    critic_max_rows: int = 0  # rows of the critic pre-fit (a random sample)
    val_max_conversations: int = 0  # early stopping reads this many (calibration reads all)
    shared_rows: bool = False  # members share one row table; bootstrap as sampling counts
    linear_max_rows: int = 0  # prefix rows each fit of the linear base reads (a sample)
    adversarial_max: int = 0  # at most this many counter-examples of each kind
    # post-hoc calibration
    calibration: CalibrationMethod = "auto"
    stack_extra: bool = True  # "stack" the caller's extra columns with the logit (auto picks)
    calibration_by_turn: bool = False  # turn-aware Platt / stack are candidates of "auto"
    seed: int = 0
    context_prior: bool = False  # + cross-fitted P(sale | metadata) column (agent/context.py)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """``fast`` (small nets, 3 members, short PPO), ``small`` (``fast`` for a few thousand
        conversations or fewer), ``large`` (``fast`` with a budget that does not grow with
        the data: tens of thousands of conversations) or ``default``; ``overrides`` win."""
        if name == "default":
            base = cls(input_clip=5.0)
        elif name == "fast":
            base = cls(state_hidden=(32,), gru_hidden=16, pi_arch=(32,), vf_arch=(32,),
                       ws_epochs=20, ws_patience=3, ppo_steps=2048, n_envs=2, n_steps=128,
                       ppo_batch_size=128, ppo_epochs=3, critic_prefit_epochs=3,
                       difficulty_halflife=512.0, ensemble_size=3, retrieval_max_rows=5000,
                       input_clip=5.0)
        elif name == "small":
            # fast, for small data sets (about a thousand conversations): on PersuasionForGood
            # the fast network memorises the conversations within one warm-start epoch
            # (train log loss 0.43, validation 0.90, fold 0 of 5); a narrower, heavily
            # regularised network without the short-first curriculum stops at 0.686; with
            # ``linear_base`` it only models the residual of a cross-fitted linear logit
            base = cls.preset("fast", **SMALL_DATA_OVERRIDES)
        elif name == "large":
            base = cls.preset("fast", **LARGE_DATA_OVERRIDES)
        else:
            raise ValueError(f"unknown preset {name!r}; choose fast, small, large or default")
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
        if self.compress_dim < 0 or self.compress_turn_dim < 0:
            raise ValueError("TrainConfig.compress_dim / compress_turn_dim must be >= 0")
        for name in ("ws_max_rows", "critic_max_rows", "val_max_conversations",
                     "linear_max_rows", "adversarial_max"):
            if getattr(self, name) < 0:
                raise ValueError(f"TrainConfig.{name} must be >= 0 (0: no cap)")
        if self.cv_members and self.shared_rows:
            raise ValueError("TrainConfig.cv_members needs shared_rows off (members read "
                             "their own fold's copy of the rows)")
        if self.linear_base and (not self.linear_Cs or min(self.linear_Cs) <= 0):
            raise ValueError("TrainConfig.linear_Cs must be positive when linear_base is on")

    def schedule(self) -> CurriculumSchedule | None:
        from salesrl.agent.env import CurriculumSchedule

        if not self.curriculum:
            return None
        return CurriculumSchedule(start_len=self.curriculum_start_len, ramp=self.curriculum_ramp,
                                  mode=self.curriculum_mode)

    def make_actor(self, layout: ObsLayout) -> PolicyNet:
        return PolicyNet(layout, self.state_hidden, self.gru_hidden, self.dropout,
                         self.pi_arch, self.log_std_init, self.input_clip)
