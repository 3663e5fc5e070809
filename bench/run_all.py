"""``make bench``: every benchmark behind BENCHMARKS.md, one after another, outputs in runs/bench.

Each step is a separate process (so timings do not share warm caches or threads) and prints
its own table; the exact per-step commands are in BENCHMARKS.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "runs" / "bench"
PY = sys.executable
SALESRL = str(Path(PY).with_name("salesrl"))
BASELINES = ["base_rate", "tfidf", "tfidf_roles", "random_forest", "gbm"]


def _models(names: list[str]) -> list[str]:
    return [arg for name in names for arg in ("--model", name)]


STEPS: list[tuple[str, list[str]]] = [
    ("generator speed", [PY, "bench/bench_generate.py"]),
    ("PersuasionForGood to JSONL",
     [SALESRL, "convert", "--from", "p4g", "data/persuasionforgood", "-o", f"{OUT}/p4g.jsonl"]),
    ("PersuasionForGood with the persuadee's survey as metadata",
     [SALESRL, "convert", "--from", "p4g-traits", "data/persuasionforgood", "-o",
      f"{OUT}/p4g_ctx.jsonl"]),
    ("20,000 synthetic conversations",
     [SALESRL, "generate", "-n", "20000", "--seed", "0", "-o", f"{OUT}/synth20k.jsonl"]),
    ("5,000 synthetic test conversations",
     [SALESRL, "generate", "-n", "5000", "--seed", "1", "-o", f"{OUT}/synth_test5k.jsonl"]),
    ("baselines on PersuasionForGood (5-fold x 3)",
     [PY, "bench/bench_baselines.py", f"{OUT}/p4g.jsonl", f"{OUT}/p4g", *_models(BASELINES)]),
    ("baselines on 20,000 synthetic (5-fold x 1)",
     [PY, "bench/bench_baselines.py", f"{OUT}/synth20k.jsonl", f"{OUT}/synth",
      "--repeats", "1", *_models(BASELINES)]),
    ("agent on PersuasionForGood (5-fold x 3)",
     [SALESRL, "evaluate", "--data", f"{OUT}/p4g.jsonl", "--model", "agent", "--model",
      "tfidf_roles", "--model", "state_lr", "--cv", "5", "--repeats", "3",
      "--json", f"{OUT}/p4g_agent.json"]),
    ("agent on PersuasionForGood with contact metadata (5-fold x 3)",
     [SALESRL, "evaluate", "--data", f"{OUT}/p4g_ctx.jsonl", "--model", "agent", "--model",
      "tfidf_roles", "--cv", "5", "--repeats", "3", "--json", f"{OUT}/p4g_ctx_agent.json"]),
    ("agent on synthetic, 20,000 train / 5,000 test, beside Bayes",
     [SALESRL, "evaluate", "--data", f"{OUT}/synth20k.jsonl", "--test",
      f"{OUT}/synth_test5k.jsonl", "--model", "agent", "--max-turn", "0",
      "--json", f"{OUT}/synth_agent.json"]),
    ("agent ablation on PersuasionForGood (5-fold x 1)",
     [SALESRL, "ablate", "--data", f"{OUT}/p4g.jsonl", "--folds", "5", "--repeats", "1",
      "--json", f"{OUT}/ablate_p4g.json"]),
    ("embedding backends", [PY, "bench/bench_embeddings.py"]),
    ("turn-by-turn state (minilm)", [PY, "bench/bench_state.py"]),
    ("turn-by-turn state (minilm-q8)", [PY, "bench/bench_state.py", "--backend", "minilm-q8"]),
    ("agent session latency (shipped model)", [PY, "bench/bench_session.py", "--n", "30"]),
    ("confidence on PersuasionForGood (5-fold x 3)",
     [PY, "bench/bench_confidence.py", f"{OUT}/p4g.jsonl", f"{OUT}/confidence", "--cv", "5",
      "--repeats", "3", "--cost", "--index-timing"]),
    ("out-of-distribution detection",
     [PY, "bench/bench_ood.py", f"{OUT}/synth20k.jsonl", f"{OUT}/p4g.jsonl", f"{OUT}/ood"]),
    ("guidance: tagger, ceilings, latency",
     [PY, "bench/bench_guidance.py", "--json", f"{OUT}/guidance.json"]),
    ("simulated A/B test (20,000 per arm)",
     [SALESRL, "simulate-ab", "--n", "20000", "--seed", "0", "--json", f"{OUT}/ab.json"]),
    ("act detectors", [PY, "bench/bench_detectors.py"]),
    ("agent core (toy task)", [PY, "bench/bench_agent.py"]),
    ("service load (loopback, placeholder engine)",
     [PY, "bench/bench_service.py", "--client", "raw", "--requests", "1800",
      "--json", f"{OUT}/service.json"]),
    ("service load (loopback, agent, embeddings cached)",
     [PY, "bench/bench_service.py", "--engine", "agent", "--client", "raw", "--requests",
      "1200", "--levels", "1,8", "--json", f"{OUT}/service_agent_cached.json"]),
    ("service load (loopback, agent, every text new, closed loop)",
     [PY, "bench/bench_service_fresh.py", "--engine", "agent", "--client", "raw",
      "--json", f"{OUT}/service_agent.json"]),
    ("service load (loopback, agent, every text new, 8 calls at 160 appends/s)",
     [PY, "bench/bench_service_fresh.py", "--engine", "agent", "--client", "raw", "--levels",
      "8", "--rate", "160", "--requests", "3200", "--max-seconds", "30",
      "--json", f"{OUT}/service_agent_open.json"]),
]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    failed = []
    for title, cmd in STEPS:
        print(f"\n=== {title}\n$ {' '.join(cmd)}", flush=True)
        if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
            failed.append(title)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
