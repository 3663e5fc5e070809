"""Embedding speed: per-turn latency and batch throughput of the offline backends.

    .venv/bin/python bench/bench_embeddings.py [--calls 500] [--batches 8]

Latency: one 30-word turn per call (what the service does), p50/p99 over ``--calls`` calls after
a warm-up. Throughput: batches of 64 distinct 30-word turns, in turns per second. MiniLM runs
with 1 and 2 onnxruntime threads; WordLlama and hashing are single-threaded numpy/scikit-learn.
Timings on a shared machine are indicative only.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

import numpy as np

from salesrl.features.embeddings import get_backend
from salesrl.features.embeddings.base import EmbeddingBackend

VOCABULARY = (
    "we need a proposal for the team pricing discount budget quarter contract renewal demo "
    "integration onboarding support security review legal sign next week call decision maker "
    "timeline competitor features trial users seats annual monthly invoice approval procurement "
    "happy concerned great thanks question follow up send details schedule meeting"
)
WORDS = VOCABULARY.split()


def turns(n: int, words: int = 30, seed: int = 0) -> list[str]:
    """``n`` distinct pseudo-sales turns of ``words`` words."""
    rng = random.Random(seed)
    return [f"{i}: " + " ".join(rng.choice(WORDS) for _ in range(words - 1)) for i in range(n)]


def latency_ms(backend: EmbeddingBackend, calls: int) -> tuple[float, float]:
    texts = turns(calls + 20, seed=1)
    for text in texts[:20]:  # warm-up
        backend.embed([text])
    times = np.empty(calls)
    for i, text in enumerate(texts[20:]):
        start = time.perf_counter()
        backend.embed([text])
        times[i] = time.perf_counter() - start
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def throughput(backend: EmbeddingBackend, batches: int, batch: int = 64) -> float:
    texts = turns(batches * batch, seed=2)
    backend.embed(texts[:batch])  # warm-up
    start = time.perf_counter()
    for i in range(batches):
        backend.embed(texts[i * batch : (i + 1) * batch])
    return batches * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="single-turn calls for latency")
    parser.add_argument("--batches", type=int, default=8, help="batches of 64 for throughput")
    args = parser.parse_args()

    rows = []
    configs = [
        ("minilm", {"intra_op_num_threads": 1}, {"intra_op_num_threads": 2}),
        ("wordllama", {}, None),
        ("hashing", {}, None),
    ]
    for name, one, two in configs:
        backend = get_backend(name, **one).load()
        p50, p99 = latency_ms(backend, args.calls)
        tput1 = throughput(backend, args.batches)
        tput2 = throughput(get_backend(name, **two).load(), args.batches) if two else None
        rows.append((name, backend.dim, p50, p99, tput1, tput2))

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, "
        f"{args.calls} latency calls, {args.batches}x64 turns per throughput run"
    )
    header = (
        f"{'backend':<10} {'dim':>4} {'p50 ms':>8} {'p99 ms':>8} {'b64 t/s 1thr':>13} {'2thr':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, dim, p50, p99, t1, t2 in rows:
        t2s = f"{t2:8.0f}" if t2 is not None else f"{'-':>8}"
        print(f"{name:<10} {dim:>4} {p50:8.3f} {p99:8.3f} {t1:13.0f} {t2s}")


if __name__ == "__main__":
    main()
