"""Every registered baseline on one labelled JSONL, 5-fold x 3 cross-validation by default.

    .venv/bin/python bench/bench_baselines.py DATA.jsonl OUT_DIR [--cv 5] [--repeats 3]

Writes OUT_DIR/baselines.json (every number), baselines.md (the table, for BENCHMARKS.md) and
baselines.png (AUC and Brier against prefix fraction), and prints the table and the timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from salesrl.conversation import read_jsonl
from salesrl.evaluation.predictor import available
from salesrl.evaluation.protocol import MAX_TURN, evaluate
from salesrl.evaluation.report import (
    build_report,
    data_summary,
    markdown_table,
    write_json,
    write_markdown,
    write_plot,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="labelled salesrl JSONL")
    parser.add_argument("out", type=Path, help="folder for baselines.{json,md,png}")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-turn", type=int, default=MAX_TURN)
    parser.add_argument("--model", action="append", help="only these models (repeatable)")
    args = parser.parse_args(argv)

    conversations = read_jsonl(args.data, require_outcome=True)
    names = args.model or list(available())

    def tick(done: int, total: int, what: str) -> None:
        print(f"\r[{done}/{total}] {what:<40}", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    result = evaluate(names, conversations, n_splits=args.cv, repeats=args.repeats,
                      max_turn=args.max_turn, progress=tick)
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)

    report = build_report(result, data=data_summary(conversations, args.data))
    report["protocol"]["seconds"] = round(elapsed, 2)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(report, args.out / "baselines.json")
    write_markdown(report, args.out / "baselines.md")
    write_plot(report, args.out / "baselines.png")
    print(markdown_table(report))
    for name, entry in report["models"].items():
        print(f"{name:>14}: fit {entry['fit_seconds']:.1f} s, predict "
              f"{entry['predict_seconds']:.1f} s over {len(result.folds)} folds")
    print(f"total {elapsed:.1f} s; wrote {args.out}/baselines.{{json,md,png}}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
