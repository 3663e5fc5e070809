"""Throughput of the synthetic generator on one core: ``python bench/bench_generate.py [N]``.

Generates N (default 20,000) conversations with text, act labels and both reference
probabilities to a temporary JSONL file and prints one line. Thread pools are limited to one
thread and, where the OS allows it, the process is pinned to a single CPU.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from salesrl.synth import generate_to_jsonl  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.jsonl"
        t0 = time.perf_counter()
        stats = generate_to_jsonl(path, n, seed=0)
        seconds = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
    print(f"bench_generate: {stats.n} conversations in {seconds:.2f} s = "
          f"{stats.n / seconds:,.0f} conversations/s on 1 core (conversion rate "
          f"{stats.conversion_rate:.3f}, {size_mb:.1f} MB JSONL)")


if __name__ == "__main__":
    main()
