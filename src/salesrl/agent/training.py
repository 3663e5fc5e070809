"""The SalesRLAgent training recipe, every piece switchable through :class:`TrainConfig`.

1. **Warm start** (``warm_start``): supervised pre-training of the actor (encoder + logit
   head) on the outcome with the log loss over every turn; minibatches, early stopping on a
   validation split. This is behaviour cloning of the ideal forecaster, the usual way to
   start policy-gradient training close to a good policy.
2. **Conservative PPO** (``use_ppo``; Schulman et al., "Proximal Policy Optimization
   Algorithms", 2017) in :class:`~salesrl.agent.env.ConversationReplayEnv`: small clip range,
   ``target_kl`` early stop, small learning rate, AdamW weight decay, optional entropy bonus,
   small initial ``log_std`` so sampled probabilities stay near the mean. The critic gets a
   short regression pre-fit on the warm-started policy's returns, and it has its own encoder
   (``share_features_extractor=False``) so value-loss gradients never move the actor's.
3. **Adaptive learning rate by prediction difficulty** (``adaptive_lr``), exact rules:

   * warm start: after each visit, a conversation's difficulty ``d_i`` is its mean Brier
     term ``(p - y)^2`` over its rows (as predicted in that minibatch). Its rows' loss weight
     at the next visit is ``clip((d_i / mean(d)) ** alpha, lo, hi)`` (``alpha =
     difficulty_alpha``, ``(lo, hi) = difficulty_clip``), renormalised to mean 1 within the
     minibatch: the same overall step, larger per-sample steps on harder conversations;
   * PPO: ``lr = ppo_lr * clip((D / D_ref) ** alpha, lo, hi)``, where ``D`` is an
     exponential moving average (half-life ``difficulty_halflife`` steps) of the Brier term
     of the actions taken and ``D_ref`` its value after the first rollout; SB3 reads it at
     every update through a learning-rate schedule object.
4. **Curriculum** (``curriculum``): short conversations first
   (:class:`~salesrl.agent.env.CurriculumSchedule`), over warm-start epochs and PPO steps.
5. **Adversarial counter-examples** (``adversarial_rate``): episodes built by
   :mod:`salesrl.agent.adversarial` and embedded by the state tracker, drawn at this rate.
6. **Ensemble** (``ensemble_size``): K members on bootstrap resamples of the conversations
   with different seeds (Lakshminarayanan et al., "Simple and Scalable Predictive
   Uncertainty Estimation using Deep Ensembles", NeurIPS 2017); the mean is taken in logit or
   probability space and the spread is kept for the confidence module.
7. **Balanced sampling** (``balance``): outcome x industry cells drawn equally often
   (:func:`~salesrl.agent.env.balance_weights`); the induced prior shift is undone by a
   logit offset ``logit(pi) - logit(pi_sampled)`` (Saerens et al., Neural Computation 2002).

Small-data levers, off by default: ``compress_dim`` / ``compress_turn_dim`` project the wide
embedding columns on principal components fitted on the training rows
(:mod:`salesrl.agent.compress`); ``linear_base`` fits a cross-fitted linear logit
(:mod:`salesrl.agent.linear`: state logistic regression stacked with the caller's extra
columns; fitted on the training and validation conversations together, every one of their
rows carrying its out-of-fold base), appends it as the last column and trains every member
on ``base + f(x)`` (the network's output layer starts at zero, so a member starts at the base
and early stopping keeps it there unless the network helps; PPO's action is the residual);
``conversation_weight`` gives each conversation's rows a total weight of one in the warm
start, so long dialogues do not dominate.

Large-data budget (the ``large`` preset; off by default): ``ws_max_rows`` draws about that
many rows per warm-start epoch (its gradient steps no longer grow with the data),
``critic_max_rows`` caps the critic pre-fit, ``val_max_conversations`` the rows early stopping
reads (calibration reads the whole validation split), ``linear_max_rows`` the rows of each
linear-base fit, and ``shared_rows`` writes the work rows once into one table that every
member reads (:mod:`salesrl.agent.rowtable`: tracker rows keep one turn vector per row, not
the whole window, and minibatches are rebuilt from it), its bootstrap resample becoming
sampling counts instead of a copy. PPO lives in :mod:`salesrl.agent.ppo`.

``cv_members`` replaces the bootstrap and the validation split by ``ensemble_size`` folds:
member k trains on all folds but k and early-stops on fold k, and the calibrator is fitted on
every training row, each scored by the one member that did not train on it (out-of-fold, as
in cross-validated stacking; Wolpert 1992, "Stacked generalization"), not on a fifth of the
data.

Then retrieval features (``retrieval``, :mod:`salesrl.agent.retrieval`) and post-hoc
calibration (``calibration``, :mod:`salesrl.agent.calibration`) on the validation split; when
the caller's rows carry extra evidence columns (the cross-fitted lexical logit of
:mod:`salesrl.agent.lexical`) and ``stack_extra`` is on, "stack" (logistic regression over the
ensemble logit and those columns) is one more calibration candidate, chosen by Brier.

With ``gamma = 0`` (the default) each step is a one-step contextual bandit whose reward, a
proper scoring rule, is maximised by the same logit that the warm start's log loss targets:
PPO can only re-estimate that optimum with a noisier, score-function gradient. On
PersuasionForGood it moved the validation log loss by under 0.5 % (1.0222 -> 1.0225,
1.0034 -> 1.0036, 1.1469 -> 1.1422 over three runs of fold 0); see the ablation table.
:class:`TrainConfig` lives in :mod:`salesrl.agent.config` and is re-exported here.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from salesrl.agent.calibration import Calibrator, fit_calibrator
from salesrl.agent.compress import RowCompressor
from salesrl.agent.config import TrainConfig
from salesrl.agent.data import Episodes, LazyRows, ObsLayout, stratified_folds, stratified_split
from salesrl.agent.env import (
    balance_logit_offset,
    balance_weights,
    score,
)
from salesrl.agent.linear import LinearBase
from salesrl.agent.networks import (
    PolicyNet,
    ValueNet,
    combine_logits,
    member_logits,
    set_dropout,
)
from salesrl.agent.ppo import DifficultyLR, train_ppo
from salesrl.agent.retrieval import N_FEATURES, RetrievalIndex
from salesrl.agent.rows import work_layout_of, work_rows
from salesrl.agent.rowtable import (
    RowTable,
    draw_size,
    normaliser_rows,
    shared_work_rows,
    table_of,
)

__all__ = ["DifficultyLR", "FitResult", "TrainConfig", "add_retrieval", "difficulty_weights",
           "prefit_critic", "train_ppo", "train_salesrl_agent", "warm_start"]


# -- helpers ----------------------------------------------------------------------------------

def _minibatch(tab: RowTable, rows: np.ndarray, atab: RowTable | None,
               arows: np.ndarray | None, b: np.ndarray) -> torch.Tensor:
    """The rows of minibatch ``b`` of the pool ``rows of tab, then arows of atab``, rebuilt
    from the tables (the pool is never stacked: it is about ``ws_max_rows`` full rows)."""
    n = len(rows)
    main = b < n
    if main.all() or atab is None or arows is None:
        return tab.gather(rows[b])
    out = np.empty((len(b), tab.obs_dim), dtype=np.float32)
    out[main] = tab.gather_np(rows[b[main]])
    out[~main] = atab.gather_np(arows[b[~main] - n])
    return torch.from_numpy(out)


def _val_logits(members: list[PolicyNet], tab: RowTable, base_col: int | None, bound: float,
                chunk: int = 8192) -> tuple[np.ndarray, np.ndarray | None]:
    """``(N, K)`` member logits of every row of ``tab`` and the base logit column (None
    without one), over chunks of rows (a multiple of :func:`member_logits`' batch)."""
    z, base = [], []
    for _, x in tab.chunks(chunk):
        z.append(member_logits(members, x, bound))
        if base_col is not None:
            base.append(x[:, base_col].copy())
    return np.concatenate(z), (np.concatenate(base) if base_col is not None else None)


def _logit(actor: nn.Module, x: torch.Tensor, base_col: int | None) -> torch.Tensor:
    """The actor's logit, plus the base logit in column ``base_col`` (residual training)."""
    z = actor(x)
    return z if base_col is None else z + x[:, base_col]


def _log_loss(actor: nn.Module, tab: RowTable, offset: float = 0.0, batch: int = 4096,
              base_col: int | None = None) -> float:
    """Log loss of ``logit + offset`` over every row of ``tab`` (rows rebuilt per batch)."""
    actor.eval()
    with torch.no_grad():
        z = torch.cat([_logit(actor, torch.from_numpy(x), base_col)
                       for _, x in tab.chunks(batch)])
        return float(nn.functional.binary_cross_entropy_with_logits(z + offset, tab.y))


# -- (1) supervised warm start ----------------------------------------------------------------

def difficulty_weights(difficulty: np.ndarray, keys: np.ndarray, alpha: float,
                       clip: tuple[float, float]) -> np.ndarray:
    """Per-row loss weights of a minibatch (rule (3) of the module docstring).

    ``difficulty[i]`` is conversation ``i``'s last mean Brier term (NaN: not seen yet, weight
    1); row weight ``clip((d / mean(d)) ** alpha, *clip)``, renormalised to mean 1.
    """
    d = difficulty[keys]
    rw = np.ones(len(keys))
    seen = np.isfinite(difficulty)
    if seen.any():
        mean_d = float(difficulty[seen].mean())
        ok = np.isfinite(d)
        if mean_d > 0:
            rw[ok] = np.clip((d[ok] / mean_d) ** alpha, *clip)
    return rw / rw.mean()


def warm_start(actor: PolicyNet, train: Episodes, val: Episodes | None, cfg: TrainConfig,
               *, weights: np.ndarray | None = None, adversarial: Episodes | None = None,
               val_offset: float = 0.0, seed: int = 0, base_col: int | None = None
               ) -> dict[str, Any]:
    """Supervised pre-training of ``actor`` on the outcome (log loss over all turns).

    Each epoch draws ``len(train)`` conversations, or about ``cfg.ws_max_rows`` rows' worth
    when that cap is set (the epoch's gradient steps then do not grow with the data), as a
    plain shuffle when sampling is uniform (weighted draws with replacement under balancing /
    curriculum / adversarial mixing / shared-row bootstrap counts), then runs AdamW over
    shuffled row minibatches. Early stopping keeps the weights with the best validation log
    loss (of ``logit + val_offset``, the balancing correction; patience ``ws_patience``, not
    counted before the curriculum ramp ends). With ``base_col`` the loss
    is that of ``actor(x) + x[base_col]`` and the untrained actor is a candidate too.
    ``cfg.conversation_weight`` weighs each row by ``mean length / its conversation's length``.
    Returns a history dict.
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    tab = table_of(train)
    adv = adversarial if adversarial is not None and len(adversarial) else None
    atab = table_of(adv) if adv is not None else None
    rate = cfg.adversarial_rate if adv is not None else 0.0
    w = np.ones(len(train)) if weights is None else np.asarray(weights, dtype=np.float64)
    sched = cfg.schedule()
    vtab = table_of(val) if val is not None and len(val) else None
    opt = torch.optim.AdamW(actor.parameters(), lr=cfg.ws_lr, weight_decay=cfg.ws_weight_decay)
    n_adv_convs = len(adv) if adv is not None else 0
    difficulty = np.full(len(train) + n_adv_convs, np.nan)
    best, best_state, bad = math.inf, copy.deepcopy(actor.state_dict()), 0
    hist: dict[str, Any] = {"train_loss": [], "val_loss": [], "pool": [], "rows": []}
    if vtab is not None and base_col is not None:
        best = hist["initial_val_loss"] = _log_loss(actor, vtab, val_offset,
                                                    base_col=base_col)
    lengths = np.concatenate([train.lengths, adv.lengths if adv is not None else []])
    row_w = (float(lengths.mean()) / lengths if cfg.conversation_weight
             else np.ones(len(lengths)))
    longest = int(train.lengths.max())
    uniform = np.allclose(w, w[0])
    n_draw = draw_size(train.lengths, cfg.ws_max_rows)
    for epoch in range(cfg.ws_epochs):
        progress = epoch / max(1, cfg.ws_epochs - 1)
        elig = sched.eligible(train.lengths, progress) if sched else np.ones(len(train), bool)
        cut = sched.truncation(progress, longest) if sched else None
        n_adv = int(round(rate * n_draw))
        n_main = n_draw - n_adv
        p = w * elig
        if p.sum() <= 0:
            p = elig.astype(np.float64)
        if uniform and elig.all() and n_adv == 0:
            convs = rng.permutation(len(train))[:n_draw]
        else:
            convs = rng.choice(len(train), size=n_main, p=p / p.sum())
        rows, owner = tab.row_index(convs, cut)
        y_all = tab.y[rows]
        key = convs[owner]
        arows = None
        if n_adv and atab is not None:
            aconvs = rng.integers(len(adv), size=n_adv)
            arows, aowner = atab.row_index(aconvs)
            y_all = torch.cat([y_all, atab.y[arows]])
            key = np.concatenate([key, len(train) + aconvs[aowner]])
        hist["pool"].append(int(elig.sum()))
        hist["rows"].append(len(y_all))
        order = rng.permutation(len(y_all))
        actor.train()
        tot, cnt = 0.0, 0
        for lo in range(0, len(order), cfg.ws_batch_size):
            b = order[lo : lo + cfg.ws_batch_size]
            z = _logit(actor, _minibatch(tab, rows, atab, arows, b), base_col)
            yb = y_all[b]
            per = nn.functional.binary_cross_entropy_with_logits(z, yb, reduction="none")
            kb = key[b]
            rw = (difficulty_weights(difficulty, kb, cfg.difficulty_alpha, cfg.difficulty_clip)
                  if cfg.adaptive_lr else None)
            if cfg.conversation_weight:
                rw = row_w[kb] if rw is None else rw * row_w[kb]
                rw = rw / rw.mean()
            if rw is not None:
                loss = (per * torch.from_numpy(rw.astype(np.float32))).mean()
            else:
                loss = per.mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(actor.parameters(), 5.0)
            opt.step()
            tot += float(per.detach().sum())
            cnt += len(b)
            with torch.no_grad():
                sq = ((torch.sigmoid(z) - yb) ** 2).numpy()
            # mean Brier term per conversation in this minibatch
            uk, inv = np.unique(kb, return_inverse=True)
            difficulty[uk] = np.bincount(inv, weights=sq) / np.bincount(inv)
        hist["train_loss"].append(tot / max(cnt, 1))
        if vtab is not None:
            vl = _log_loss(actor, vtab, val_offset, base_col=base_col)
            hist["val_loss"].append(vl)
            if vl < best - 1e-4:
                best, best_state, bad = vl, copy.deepcopy(actor.state_dict()), 0
            else:
                bad += 1
                if bad >= cfg.ws_patience and progress >= (cfg.curriculum_ramp if sched else 0):
                    break
    if vtab is not None:
        actor.load_state_dict(best_state)
        hist["best_val_loss"] = best
    hist["epochs"] = len(hist["train_loss"])
    actor.eval()
    return hist


def prefit_critic(critic: ValueNet, actor: PolicyNet, train: Episodes, cfg: TrainConfig,
                  *, base_rate: float, seed: int = 0, base_col: int | None = None,
                  weights: np.ndarray | None = None) -> dict[str, Any]:
    """Regress the critic on the discounted returns of the (deterministic) warm-started actor,
    so PPO's first advantages are not dominated by an untrained value head. With
    ``cfg.critic_max_rows`` it reads about that many rows: whole conversations drawn with
    probability proportional to ``weights`` (default: every conversation once)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    critic.encoder.load_state_dict(actor.encoder.state_dict())
    tab = table_of(train)
    if cfg.critic_max_rows > 0 and int(tab.lengths.sum()) > cfg.critic_max_rows:
        w = np.ones(len(train)) if weights is None else np.asarray(weights, dtype=np.float64)
        convs = rng.choice(len(train), size=draw_size(tab.lengths, cfg.critic_max_rows),
                           p=w / w.sum())
        rows, _ = tab.row_index(convs)
        lengths = tab.lengths[convs]
    else:
        rows, lengths = np.arange(tab.n_rows), tab.lengths
    y = tab.y[rows]
    with torch.no_grad():
        actor.eval()
        zs = []
        for i in range(0, len(rows), 4096):
            x = tab.gather(rows[i : i + 4096])
            zc = actor(x).clamp(-cfg.action_bound, cfg.action_bound)
            zs.append(zc if base_col is None else zc + x[:, base_col])
        z = torch.cat(zs).numpy()
    r = score(1 / (1 + np.exp(-z)), y.numpy(), cfg.reward, base_rate)
    ret = r.copy()
    if cfg.gamma:
        for s, n in zip(np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths, strict=True):
            g = 0.0
            for t in range(s + n - 1, s - 1, -1):
                g = r[t] + cfg.gamma * g
                ret[t] = g
    target = torch.from_numpy(ret.astype(np.float32))
    opt = torch.optim.AdamW(critic.parameters(), lr=cfg.ws_lr, weight_decay=cfg.ws_weight_decay)
    rng = np.random.default_rng(seed)
    critic.train()
    losses = []
    for _ in range(cfg.critic_prefit_epochs):
        order = rng.permutation(len(target))
        tot = 0.0
        for lo in range(0, len(order), cfg.ws_batch_size):
            b = order[lo : lo + cfg.ws_batch_size]
            loss = nn.functional.mse_loss(critic(tab.gather(rows[b])), target[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(b)
        losses.append(tot / len(order))
    critic.eval()
    return {"critic_mse": losses}


# -- the whole recipe -------------------------------------------------------------------------

@dataclass
class FitResult:
    """What :func:`train_salesrl_agent` learns."""

    input_layout: ObsLayout
    layout: ObsLayout
    members: list[PolicyNet]
    calibrator: Calibrator
    retrieval: RetrievalIndex | None
    offsets: np.ndarray
    history: list[dict[str, Any]] = field(default_factory=list)
    compressor: RowCompressor | None = None
    linear: LinearBase | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase


def add_retrieval(eps: Episodes, index: RetrievalIndex, layout: ObsLayout,
                  leave_one_out: bool) -> Episodes:
    """Append the retrieval features to every row (``leave_one_out``: mask own conversation)."""
    new_layout = layout.with_extra(layout.extra_dim + N_FEATURES)

    def fn(o: np.ndarray, i: int) -> np.ndarray:
        ids = np.array([eps.ids[i]] * len(o), dtype=object) if leave_one_out else None
        return np.concatenate([o, index.transform(layout.state_part(o), ids)], axis=1)

    return eps.map_obs(fn, new_layout)


def train_salesrl_agent(episodes: Episodes, cfg: TrainConfig, *,
                        val_episodes: Episodes | None = None,
                        adversarial: Episodes | None = None,
                        layout: ObsLayout | None = None,
                        release_rows: bool = False,
                        turn_column: int | None = None) -> FitResult:
    """Run the recipe: split, retrieval, K x (warm start -> critic pre-fit -> PPO), calibrate.

    ``turn_column``: the column of the caller's rows holding ``log(1 + turns so far)`` (with
    ``cfg.calibration_by_turn``, the turn-aware calibrators read it).

    ``release_rows`` (with ``cfg.shared_rows``): the caller gives up the rows of ``episodes``
    and ``adversarial``, which are dropped (``episodes.obs[i] = None``) as soon as their work
    rows are written, so the training rows are never held twice.
    """
    cfg.validate()
    layout = layout or episodes.layout or ObsLayout(state_dim=episodes.obs_dim)
    if layout.obs_dim != episodes.obs_dim:
        raise ValueError(f"layout.obs_dim {layout.obs_dim} != episodes obs_dim "
                         f"{episodes.obs_dim}")
    rng = np.random.default_rng(cfg.seed)
    tr_idx = va_idx = None
    folds = (stratified_folds(episodes, cfg.ensemble_size, cfg.seed)
             if cfg.cv_members and val_episodes is None else None)
    if folds is not None:  # member k holds out fold k; calibration reads every held-out fold
        train, val = episodes, None
    elif val_episodes is None and cfg.val_fraction > 0 and len(episodes) >= 10:
        tr_idx, va_idx = stratified_split(episodes, cfg.val_fraction, cfg.seed)
        train, val = episodes.subset(tr_idx), episodes.subset(va_idx)
    else:
        train, val = episodes, val_episodes
    adv = adversarial if adversarial is not None and len(adversarial) and \
        cfg.adversarial_rate > 0 else None
    if val is not None and len(val) and val.obs_dim != train.obs_dim:
        raise ValueError("validation episodes have a different obs_dim")
    has_cal = folds is not None or (val is not None and len(val) > 0)

    def cal_obs() -> Iterator[np.ndarray]:
        """The caller's rows the calibrator reads, in its order: the held-out folds one
        after another, else the validation split."""
        if folds is not None:
            return (episodes.obs[int(i)] for f in folds for i in f)
        return iter(val.obs) if val is not None else iter(())

    val_extra = (np.concatenate([layout.split(o)[3] for o in cal_obs()], axis=0)
                 if cfg.stack_extra and layout.extra_dim and has_cal
                 else None)  # what a stacking calibrator reads besides the logit
    by_turn = cfg.calibration_by_turn and turn_column is not None and has_cal
    val_log_turns = (np.concatenate([o[:, turn_column] for o in cal_obs()]).astype(np.float64)
                     if by_turn else None)  # what a turn-aware calibrator reads
    compressor = None
    if cfg.compress_dim or cfg.compress_turn_dim:
        compressor = RowCompressor(cfg.compress_dim, cfg.compress_turn_dim, cfg.seed).fit(
            train.rows()[0], layout)
    linear = train_base = val_base = None
    clock = {"start": time.perf_counter()}
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        now = time.perf_counter()
        seconds[name] = round(seconds.get(name, 0.0) + now - clock["start"], 2)
        clock["start"] = now

    if cfg.linear_base:
        # on every labelled conversation (its own k-fold keeps each row's base out-of-fold,
        # the validation rows' too), so the linear part sees all the data
        both = tr_idx is not None
        src = episodes if both else train
        linear = LinearBase(cfg.linear_Cs, seed=cfg.seed,
                            max_rows=cfg.linear_max_rows).fit(src.obs, src.labels, layout)
        train_base = [linear.oof_[i] for i in tr_idx] if both else linear.oof_
        val_base = [linear.oof_[i] for i in va_idx] if both else None
    lap("split_and_linear_base")
    index = None
    if cfg.retrieval:
        # the state columns of the rows the index keeps, drawn as RetrievalIndex.fit draws
        # them (same seed, same result) but without stacking every training row first
        lengths = train.lengths
        conv = np.repeat(np.arange(len(train)), lengths)
        keep = np.arange(len(conv))
        if len(conv) > cfg.retrieval_max_rows:
            keep = np.sort(np.random.default_rng(cfg.seed).choice(
                len(conv), cfg.retrieval_max_rows, replace=False))
        first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        if isinstance(train.obs, LazyRows):
            x = np.concatenate([layout.state_part(train.obs.rows_at(conv[part], part
                                                                    - first[conv[part]]))
                                for part in np.array_split(keep, max(1, len(keep) // 4096))])
        else:
            x = np.stack([layout.state_part(train.obs[c][r - first[c]])
                          for c, r in zip(conv[keep], keep, strict=True)])
        index = RetrievalIndex(cfg.retrieval_k, cfg.retrieval_proj_dim, cfg.retrieval_metric,
                               cfg.retrieval_max_rows, cfg.seed)
        index.fit(x, train.labels[conv[keep]].astype(np.float32),
                  np.asarray(train.ids, dtype=object)[conv[keep]])
        del x
    lap("retrieval_index")
    if cfg.shared_rows:
        work_layout = work_layout_of(layout, compressor, index, linear)
        release = None
        if release_rows and tr_idx is not None and va_idx is not None:
            owner = {id(train): tr_idx, id(val): va_idx}  # the counter-examples: themselves

            def release(eps: Episodes, convs: range) -> None:
                where = owner.get(id(eps))
                for c in convs:  # drop the raw rows: the subset's and the caller's reference
                    eps.obs[c] = None  # type: ignore[call-overload]
                    if where is not None:
                        episodes.obs[int(where[c])] = None  # type: ignore[call-overload]

        train, val, adv = shared_work_rows(train, val, adv, layout, work_layout, compressor,
                                            index, linear, train_base, val_base, release)
        if release is not None:  # every row is released: let the caller's storage go too
            episodes.obs = [None] * len(episodes)  # type: ignore[list-item]
            if adversarial is not None and adv is not None:
                adversarial.obs = [None] * len(adversarial)  # type: ignore[list-item]
    elif compressor is not None or linear is not None:
        work_layout = work_layout_of(layout, compressor, index, linear)
        train = train.map_obs(lambda o, i: work_rows(
            o, layout, compressor, index, linear, ids=[train.ids[i]] * len(o),
            base=train_base[i] if train_base is not None else None), work_layout)
        if val is not None and len(val):
            val = val.map_obs(lambda o, i: work_rows(
                o, layout, compressor, index, linear,
                base=val_base[i] if val_base is not None else None), work_layout)
        if adv is not None:
            adv = adv.map_obs(lambda o, i: work_rows(o, layout, compressor, index, linear),
                              work_layout)
    elif index is not None:
        work_layout = layout.with_extra(layout.extra_dim + N_FEATURES)
        train = add_retrieval(train, index, layout, leave_one_out=True)
        if val is not None and len(val):
            val = add_retrieval(val, index, layout, leave_one_out=False)
        if adv is not None:
            adv = add_retrieval(adv, index, layout, leave_one_out=False)
    else:
        work_layout = layout
    lap("work_rows")
    base_col = work_layout.obs_dim - 1 if linear is not None else None
    base_rate = float(np.repeat(train.labels, train.lengths).mean())
    es_val = val  # what early stopping reads; calibration reads all of val
    if (val is not None and cfg.val_max_conversations
            and len(val) > cfg.val_max_conversations):
        keep = rng.choice(len(val), cfg.val_max_conversations, replace=False)
        es_val = val.subset(np.sort(keep))
    held_out = [train.subset(f) for f in folds] if folds is not None else None
    members: list[PolicyNet] = []
    history: list[dict[str, Any]] = []
    offsets = []
    for k in range(cfg.ensemble_size):
        seed = cfg.seed + 1000 * k
        boot = cfg.ensemble_size > 1 and cfg.bootstrap and folds is None
        idx = rng.choice(len(train), size=len(train), replace=True) if boot else None
        if folds is not None and held_out is not None:  # all but fold k; fold k early-stops
            idx = np.concatenate([f for j, f in enumerate(folds) if j != k])
            es_val = held_out[k]
        if cfg.shared_rows:
            # the bootstrap as sampling counts over the one shared row table (no copy)
            sample = np.arange(len(train)) if idx is None else idx
            bw = (balance_weights(train.labels[sample], train.groups[sample],
                                  power=cfg.balance_power)
                  if cfg.balance else np.ones(len(sample)))
            w = np.bincount(sample, weights=bw, minlength=len(train))
            off = (balance_logit_offset(train.labels[sample], train.groups[sample],
                                        power=cfg.balance_power) if cfg.balance else 0.0)
            mtrain = train
        else:
            mtrain = train.subset(idx) if idx is not None else train
            w = (balance_weights(mtrain.labels, mtrain.groups, power=cfg.balance_power)
                 if cfg.balance else np.ones(len(mtrain)))
            off = (balance_logit_offset(mtrain.labels, mtrain.groups, power=cfg.balance_power)
                   if cfg.balance else 0.0)
        offsets.append(off)
        torch.manual_seed(seed)
        actor = cfg.make_actor(work_layout)
        actor.encoder.fit_normaliser(normaliser_rows(mtrain, w, cfg, seed))
        if base_col is not None:  # start at the base: the network adds a residual
            nn.init.zeros_(actor.action_net.weight)
            nn.init.zeros_(actor.action_net.bias)
        h: dict[str, Any] = {"member": k, "seed": seed}
        t0 = time.perf_counter()
        if cfg.warm_start:
            h["warm_start"] = warm_start(actor, mtrain, es_val, cfg, weights=w, adversarial=adv,
                                         val_offset=off, seed=seed, base_col=base_col)
        h["warm_start_seconds"] = time.perf_counter() - t0
        if cfg.use_ppo:
            set_dropout(actor, 0.0)
            critic = None
            if cfg.warm_start:
                critic = ValueNet(work_layout, cfg.state_hidden, cfg.gru_hidden, 0.0,
                                  cfg.vf_arch, cfg.input_clip)
                t1 = time.perf_counter()
                h["critic"] = prefit_critic(critic, actor, mtrain, cfg, base_rate=base_rate,
                                            seed=seed, base_col=base_col, weights=w)
                h["critic_seconds"] = time.perf_counter() - t1
            if es_val is not None and len(es_val):
                h["val_loss_before_ppo"] = _log_loss(actor, table_of(es_val), off,
                                                     base_col=base_col)
            h["ppo"] = train_ppo(actor, critic, mtrain, cfg, weights=w, adversarial=adv,
                                 base_rate=base_rate, seed=seed, base_col=base_col)
            if es_val is not None and len(es_val):
                h["val_loss_after_ppo"] = _log_loss(actor, table_of(es_val), off,
                                                    base_col=base_col)
        set_dropout(actor, 0.0)
        actor.eval()
        members.append(actor)
        history.append(h)
        lap(f"member_{k}")
    member_offsets = np.array(offsets, dtype=np.float64)
    calibrator = Calibrator("none")
    if cfg.calibration != "none" and has_cal:
        if folds is not None and held_out is not None:
            # out-of-fold: each held-out row scored by the one member that did not train on it
            zs, ys, conv = [], [], []
            for k, (f, fold) in enumerate(zip(folds, held_out, strict=True)):
                vtab = table_of(fold)
                zk, base = _val_logits([members[k]], vtab, base_col, cfg.action_bound)
                zs.append(zk[:, 0] + member_offsets[k] + (base if base is not None else 0.0))
                ys.append(vtab.y.numpy())
                conv.append(np.repeat(f, vtab.lengths))
            z, y, groups = np.concatenate(zs), np.concatenate(ys), np.concatenate(conv)
        else:  # has_cal without folds: the validation split
            vtab = table_of(val)  # type: ignore[arg-type]
            groups = np.repeat(np.arange(len(val)), vtab.lengths)
            zk, base = _val_logits(members, vtab, base_col, cfg.action_bound)
            zk = zk + member_offsets + (base[:, None] if base is not None else 0.0)
            z, y = combine_logits(zk, cfg.ensemble_combine), vtab.y.numpy()
        calibrator = fit_calibrator(z, y, groups, cfg.calibration, extra=val_extra,
                                    log_turns=val_log_turns)
        if calibrator.uses_turns:
            calibrator.turn_column = int(turn_column)
    lap("calibration")
    return FitResult(layout, work_layout, members, calibrator, index, member_offsets, history,
                     compressor, linear, seconds)
