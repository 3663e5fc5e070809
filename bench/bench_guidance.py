"""Guidance benchmarks: tagger F1 tables, exact uplift ceilings, guidance latency.

    .venv/bin/python bench/bench_guidance.py [--n-train 4000] [--n-test 1000]
        [--adherence 0.7] [--table-search] [--one-step N_LOGGED] [--json OUT.json]

(a) Act tagger (salesrl.guidance.tagger): fitted on ``generate(n_train, seed=11)``, scored
per act on ``generate(n_test, seed=12)`` (other conversations, split by conversation), rep
acts on rep turns and customer acts on customer turns. Then, with no refitting, on the 300
annotated PersuasionForGood dialogues (Wang et al., ACL 2019) through the coarse group mapping
of salesrl.guidance.persuasion (transfer from sales templates to charity persuasion).

(b) Exact ceilings of the simulated A/B test (salesrl.guidance.ab): the control rate and the
best a hidden-state-aware advisor could reach at the given adherence (backward induction).

(c) With ``--table-search``: the best advisor that sees only (last customer act,
exchange), by exact coordinate ascent (a lower bound on that class's optimum). With
``--one-step N``: the exact rate of the greedy policy on the logged reps' own values in the
same situations, learned from N logged control calls (what an offline advisor with
Monte Carlo targets can reach on that table).

(d) Latency of one guidance call (tagger + advisor + example search) and of turning points,
on a small advisor; the machine may be loaded, so these are indicative.

The A/B test itself is ``salesrl simulate-ab`` (see its --help).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from salesrl.guidance.ab import (
    best_table_policy,
    exact_control_rate,
    hidden_state_ceiling,
    one_step_table_policy,
    table_policy_rate,
)
from salesrl.guidance.advisor import Advisor, AdvisorConfig
from salesrl.guidance.examples import ExampleIndex
from salesrl.guidance.guide import Guide
from salesrl.guidance.logs import ActLog
from salesrl.guidance.persuasion import group_scores
from salesrl.guidance.tagger import ActTagger, f1_table, labelled_turns
from salesrl.guidance.turning_points import turning_points
from salesrl.synth import Simulator, generate


def _print_table(title: str, rows: list[dict], key: str) -> None:
    print(f"\n{title}")
    print(f"{key:<24} {'P':>6} {'R':>6} {'F1':>6} {'n':>6}")
    for r in rows:
        print(f"{r[key]:<24} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} "
              f"{r['support']:6d}")


def _percentiles(values: list[float]) -> dict[str, float]:
    a = np.asarray(values) * 1000
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-train", type=int, default=4000)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--adherence", type=float, default=0.7)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--table-search", action="store_true",
                    help="also search the best (last customer act, exchange) policy (minutes)")
    ap.add_argument("--one-step", type=int, default=0, metavar="N_LOGGED",
                    help="also the exact rate of one-step improvement on (last customer act, "
                         "exchange) learned from N_LOGGED logged control calls")
    args = ap.parse_args()
    out: dict = {"n_train": args.n_train, "n_test": args.n_test}

    train, test = generate(args.n_train, seed=11), generate(args.n_test, seed=12)
    t0 = time.perf_counter()
    tagger = ActTagger().fit(train)
    out["tagger_fit_s"] = time.perf_counter() - t0
    out["tagger_synthetic"] = {}
    for role, (texts, labels) in labelled_turns(test).items():
        rows = f1_table(labels, tagger.predict(texts, role))
        out["tagger_synthetic"][role] = rows
        _print_table(f"tagger, held-out synthetic, {role} turns", rows, "act")

    from salesrl.importers.persuasionforgood import default_persuasionforgood_annotated

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p4g = default_persuasionforgood_annotated()
    out["tagger_persuasionforgood"] = group_scores(p4g, tagger.predict)
    for role, rows in out["tagger_persuasionforgood"].items():
        _print_table(f"tagger -> PersuasionForGood groups ({len(p4g)} dialogues), {role}",
                     rows, "group")

    sim = Simulator()
    exact = exact_control_rate(sim)
    ceiling = hidden_state_ceiling(sim, args.adherence)
    out["exact"] = {"control_rate": exact, "adherence": args.adherence,
                    "hidden_state_ceiling_rate": ceiling,
                    "hidden_state_ceiling_relative_uplift": ceiling / exact - 1.0,
                    "full_adherence_ceiling_relative_uplift":
                        hidden_state_ceiling(sim, 1.0) / exact - 1.0}
    print(f"\nexact control rate {exact:.4f}; hidden-state ceiling at adherence "
          f"{args.adherence}: {ceiling:.4f} ({ceiling / exact - 1:+.1%}); at 1.0: "
          f"{out['exact']['full_adherence_ceiling_relative_uplift']:+.1%}")

    if args.table_search:
        _, best = best_table_policy(sim, args.adherence)
        out["exact"]["best_table_policy_rate"] = best
        out["exact"]["best_table_policy_relative_uplift"] = best / exact - 1.0
        print(f"best (last customer act, exchange) policy at adherence {args.adherence}: "
              f"{best:.4f} ({best / exact - 1:+.1%})")

    if args.one_step:
        batch = sim.run(np.random.default_rng(1), args.one_step)
        logged = ActLog.from_sim(batch.rep_acts, batch.customer_acts, batch.n_exchanges,
                                 batch.converted)
        rate = table_policy_rate(sim, one_step_table_policy(logged), args.adherence)
        out["exact"]["one_step_table_policy"] = {"n_logged": args.one_step, "rate": rate,
                                                 "relative_uplift": rate / exact - 1.0}
        print(f"one-step improvement on (last customer act, exchange) from {args.one_step} "
              f"logged calls, at adherence {args.adherence}: {rate:.4f} "
              f"({rate / exact - 1:+.1%})")

    log = ActLog.from_conversations(train)
    advisor = Advisor(AdvisorConfig(n_steps=200)).fit(log)
    guide = Guide(tagger, advisor, ExampleIndex().fit(train))
    times, tp_times = [], []
    for conv in test[:200]:
        k = max(1, len(conv.turns) // 2)
        prefix = conv.prefix(k)
        t = time.perf_counter()
        guide.advise(prefix)
        times.append(time.perf_counter() - t)
        probs = [a.bayes for a in (turn.annotations for turn in conv.turns) if a]
        acts = [turn.annotations.acts[0] for turn in conv.turns if turn.annotations]
        t = time.perf_counter()
        turning_points(probs, [turn.text for turn in conv.turns], acts)
        tp_times.append(time.perf_counter() - t)
    out["latency"] = {"guidance": _percentiles(times), "turning_points": _percentiles(tp_times)}
    print(f"\nguidance per call: {out['latency']['guidance']}; turning points: "
          f"{out['latency']['turning_points']} (indicative, loaded machine)")
    example = test[0]
    probs = [turn.annotations.bayes for turn in example.turns]
    acts = [turn.annotations.acts[0] for turn in example.turns]
    points = turning_points(probs, [t.text for t in example.turns], acts)
    out["turning_point_example"] = {"id": example.id, "bayes": probs, "acts": acts,
                                    "points": [vars(p) for p in points]}
    print(f"turning points of {example.id}: {[vars(p) for p in points]}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
