"""Confidence benchmark (issue 5): selective accuracy, AURC, interval coverage, ablations, cost.

    .venv/bin/python bench/bench_confidence.py DATA.jsonl OUT_DIR [--cv 5] [--repeats 3]
        [--base lr|linear|agent] [--inner-folds 4] [--cached-only] [--ablation] [--cost]
        [--index-timing]

Cross-validates :class:`~salesrl.confidence.ConfidenceModel` over a base predictor with
:func:`salesrl.evaluation.confidence_eval.evaluate_variants` and prints accuracy / Brier on
the most confident 25/50/75/100 %, AURC and interval coverage, over the protocol's prefixes
and over full dialogues (each test conversation's last turn). Bases: ``lr`` (default),
bagged state logistic regression, 5 members; ``agent``, the registered agent exactly as
``salesrl evaluate --model agent`` trains it (``small`` preset under 5,000 conversations,
lexical column, linear base; :class:`~salesrl.evaluation.confidence_bases.RegisteredAgentBase`);
``linear``, that agent's cross-fitted linear base alone (cheap). The base's predictions of
each split are cached in OUT_DIR/predictions/BASE-innerK/ (npz), so a rerun (other variants,
``--cached-only`` to report the splits done so far) does not refit the base.
``--ablation`` repeats the run without each signal group; ``--cost`` times the streaming
``ConfidenceTracker.update`` per turn (p50/p90, excluding the base predictor and the
embedding, which the state builder computes anyway); ``--index-timing`` compares exact numpy
search with a usearch HNSW index on the reference states. Writes OUT_DIR/confidence.json.
Timings on a shared machine are indicative.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from salesrl.confidence import SIGNAL_GROUPS, ConfidenceModel, TurnInputs
from salesrl.conversation import read_jsonl
from salesrl.evaluation.baselines.state_lr import default_builder
from salesrl.evaluation.confidence_bases import LinearAgentBase, RegisteredAgentBase
from salesrl.evaluation.confidence_eval import (
    BaggedLogistic,
    evaluate_variants,
    fit_with_oof,
    predict_base,
)


def _line(name: str, r: dict[str, Any]) -> str:
    acc = [r[f"top{k}"]["accuracy"]["mean"] for k in (25, 50, 75, 100)]
    brier = [r[f"top{k}"]["brier"]["mean"] for k in (25, 50, 75, 100)]
    iv = r.get("interval")
    tail = (f"{iv['coverage']['mean']:.3f}±{iv['coverage']['std']:.3f} | "
            f"{iv['mean_width']['mean']:.2f} | {iv['abstain_rate']['mean']:.3f}"
            if iv is not None else "(no interval)")
    return (f"{name:>18} | " + " ".join(f"{a:.3f}" for a in acc) + " | "
            + " ".join(f"{b:.3f}" for b in brier)
            + f" | {r['gain_top50_vs_all'] * 100:+5.1f} | {r['aurc']['mean']:.3f} | " + tail)


HEADER = (f"{'signals':>18} | acc top25 50 75 all      | brier top25 50 75 all    | "
          f"gain50 | AURC  | coverage(0.90) | width | abstain")


def index_timing(model: ConfidenceModel, n_queries: int = 500) -> dict[str, float]:
    """Per-query ms of exact numpy top-k vs usearch HNSW on the model's reference states."""
    from usearch.index import Index

    ref = model.reference_.ref_
    k = model.reference_.k
    rng = np.random.default_rng(0)
    q = ref[rng.integers(len(ref), size=n_queries)] + rng.normal(0, 0.05, (n_queries,
                                                                            ref.shape[1]))
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    t = time.perf_counter()
    exact = [np.argpartition(-(ref @ v), k - 1)[:k] for v in q]
    numpy_ms = (time.perf_counter() - t) / n_queries * 1e3
    t = time.perf_counter()
    index = Index(ndim=ref.shape[1], metric="cos", dtype="f32")
    index.add(np.arange(len(ref)), ref)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    found = [index.search(v, k).keys for v in q]
    usearch_ms = (time.perf_counter() - t) / n_queries * 1e3
    recall = float(np.mean([len(set(a.tolist()) & set(b.tolist())) / k
                            for a, b in zip(exact, found, strict=True)]))
    t = time.perf_counter()
    _ = q @ ref.T
    batch_ms = (time.perf_counter() - t) / n_queries * 1e3
    return {"rows": int(len(ref)), "dims": int(ref.shape[1]), "k": int(k),
            "numpy_exact_ms_per_query": numpy_ms, "numpy_batched_ms_per_query": batch_ms,
            "usearch_ms_per_query": usearch_ms, "usearch_build_s": build_s,
            "usearch_recall_at_k": recall}


def cost(model: ConfidenceModel, base: Any, convs: list, inputs: TurnInputs,
         ids: np.ndarray) -> dict[str, float]:
    """Per-turn wall time of ``ConfidenceTracker.update`` (streaming path)."""
    proba, members = predict_base(base, inputs.rows, ids)
    times, i = [], 0
    for c in convs:
        tracker = model.new_tracker()
        for turn in c.turns:
            t = time.perf_counter()
            tracker.update(turn, inputs.rows[i], float(proba[i]), members[i],
                           inputs.embeddings[i])
            times.append(time.perf_counter() - t)
            i += 1
    ms = np.array(times) * 1e3
    return {"turns": int(len(ms)), "p50_ms": float(np.median(ms)),
            "p90_ms": float(np.quantile(ms, 0.9)), "mean_ms": float(ms.mean())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--inner-folds", type=int, default=4)
    ap.add_argument("--base", choices=("lr", "linear", "agent"), default="lr")
    ap.add_argument("--cache", type=Path, default=None,
                    help="base predictions cache (default OUT/predictions/BASE-innerK)")
    ap.add_argument("--splits", type=int, nargs="+", default=None,
                    help="evaluate only these splits (0-based, repeat-major)")
    ap.add_argument("--cached-only", action="store_true",
                    help="evaluate only the splits whose base predictions are cached")
    ap.add_argument("--C", type=float, default=0.001, help="of the lr base")
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--select", action="store_true",
                    help="also run the meta-model selected on the inner folds (select=True)")
    ap.add_argument("--conformal-bins", type=int, nargs="+", default=None,
                    help="also run the default model with Mondrian conformal bins of the "
                         "turn count (e.g. 4)")
    ap.add_argument("--cost", action="store_true")
    ap.add_argument("--index-timing", action="store_true")
    ap.add_argument("--skip-cv", action="store_true", help="only --cost / --index-timing")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    convs = read_jsonl(args.data, require_outcome=True)
    builder = default_builder()
    inputs = TurnInputs.from_conversations(convs, builder.encode_many(convs), builder.embed)
    print(f"{len(convs)} conversations, {len(inputs)} turns, backend {builder.backend_name}, "
          f"encoded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.base == "lr":
        def base_factory() -> Any:
            return BaggedLogistic(C=args.C, state_dim=builder.state_dim)
    elif args.base == "linear":
        def base_factory() -> Any:
            return LinearAgentBase(convs, builder.layout)
    else:
        def base_factory() -> Any:
            return RegisteredAgentBase(convs, builder.encode_many)

    def tick(done: int, total: int, what: str) -> None:
        print(f"\r[{done}/{total}] {what:<30}", end="", file=sys.stderr, flush=True)

    runs: dict[str, list[str] | None] = {"all": None}
    if args.ablation:
        for g in SIGNAL_GROUPS:
            runs[f"-{g}"] = [h for h in SIGNAL_GROUPS if h != g]
        runs["prediction only"] = ["prediction"]
    variants = {name: (lambda g=groups: ConfidenceModel(g, state_dim=builder.state_dim))
                for name, groups in runs.items()}
    if args.select:
        variants["all, selected"] = lambda: ConfidenceModel(state_dim=builder.state_dim,
                                                            select=True)
    for bins in args.conformal_bins or []:
        variants[f"all, {bins} conformal bins"] = (
            lambda b=bins: ConfidenceModel(state_dim=builder.state_dim, conformal_bins=b))
    report: dict[str, Any] = {"data": str(args.data), "conversations": len(convs),
                              "turns": len(inputs), "backend": builder.backend_name,
                              "base": args.base, "runs": {}}
    results = {} if args.skip_cv else evaluate_variants(
        inputs, base_factory=base_factory,
        variants=variants,
        n_splits=args.cv, repeats=args.repeats, inner_folds=args.inner_folds, progress=tick,
        cache_dir=args.cache or args.out / "predictions" / f"{args.base}-inner{args.inner_folds}",
        cached_only=args.cached_only, only_splits=args.splits)
    print(file=sys.stderr)
    for title, part in (("protocol prefixes", None), ("full dialogues", "full_dialogue")):
        if results:
            n = next(iter(results.values()))["protocol"]["splits_evaluated"]
            print(f"{title} ({n} splits; base {args.base}, inner folds {args.inner_folds})")
            print(HEADER)
        for name, r in results.items():
            report["runs"][name] = r
            print(_line(name, r if part is None else r[part]), flush=True)
        if results:
            ref = next(iter(results.values()))["margin_only"]
            print(_line("margin |p-0.5|", ref["protocol" if part is None else part]))
    if args.cost or args.index_timing:
        n = len(convs)
        test_ids = np.arange(n)[n - max(20, n // 10):]
        train_ids = np.setdiff1d(np.arange(n), test_ids)
        train = inputs.subset_convs(train_ids)
        base, model = fit_with_oof(train, base_factory, args.inner_folds, 0,
                                   lambda: ConfidenceModel(state_dim=builder.state_dim),
                                   ids=train_ids[train.conv])
        if args.cost:
            test = inputs.subset_convs(test_ids)
            report["cost"] = cost(model, base, [convs[i] for i in test_ids], test,
                                  test_ids[test.conv])
            print("cost per turn (ConfidenceTracker.update): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in report["cost"].items()))
        if args.index_timing:
            report["index_timing"] = index_timing(model)
            print("index: " + ", ".join(f"{k} {v:.3g}" for k, v in
                                        report["index_timing"].items()))
    report["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "confidence.json").write_text(json.dumps(report, indent=1))
    print(f"total {report['seconds']} s; wrote {args.out / 'confidence.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
