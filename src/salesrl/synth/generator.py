"""Generate synthetic sales conversations: batched latent simulation, then text, then JSONL.

Seed contract: batch ``j`` of a run with seed ``s`` draws its hidden states and acts from
``SeedSequence([s, j])`` (first child) and its text from the second child, so the same seed and
batch size give byte-identical output, and the first ``n`` conversations of a longer run equal a
run of ``n``.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from salesrl.conversation import (
    Conversation,
    DataError,
    Metadata,
    Outcome,
    Role,
    Turn,
    TurnAnnotations,
)
from salesrl.synth.config import SimulatorConfig
from salesrl.synth.latent import CUSTOMER_ACTS, REP_ACTS
from salesrl.synth.realise import Realiser
from salesrl.synth.simulate import SimBatch, Simulator

SOURCE = "synthetic"
_REP_VALUES = [a.value for a in REP_ACTS]
_CUST_VALUES = [a.value for a in CUSTOMER_ACTS]


@lru_cache(maxsize=4)
def simulator_for(max_exchanges: int = 13, n_reps: int = 40) -> Simulator:
    """The (cached) simulator with its reference tables for these settings."""
    return Simulator(max_exchanges=max_exchanges, n_reps=n_reps)


@lru_cache(maxsize=4)
def _realiser(config: SimulatorConfig) -> Realiser:
    return Realiser(config)


def _check(n: int, seed: int) -> None:
    if n < 0:
        raise DataError(f"the number of conversations must be 0 or more, got {n}", field="n")
    if seed < 0:
        raise DataError(f"the seed must be 0 or more, got {seed}", field="seed")


def iter_batches(n: int, seed: int, config: SimulatorConfig | None = None,
                 ) -> Iterator[tuple[int, SimBatch, random.Random]]:
    """``(first index, latent batch, text RNG)`` for each batch of a run of ``n`` calls.

    Batches are always simulated at full size and cut afterwards (prefix stability).
    """
    config = config or SimulatorConfig()
    _check(n, seed)
    sim = simulator_for(config.max_exchanges, config.n_reps)
    for j, first in enumerate(range(0, n, config.batch_size)):
        latent_ss, text_ss = np.random.SeedSequence([seed, j]).spawn(2)
        batch = sim.run(np.random.default_rng(latent_ss), config.batch_size)
        text_rng = random.Random(int(text_ss.generate_state(1, np.uint64)[0]))
        yield first, batch, text_rng


def iter_records(n: int, seed: int, config: SimulatorConfig | None = None,
                 ) -> Iterator[dict]:
    """Conversations as plain JSON-ready dicts, in schema field order."""
    config = config or SimulatorConfig()
    realiser = _realiser(config)
    for first, batch, text_rng in iter_batches(n, seed, config):
        yield from _records(batch, text_rng, realiser, seed, first,
                            min(config.batch_size, n - first), config.untimed_share)


def _untimed(seed: int, index: int, share: float) -> bool:
    """Whether conversation ``index`` of ``seed`` is written without times (a hash, so the
    text random stream and every other conversation stay as they are)."""
    return share > 0 and zlib.crc32(f"{seed}:{index}".encode()) / 2**32 < share


def _records(batch: SimBatch, rand: random.Random, realiser: Realiser, seed: int,
             first: int, count: int, untimed_share: float = 0.0) -> Iterator[dict]:
    rep_acts = batch.rep_acts[:count].tolist()
    cust_acts = batch.customer_acts[:count].tolist()
    n_ex = batch.n_exchanges[:count].tolist()
    signoff = batch.signoff[:count].tolist()
    wrapup = batch.wrapup_acts[:count].tolist()
    rep_id = batch.rep_id[:count].tolist()
    converted = batch.converted[:count].tolist()
    o_rep = np.round(batch.oracle_rep[:count], 6).tolist()
    b_rep = np.round(batch.bayes_rep[:count], 6).tolist()
    o_cust = np.round(batch.oracle_customer[:count], 6).tolist()
    b_cust = np.round(batch.bayes_customer[:count], 6).tolist()
    o_fin = np.round(batch.final_oracle[:count], 6).tolist()
    b_fin = np.round(batch.final_bayes[:count], 6).tolist()
    for k in range(count):
        n = n_ex[k]
        ra, ca = rep_acts[k][:n], cust_acts[k][:n]
        ctx, texts = realiser.call(rand, rep_id[k], ra, ca, signoff[k], wrapup[k])
        acts, oracle, bayes = [], [], []
        for i in range(n):
            acts += (_REP_VALUES[ra[i]], _CUST_VALUES[ca[i]])
            oracle += (o_rep[k][i], o_cust[k][i])
            bayes += (b_rep[k][i], b_cust[k][i])
        if wrapup[k] >= 0:
            acts.append(_REP_VALUES[wrapup[k]])
            oracle.append(o_fin[k])
            bayes.append(b_fin[k])
        index = first + k
        if _untimed(seed, index, untimed_share):
            texts = [(role, text, None, None) for role, text, _, _ in texts]
        turns = [
            {"role": role, "text": text,
             "speaker": ctx.rep_name if role == "rep" else ctx.customer_name,
             "start": start, "end": end,
             "annotations": {"acts": [acts[t]], "oracle": oracle[t], "bayes": bayes[t]}}
            for t, (role, text, start, end) in enumerate(texts)
        ]
        yield {
            "id": f"syn-{seed}-{index:07d}",
            "turns": turns,
            "outcome": "converted" if converted[k] else "not_converted",
            "metadata": {
                "industry": ctx.industry, "product": ctx.product, "channel": ctx.channel,
                "rep_id": f"rep-{rep_id[k]:03d}", "deal_id": f"deal-{seed}-{index:07d}",
                "source": SOURCE, "extra": {"persona": ctx.persona, "company": ctx.company},
            },
        }


_ROLES = {"rep": Role.REP, "customer": Role.CUSTOMER}
_OUTCOMES = {"converted": Outcome.CONVERTED, "not_converted": Outcome.NOT_CONVERTED}


def to_conversation(record: dict) -> Conversation:
    """Build a :class:`Conversation` from a generated record without re-validating it."""
    turns = [
        Turn.model_construct(role=_ROLES[t["role"]], text=t["text"], speaker=t["speaker"],
                             start=t["start"], end=t["end"],
                             annotations=TurnAnnotations.model_construct(**t["annotations"]))
        for t in record["turns"]
    ]
    return Conversation.model_construct(id=record["id"], turns=turns,
                                        outcome=_OUTCOMES[record["outcome"]],
                                        metadata=Metadata.model_construct(**record["metadata"]))


def iter_generate(n: int, seed: int, config: SimulatorConfig | None = None,
                  ) -> Iterator[Conversation]:
    """Stream ``n`` synthetic conversations (see :func:`generate`)."""
    for record in iter_records(n, seed, config):
        yield to_conversation(record)


def generate(n: int, seed: int, config: SimulatorConfig | None = None) -> list[Conversation]:
    """``n`` synthetic conversations with per-turn act labels and reference probabilities."""
    return list(iter_generate(n, seed, config))


@dataclass(frozen=True)
class GenerationStats:
    """What :func:`generate_to_jsonl` wrote."""

    n: int
    converted: int
    seconds: float

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.n if self.n else float("nan")

    @property
    def per_second(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else float("inf")


def generate_to_jsonl(path: str | Path, n: int, seed: int,
                      config: SimulatorConfig | None = None,
                      on_progress: Callable[[int], None] | None = None) -> GenerationStats:
    """Write ``n`` conversations to ``path`` (salesrl JSONL), calling ``on_progress(done)``."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise DataError("is a directory, not a file", file=path)
    _check(n, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    done = converted = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with path.open("w", encoding="utf-8") as fh:
        for record in iter_records(n, seed, config):
            fh.write(dumps(record) + "\n")
            done += 1
            converted += record["outcome"] == "converted"
            if on_progress is not None and (done % 1024 == 0 or done == n):
                on_progress(done)
    return GenerationStats(n=done, converted=converted, seconds=time.perf_counter() - t0)
