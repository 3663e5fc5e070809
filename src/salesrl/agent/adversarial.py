"""Adversarial counter-examples for training (a piece of the SalesRLAgent recipe).

Two kinds, both returned as new :class:`~salesrl.conversation.Conversation` objects so that the
same state tracker embeds them as it embeds real data:

* **reversals** (:func:`splice_reversals`): the early turns of a conversation with one outcome
  followed by the late turns of a conversation with the opposite outcome; the label is the
  late part's outcome. They punish a model that locks in on the early trend.
* **perturbations** (:func:`perturb_turns`): the same conversation with some turns lightly
  corrupted (a dropped word, two swapped neighbouring words, a duplicated filler word), label
  unchanged: robustness to transcription noise (cf. Wei & Zou, "EDA: Easy Data Augmentation
  Techniques", EMNLP 2019).

Annotations (acts, oracle / bayes probabilities) are removed: they no longer describe the
new conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from salesrl.conversation import Conversation, Metadata, Outcome, Turn

FILLERS = ("um", "uh", "like", "you know", "I mean", "so", "well", "actually")


def _labelled(conversations: Sequence[Conversation]) -> list[Conversation]:
    return [c for c in conversations if c.outcome is not Outcome.UNKNOWN and len(c.turns) >= 2]


def _retime(turns: list[Turn], offset: float) -> list[Turn]:
    out = []
    for t in turns:
        upd: dict[str, object] = {"annotations": None}
        if t.start is not None:
            upd["start"] = t.start + offset
        if t.end is not None:
            upd["end"] = t.end + offset
        out.append(t.model_copy(update=upd))
    return out


def splice(early: Conversation, late: Conversation, early_frac: float = 0.5,
           late_frac: float | None = None, new_id: str | None = None) -> Conversation:
    """Turns ``early[:a]`` followed by ``late[b:]``, labelled with ``late``'s outcome.

    ``a = round(early_frac * len(early))`` and ``b = round(late_frac * len(late))`` (default
    ``late_frac = early_frac``), each kept inside ``1 .. len - 1``; ``b`` moves by one turn
    when that keeps speakers alternating at the seam. Times of the late part are shifted to
    continue after the early part.
    """
    late_frac = early_frac if late_frac is None else late_frac
    a = min(max(int(round(early_frac * len(early.turns))), 1), len(early.turns) - 1)
    b = min(max(int(round(late_frac * len(late.turns))), 1), len(late.turns) - 1)
    last_role = early.turns[a - 1].role
    if late.turns[b].role == last_role:
        for cand in (b + 1, b - 1):
            if 1 <= cand <= len(late.turns) - 1 and late.turns[cand].role != last_role:
                b = cand
                break
    head = _retime(early.turns[:a], 0.0)
    ends = [t.end if t.end is not None else t.start for t in head]
    head_end = max([e for e in ends if e is not None], default=None)
    tail_src = late.turns[b:]
    tail_start = min([t.start for t in tail_src if t.start is not None], default=None)
    if head_end is not None and tail_start is not None:
        tail = _retime(tail_src, head_end + 1.0 - tail_start)
    else:
        tail = [t.model_copy(update={"annotations": None, "start": None, "end": None})
                for t in tail_src]
    extra = dict(late.metadata.extra)
    extra.update({"adversarial": "splice", "early_from": early.id, "late_from": late.id,
                  "splice_turn": a})
    meta = late.metadata.model_copy(update={"extra": extra})
    return Conversation(id=new_id or f"adv-splice-{early.id}-{late.id}", turns=head + tail,
                        outcome=late.outcome, metadata=meta)


def splice_reversals(conversations: Sequence[Conversation], n: int, *, seed: int = 0,
                     frac_range: tuple[float, float] = (0.3, 0.7),
                     same_industry: bool = True) -> list[Conversation]:
    """``n`` trend-reversing conversations: the early part of one outcome, the late part of
    the opposite one (label = the late part's outcome); see :func:`splice`.

    Pairs are drawn within the same industry when possible; the split point is drawn
    uniformly from ``frac_range`` of each conversation.
    """
    pool = _labelled(conversations)
    pos = [c for c in pool if c.label == 1]
    neg = [c for c in pool if c.label == 0]
    if not pos or not neg or n <= 0:
        return []
    rng = np.random.default_rng(seed)
    # each outcome's conversations by industry, grouped once (not one scan per reversal:
    # that was most of the time of 2,000 reversals from 20,000 conversations)
    by_industry: dict[tuple[bool, object], list[Conversation]] = {}
    for c in pos + neg:
        by_industry.setdefault((c.label == 1, c.metadata.industry), []).append(c)
    out = []
    for i in range(n):
        late_is_pos = bool(rng.random() < 0.5)
        late = (pos if late_is_pos else neg)[int(rng.integers(len(pos if late_is_pos else neg)))]
        early_pool = neg if late_is_pos else pos
        if same_industry:
            same = by_industry.get((not late_is_pos, late.metadata.industry), [])
            early_pool = same or early_pool
        early = early_pool[int(rng.integers(len(early_pool)))]
        fa, fb = rng.uniform(*frac_range, size=2)
        out.append(splice(early, late, float(fa), float(fb),
                          new_id=f"adv-splice-{i}-{early.id}-{late.id}"))
    return out


def perturb_text(text: str, rng: np.random.Generator, *, p_drop: float = 0.1,
                 p_swap: float = 0.1, p_filler: float = 0.1) -> str:
    """Drop words, swap neighbouring words, insert duplicated fillers; never returns empty."""
    words = text.split()
    if not words:
        return text
    kept = [w for w in words if rng.random() >= p_drop] or [words[int(rng.integers(len(words)))]]
    i = 0
    while i < len(kept) - 1:
        if rng.random() < p_swap:
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
            i += 2
        else:
            i += 1
    out: list[str] = []
    for w in kept:
        if rng.random() < p_filler:
            f = FILLERS[int(rng.integers(len(FILLERS)))]
            out += [f + ",", f] if rng.random() < 0.5 else [f]
        out.append(w)
    return " ".join(out)


def perturb_turns(conversations: Sequence[Conversation], n: int, *, seed: int = 0,
                  turn_rate: float = 0.3, p_drop: float = 0.1, p_swap: float = 0.1,
                  p_filler: float = 0.1) -> list[Conversation]:
    """``n`` copies of randomly chosen conversations with about ``turn_rate`` of their turns
    perturbed by :func:`perturb_text` (at least one); the outcome is kept."""
    pool = _labelled(conversations)
    if not pool or n <= 0:
        return []
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        conv = pool[int(rng.integers(len(pool)))]
        hit = rng.random(len(conv.turns)) < turn_rate
        hit[int(rng.integers(len(conv.turns)))] = True
        turns = []
        for t, h in zip(conv.turns, hit, strict=True):
            text = perturb_text(t.text, rng, p_drop=p_drop, p_swap=p_swap,
                                p_filler=p_filler) if h else t.text
            turns.append(t.model_copy(update={"text": text, "annotations": None}))
        extra = dict(conv.metadata.extra)
        extra.update({"adversarial": "perturb", "source": conv.id})
        meta: Metadata = conv.metadata.model_copy(update={"extra": extra})
        out.append(Conversation(id=f"adv-perturb-{i}-{conv.id}", turns=turns,
                                outcome=conv.outcome, metadata=meta))
    return out


def make_counterexamples(conversations: Sequence[Conversation], n_reversals: int,
                         n_perturbed: int, *, seed: int = 0) -> list[Conversation]:
    """Both kinds together: reversals first, then perturbed copies."""
    return (splice_reversals(conversations, n_reversals, seed=seed)
            + perturb_turns(conversations, n_perturbed, seed=seed + 1))
