"""Turn-by-turn state speed: per-turn update latency and batch encoding throughput.

    .venv/bin/python bench/bench_state.py [--turns 300] [--backend minilm] [--threads 1]

Latency: ``ConversationState.update`` of one 30-word turn (what the service does per turn),
p50/p99 over ``--turns`` turns after a warm-up, in conversations of 20 alternating turns;
(a) with the embedding computed inside ``update`` (cache disabled, so every turn really runs the
model) and (b) with the embedding precomputed (state + signals only). Throughput: turns per
second of ``StateBuilder.encode_many`` (batched embedding + the same fold, cache disabled) and
of the batched embedding alone. Timings on a shared machine are indicative only.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

import numpy as np

from salesrl.conversation import Conversation, Outcome, Role, Turn
from salesrl.features import StateBuilder

VOCABULARY = (
    "we need a proposal for the team pricing discount budget quarter contract renewal demo "
    "integration onboarding support security review legal sign next week call decision maker "
    "timeline competitor features trial users seats annual monthly invoice approval procurement "
    "happy concerned great thanks question follow up send details schedule meeting too expensive "
    "not sure maybe later interested sounds good how much does it cost"
)
WORDS = VOCABULARY.split()
TURNS_PER_CONVERSATION = 20


def conversations(n_turns: int, seed: int, words: int = 30) -> list[Conversation]:
    """Distinct pseudo-sales turns of ``words`` words, 20 alternating turns per conversation."""
    rng = random.Random(seed)
    out, turns = [], []
    for i in range(n_turns):
        text = f"{seed}-{i}: " + " ".join(rng.choice(WORDS) for _ in range(words - 1))
        if i % 3 == 0:
            text += "?"
        turns.append(Turn(role=Role.REP if i % 2 == 0 else Role.CUSTOMER, text=text))
        if len(turns) == TURNS_PER_CONVERSATION or i == n_turns - 1:
            out.append(Conversation(id=f"b{seed}-{len(out)}", turns=turns,
                                    outcome=Outcome.UNKNOWN))
            turns = []
    return out


def update_latency_ms(builder: StateBuilder, convs: list[Conversation], precomputed: bool,
                      warmup: int = 20) -> tuple[float, float]:
    """p50 / p99 milliseconds of one ``update`` over every turn of ``convs`` after ``warmup``."""
    times: list[float] = []
    for conv in convs:
        emb = builder.embed([t.text for t in conv.turns]) if precomputed else None
        state = builder.new_state()
        for j, turn in enumerate(conv.turns):
            e = emb[j] if emb is not None else None
            start = time.perf_counter()
            state.update(turn, e)
            times.append(time.perf_counter() - start)
    arr = np.asarray(times[warmup:]) * 1e3
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300, help="turns timed per latency row")
    parser.add_argument("--backend", default="minilm")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads (minilm)")
    parser.add_argument("--batch-turns", type=int, default=1000, help="turns for throughput")
    args = parser.parse_args()

    options = {"intra_op_num_threads": args.threads} if args.backend == "minilm" else {}
    builder = StateBuilder(backend=args.backend, backend_options=options, cache=False).load()
    warm = 20
    live = update_latency_ms(builder, conversations(args.turns + warm, seed=1), False, warm)
    pre = update_latency_ms(builder, conversations(args.turns + warm, seed=2), True, warm)

    batch = conversations(args.batch_turns, seed=3)
    builder.encode_many(conversations(64, seed=4))  # warm-up
    start = time.perf_counter()
    builder.encode_many(batch)
    encode_tps = args.batch_turns / (time.perf_counter() - start)
    texts = [t.text for c in conversations(args.batch_turns, seed=5) for t in c.turns]
    start = time.perf_counter()
    builder.embed(texts)
    embed_tps = args.batch_turns / (time.perf_counter() - start)

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, "
          f"backend {builder.backend_name} ({builder.embedding_dim}-d, {args.threads} thread(s)),"
          f" window {builder.config.window}, obs_dim {builder.obs_dim}, cache disabled")
    header = f"{'measurement':<44} {'p50 ms':>8} {'p99 ms':>8} {'turns/s':>9}"
    print(header)
    print("-" * len(header))
    print(f"{'update(), 30-word turn, embedding included':<44} {live[0]:8.2f} {live[1]:8.2f} "
          f"{1e3 / live[0]:9.0f}")
    print(f"{'update(), 30-word turn, embedding precomputed':<44} {pre[0]:8.2f} {pre[1]:8.2f} "
          f"{1e3 / pre[0]:9.0f}")
    print(f"{'encode_many(), batched embedding + fold':<44} {'-':>8} {'-':>8} {encode_tps:9.0f}")
    print(f"{'embed(), batched, embedding only':<44} {'-':>8} {'-':>8} {embed_tps:9.0f}")
    print(f"({args.turns} timed turns per latency row after {warm} warm-up; "
          f"{args.batch_turns} turns per throughput row)")


if __name__ == "__main__":
    main()
