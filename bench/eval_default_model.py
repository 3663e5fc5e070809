"""Sanity check of the shipped model (or ``--model DIR``) on fresh synthetic conversations.

    .venv/bin/python bench/eval_default_model.py [--model DIR] [--n 300] [--seed 77]
    .venv/bin/python bench/eval_default_model.py --model DIR --data runs/bench/synth_test5k.jsonl

Generates ``n`` conversations with a seed the model was not trained on (or reads held-out
synthetic ones from ``--data``, e.g. ``salesrl generate -n 5000 --seed 1``) and prints AUC / Brier
of ``predict`` at 25 / 50 / 75 / 100 % of every conversation beside the simulator's Bayes
reference (P(sale | acts so far), the ceiling for a model that reads the text). A quick look,
not the evaluation protocol of ``salesrl evaluate``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from salesrl.agent.api import load
from salesrl.conversation import read_jsonl
from salesrl.evaluation.protocol import prefix_length
from salesrl.synth import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--data", type=Path, default=None,
                    help="held-out synthetic JSONL (with the Bayes annotations) instead")
    args = ap.parse_args()
    agent = load(args.model)
    convs = read_jsonl(args.data, require_outcome=True) if args.data else generate(args.n,
                                                                                   args.seed)
    probs = agent.predict_many(convs)
    y = np.array([c.label for c in convs])
    where = str(args.data) if args.data else f"seed {args.seed}"
    print(f"{agent.model_version}: {len(convs)} conversations ({where}), "
          f"{y.mean():.1%} converted")
    print("prefix | agent AUC / Brier | bayes AUC / Brier")
    for frac in (0.25, 0.5, 0.75, 1.0):
        idx = [prefix_length(len(c.turns), frac) - 1 for c in convs]
        p = np.array([pp[i] for pp, i in zip(probs, idx, strict=True)])
        b = np.array([c.turns[i].annotations.bayes for c, i in zip(convs, idx, strict=True)])
        print(f"{frac:.0%} | {roc_auc_score(y, p):.3f} / {brier_score_loss(y, p):.3f} | "
              f"{roc_auc_score(y, b):.3f} / {brier_score_loss(y, b):.3f}")


if __name__ == "__main__":
    main()
