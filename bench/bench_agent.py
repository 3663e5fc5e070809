"""Agent benchmark on the toy task: training speed, PPO vs warm start, inference latency.

    .venv/bin/python bench/bench_agent.py [--quick] [--json OUT.json]

Measures (CPU, threads as set by OMP_NUM_THREADS / torch defaults):
* supervised warm-start time (one member, ``fast`` network) and its held-out quality;
* PPO environment steps per second (SB3 PPO on DummyVecEnv, updates included) and the
  held-out quality after PPO fine-tuning of the same warm start;
* the whole ``fast`` recipe (3 bootstrap members, PPO, retrieval, curriculum, balancing,
  adaptive lr, calibration; no adversarial episodes on this toy task);
* p50 / p95 latency of ``predict_proba_rows`` for one row with a 5-member ensemble
  (retrieval + ensemble forward + calibration), on the toy layout and on a production-sized
  layout (state 32, window 8 x 384-d turn embeddings; untrained weights, latency only).
The Bayes posterior of the toy task is the ceiling for quality.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from salesrl.agent import ConversionAgent, ObsLayout, TrainConfig
from salesrl.agent.calibration import Calibrator
from salesrl.agent.retrieval import RetrievalIndex
from salesrl.agent.toy import make_toy_episodes


def _quality(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"log_loss": float(log_loss(y, p)), "brier": float(brier_score_loss(y, p)),
            "auc": float(roc_auc_score(y, p))}


def _latency(agent: ConversionAgent, row: np.ndarray, n: int) -> tuple[float, float]:
    for _ in range(20):
        agent.predict_proba_rows(row)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        agent.predict_proba_rows(row)
        times.append(time.perf_counter() - t0)
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 95) * 1e3)


def _untrained_agent(layout: ObsLayout, k: int, cfg: TrainConfig) -> ConversionAgent:
    """An ensemble with random weights and a full-size retrieval index (latency only)."""
    rng = np.random.default_rng(0)
    agent = ConversionAgent(cfg, layout=layout)
    agent.config_ = cfg
    agent.input_layout_ = layout
    agent.layout_ = layout.with_extra(3)
    agent.members_ = [cfg.make_actor(agent.layout_).eval() for _ in range(k)]
    agent.calibrator_ = Calibrator("temperature", 0.8, 0.0)
    n_index = cfg.retrieval_max_rows
    agent.retrieval_ = RetrievalIndex(cfg.retrieval_k, cfg.retrieval_proj_dim).fit(
        rng.normal(size=(n_index, layout.state_dim)), rng.integers(0, 2, n_index))
    agent.offsets_ = np.zeros(k)
    return agent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller data and fewer PPO steps")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    n_train, n_test, ppo_steps = (400, 200, 2048) if args.quick else (1000, 400, 8192)
    train, _ = make_toy_episodes(n_train, seed=0)
    test, truth = make_toy_episodes(n_test, seed=1)
    x_test = np.concatenate(test.obs)
    y_test = np.repeat(test.labels, test.lengths)
    res: dict[str, object] = {"threads": torch.get_num_threads(), "train_convs": n_train,
                              "train_rows": int(train.lengths.sum()),
                              "test_rows": int(len(y_test))}
    res["bayes"] = _quality(y_test, np.concatenate(truth))

    base = dict(ensemble_size=1, n_envs=4, n_steps=256, ppo_batch_size=256, ppo_epochs=4,
                ppo_steps=ppo_steps)
    warm = ConversionAgent(TrainConfig.preset("fast", use_ppo=False, **base)).fit(train)
    h = warm.history_[0]
    res["warm_start_seconds"] = h["warm_start_seconds"]
    res["warm_start_epochs"] = h["warm_start"]["epochs"]
    res["warm"] = _quality(y_test, warm.predict_proba_rows(x_test))

    ppo = ConversionAgent(TrainConfig.preset("fast", use_ppo=True, **base)).fit(train)
    hp = ppo.history_[0]["ppo"]
    res["ppo_steps"] = hp["ppo_timesteps"]
    res["ppo_seconds"] = hp["ppo_seconds"]
    res["ppo_steps_per_second"] = hp["steps_per_second"]
    res["ppo_final_approx_kl"] = hp["approx_kl"][-1] if hp["approx_kl"] else None
    res["warm+ppo"] = _quality(y_test, ppo.predict_proba_rows(x_test))
    res["val_loss_before_after_ppo"] = [ppo.history_[0]["val_loss_before_ppo"],
                                        ppo.history_[0]["val_loss_after_ppo"]]

    t0 = time.perf_counter()
    full = ConversionAgent(TrainConfig.preset("fast", ppo_steps=ppo_steps // 4)).fit(train)
    res["fast_recipe_seconds"] = time.perf_counter() - t0
    res["fast recipe"] = _quality(y_test, full.predict_proba_rows(x_test))
    res["fast_recipe_calibration"] = full.calibrator_.method
    res["fast_recipe_member_spread"] = float(full.predict_members(x_test).std(1).mean())

    cfg = TrainConfig.preset("default")
    n_lat = 200 if args.quick else 1000
    toy_agent = _untrained_agent(train.layout, 5, cfg)
    res["latency_ms_toy_k5"] = _latency(toy_agent, x_test[:1], n_lat)
    prod = ObsLayout(state_dim=32, window=8, turn_dim=384)
    prod_agent = _untrained_agent(prod, 5, cfg)
    row = np.random.default_rng(1).normal(size=(1, prod.obs_dim)).astype(np.float32)
    res["latency_ms_prod_k5"] = _latency(prod_agent, row, n_lat)

    print(f"\nagent benchmark (toy task, {n_train} train / {n_test} test conversations, "
          f"{res['threads']} torch threads)\n")
    print(f"{'model':<12}{'log loss':>10}{'Brier':>9}{'AUC':>8}   (held-out rows)")
    for name in ("bayes", "warm", "warm+ppo", "fast recipe"):
        q = res[name]
        print(f"{name:<12}{q['log_loss']:>10.4f}{q['brier']:>9.4f}{q['auc']:>8.4f}")  # type: ignore[index]
    print()
    rows = [
        ("warm start (1 member)", f"{res['warm_start_seconds']:.2f} s, "
                                  f"{res['warm_start_epochs']} epochs, "
                                  f"{res['train_rows']} rows"),
        ("PPO", f"{res['ppo_steps']} steps in {res['ppo_seconds']:.1f} s = "
                f"{res['ppo_steps_per_second']:.0f} steps/s"),
        ("fast recipe (K=3, all pieces)", f"{res['fast_recipe_seconds']:.1f} s fit, "
                                          f"calibration {res['fast_recipe_calibration']}, "
                                          f"member spread (sd of p) "
                                          f"{res['fast_recipe_member_spread']:.3f}"),
        ("val log loss before/after PPO", "{:.4f} / {:.4f}".format(
            *res["val_loss_before_after_ppo"])),  # type: ignore[misc]
        ("1-row latency, K=5, toy layout", "p50 {:.2f} ms, p95 {:.2f} ms".format(
            *res["latency_ms_toy_k5"])),  # type: ignore[misc]
        ("1-row latency, K=5, 32+8x384", "p50 {:.2f} ms, p95 {:.2f} ms".format(
            *res["latency_ms_prod_k5"])),  # type: ignore[misc]
    ]
    for k, v in rows:
        print(f"{k:<34}{v}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
