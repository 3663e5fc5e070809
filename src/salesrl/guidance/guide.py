"""The rep-facing guidance: tagger -> advisor -> text and examples, within a time budget.

:class:`Guide` bundles a fitted :class:`~salesrl.guidance.tagger.ActTagger`,
:class:`~salesrl.guidance.advisor.Advisor` and (optionally)
:class:`~salesrl.guidance.examples.ExampleIndex`. :meth:`Guide.advise` turns a conversation
prefix into a :class:`Guidance`. :func:`advise_within` never delays the probability: the
caller computes P(sale) first, then asks for guidance with a budget; if the advice is not
ready in time it gets ``None`` (say "pending") and a future it may poll or await later.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from pathlib import Path

from salesrl.conversation import Conversation, Role
from salesrl.guidance.advisor import Advisor
from salesrl.guidance.examples import ExampleIndex
from salesrl.guidance.observation import MAX_EXCHANGES, observe_sequence
from salesrl.guidance.tagger import ActTagger
from salesrl.guidance.text import guidance_text

_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="salesrl-guidance")


@dataclass(frozen=True)
class Guidance:
    """The next best move for the rep, its expected lift and how to do it."""

    act: str
    text: str
    expected_lift: float
    value: float
    support: int
    open_objection: str | None = None
    examples: list[str] = field(default_factory=list)
    #: False: this situation is rare in the training logs; the act is a guess, no lift claimed
    supported: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def exchanges(acts: list[str], roles: list[Role]) -> tuple[list[str], list[str], str | None]:
    """(rep acts, customer acts, open objection) of complete rep-then-customer exchanges."""
    reps: list[str] = []
    custs: list[str] = []
    pending: str | None = None
    open_obj: str | None = None
    for act, role in zip(acts, roles, strict=True):
        if role is Role.REP:
            pending = act
            if act == "objection_handling":
                open_obj = None
        elif pending is not None:
            reps.append(pending)
            custs.append(act)
            pending = None
            if act.startswith("objection_"):
                open_obj = act
    return reps[:MAX_EXCHANGES], custs[:MAX_EXCHANGES], open_obj


class Guide:
    """Next-best-move guidance from text: tag acts, ask the advisor, add text and examples."""

    def __init__(self, tagger: ActTagger, advisor: Advisor,
                 examples: ExampleIndex | None = None) -> None:
        self.tagger = tagger
        self.advisor = advisor
        self.examples = examples

    def advise(self, conversation: Conversation, acts: list[str] | None = None) -> Guidance:
        """Guidance before the rep's next turn, given the turns so far.

        ``acts`` (one per turn) skips the tagger, e.g. when the detectors already ran.
        """
        acts = self.tagger.tag(conversation) if acts is None else list(acts)
        if len(acts) != len(conversation.turns):
            raise ValueError(f"got {len(acts)} acts for {len(conversation.turns)} turns")
        return self.advise_acts(acts, [t.role for t in conversation.turns])

    def advise_acts(self, acts: list[str], roles: list[Role]) -> Guidance:
        """:meth:`advise` from the turns' acts and roles (what a live session keeps)."""
        return self.advise_many([(acts, roles)])[0]

    def advise_many(self, items: Sequence[tuple[Sequence[str], Sequence[Role]]]
                    ) -> list[Guidance]:
        """:meth:`advise_acts` for several conversations (or prefixes), one advisor pass."""
        split = [exchanges(list(acts), list(roles)) for acts, roles in items]
        recs = self.advisor.recommend_many([(reps, custs) for reps, custs, _ in split])
        out = []
        for (reps, custs, open_obj), rec in zip(split, recs, strict=True):
            examples: list[str] = []
            if self.examples is not None:
                examples = self.examples.search(observe_sequence(reps, custs), rec.act, k=2)
            out.append(Guidance(act=rec.act, text=guidance_text(rec.act, open_obj),
                                expected_lift=rec.expected_lift, value=rec.value,
                                support=rec.support, open_objection=open_obj,
                                examples=examples, supported=rec.supported))
        return out

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        self.tagger.save(directory / "tagger")
        self.advisor.save(directory / "advisor")
        if self.examples is not None:
            self.examples.save(directory / "examples")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Guide:
        directory = Path(directory)
        examples = (ExampleIndex.load(directory / "examples")
                    if (directory / "examples").is_dir() else None)
        return cls(ActTagger.load(directory / "tagger"), Advisor.load(directory / "advisor"),
                   examples)


def advise_within(guide: Guide, conversation: Conversation, budget_s: float = 0.05,
                  acts: list[str] | None = None) -> tuple[Guidance | None, Future[Guidance]]:
    """Guidance if ready within ``budget_s`` seconds, else ``None`` ("pending"), plus its future.

    Call this after the probability has been computed and sent: the work runs on a small
    thread pool, so a slow tagger or example search never holds the probability back.
    """
    future = _POOL.submit(guide.advise, conversation, acts)
    try:
        return future.result(timeout=max(budget_s, 0.0)), future
    except FutureTimeout:
        return None, future


def annotate_turns(guide: Guide, conversation: Conversation,
                   probabilities: list[float]) -> list[dict]:
    """Per turn: turning-point flag, delta and cause, and the next move advised after it.

    For ``salesrl analyze`` and the Python API: the turn texts are tagged once (the tagger
    reads one turn at a time, so advice after turn ``i`` uses turns ``0..i`` only); turning
    points are placed on the whole probability series, i.e. after the fact.
    """
    from salesrl.guidance.turning_points import turning_points

    if len(probabilities) != len(conversation.turns):
        raise ValueError(f"got {len(probabilities)} probabilities for "
                         f"{len(conversation.turns)} turns")
    acts = guide.tagger.tag(conversation)
    points = {tp.index: tp for tp in turning_points(
        probabilities, [t.text for t in conversation.turns], acts)}
    rows = []
    for i in range(len(conversation.turns)):
        tp = points.get(i)
        advice = guide.advise(conversation.prefix(i + 1), acts[:i + 1])
        rows.append({"turn": i, "act": acts[i], "probability": float(probabilities[i]),
                     "turning_point": tp is not None,
                     "delta": None if tp is None else tp.delta,
                     "cause": None if tp is None else tp.cause,
                     "next_move": advice.to_dict()})
    return rows
