"""Per-turn latency of a live session of the shipped agent (or ``--model DIR``).

    .venv/bin/python bench/bench_session.py [--model DIR] [--n 50] [--seed 123]
        [--torch-threads N] [--worker-thread]

Replays ``n`` synthetic conversations (not the training seed) turn by turn through
``salesrl.load(...).session()`` and reports p50 / p95 milliseconds per turn of:

* ``add_turn``, cold: the turn's text is new to the embedding cache (embedding + state update +
  ensemble forward);
* ``add_turn``, warm: the same turns again, embeddings served by the cache;
* ``update + forward``: the state update (with the lexical and context columns when the model
  has them) and the ensemble forward, the embedding given (what the agent itself costs per
  turn);
* the extras the model carries, each alone: the confidence tracker's update, the live
  turning-point test, and the guide (tagging the turn, then the advisor's next move).

It also checks that the session's probabilities equal ``predict`` on the whole conversation.
The embedding cache is a fresh temporary file, so "cold" is really cold. torch's thread count
matters (its OpenMP team spans the cores; a turn's tensors are too small to pay for it), on the
main thread and in a worker thread alike: compare ``--torch-threads 1`` with the default, each
with and without ``--worker-thread``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from salesrl.agent.api import load
from salesrl.guidance.turning_points import LiveTurningPoints, turn_cause
from salesrl.synth import generate


def _pct(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1e3
    return {"p50_ms": round(float(np.percentile(a, 50)), 3),
            "p95_ms": round(float(np.percentile(a, 95)), 3), "turns": len(xs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch.set_num_threads(N) first (default: torch's own choice)")
    ap.add_argument("--worker-thread", action="store_true",
                    help="replay in a worker thread, as the service's scorer does")
    args = ap.parse_args()
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)
    if args.worker_thread:
        with ThreadPoolExecutor(max_workers=1) as pool:
            out = pool.submit(_run, args).result()
    else:
        out = _run(args)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


def _run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        agent = load(args.model, cache_path=Path(tmp) / "cache.sqlite")
        agent.builder.load()
        convs = generate(args.n, args.seed)
        cold, warm, core, max_diff = [], [], [], 0.0
        for c in convs:
            s = agent.session(c.metadata)
            probs = []
            for t in c.turns:
                t0 = time.perf_counter()
                probs.append(s.add(t).probability)
                cold.append(time.perf_counter() - t0)
            max_diff = max(max_diff, float(np.abs(np.array(probs) - agent.predict(c)).max()))
        for c in convs:
            s = agent.session(c.metadata)
            for t in c.turns:
                t0 = time.perf_counter()
                s.add(t)
                warm.append(time.perf_counter() - t0)
        conf, turning, tag, advise = [], [], [], []
        guide = agent.guide
        for c in convs:
            emb = agent.builder.embed([t.text for t in c.turns])
            session = agent.session(c.metadata)  # rows with the lexical / context columns
            state = session.state
            tracker = agent.confidence.new_tracker() if agent.confidence is not None else None
            live = LiveTurningPoints()
            acts, roles = [], []
            for t, e in zip(c.turns, emb, strict=True):
                t0 = time.perf_counter()
                row, full = session._rows(t, e)  # state update (+ lexical, context columns)
                p, m = agent.agent.predict_with_members(full[None, :])
                core.append(time.perf_counter() - t0)
                if tracker is not None:
                    t0 = time.perf_counter()
                    tracker.update(t, row, float(p[0]), m[0], e)
                    conf.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                labels = sorted(state.tracker.last_acts_.labels)
                live.update(float(p[0]), turn_cause(labels, t.text))
                turning.append(time.perf_counter() - t0)
                if guide is not None:
                    t0 = time.perf_counter()
                    acts.append(guide.tagger.predict([t.text], t.role)[0])
                    roles.append(t.role)
                    tag.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    guide.advise_acts(acts, roles)
                    advise.append(time.perf_counter() - t0)
    out = {"model": agent.model_version, "embedding": agent.embedding_backend,
           "members": len(agent.agent.members_), "lexical": agent.lexical is not None,
           "context": agent.context is not None,
           "add_turn_cold": _pct(cold), "add_turn_warm": _pct(warm),
           "update_and_forward": _pct(core),
           "confidence_update": _pct(conf) if conf else None,
           "live_turning_point": _pct(turning),
           "guide_tag_turn": _pct(tag) if tag else None,
           "guide_next_move": _pct(advise) if advise else None,
           "confidence_module": agent.confidence is not None, "guide": guide is not None,
           "max_abs_diff_session_vs_predict": max_diff,
           "torch_threads": torch.get_num_threads(), "worker_thread": args.worker_thread,
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    return out


if __name__ == "__main__":
    main()
