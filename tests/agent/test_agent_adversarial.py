"""Adversarial counter-examples: trend reversals and perturbed turns."""

from __future__ import annotations

import pytest

from salesrl.agent.adversarial import (
    make_counterexamples,
    perturb_text,
    perturb_turns,
    splice,
    splice_reversals,
)
from salesrl.conversation import Conversation, Metadata, Outcome, Role, Turn, TurnAnnotations


def _conv(cid: str, outcome: Outcome, n: int, word: str, industry: str = "saas",
          start_role: Role = Role.REP) -> Conversation:
    roles = [Role.REP, Role.CUSTOMER] if start_role is Role.REP else [Role.CUSTOMER, Role.REP]
    turns = [Turn(role=roles[i % 2], text=f"{word} number {i} of the call", start=10.0 * i,
                  end=10.0 * i + 5, annotations=TurnAnnotations(acts=["x"], oracle=0.5))
             for i in range(n)]
    return Conversation(id=cid, turns=turns, outcome=outcome,
                        metadata=Metadata(industry=industry))


@pytest.fixture()
def pool() -> list[Conversation]:
    return ([_conv(f"p{i}", Outcome.CONVERTED, 8 + i, "good", "saas" if i % 2 else "retail")
             for i in range(4)]
            + [_conv(f"n{i}", Outcome.NOT_CONVERTED, 6 + i, "bad", "saas" if i % 2 else "retail")
               for i in range(4)])


def test_splice_takes_early_turns_then_late_turns_with_the_late_label() -> None:
    early = _conv("e", Outcome.CONVERTED, 10, "good")
    late = _conv("l", Outcome.NOT_CONVERTED, 8, "bad")
    s = splice(early, late, early_frac=0.4, late_frac=0.5)
    assert s.outcome is Outcome.NOT_CONVERTED
    assert [t.text for t in s.turns[:4]] == [t.text for t in early.turns[:4]]
    assert [t.text for t in s.turns[4:]] == [t.text for t in late.turns[4:]]
    assert all(t.annotations is None for t in s.turns)
    roles = [t.role for t in s.turns]
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
    starts = [t.start for t in s.turns]
    assert starts == sorted(starts)
    assert s.metadata.extra["adversarial"] == "splice"


def test_splice_keeps_speakers_alternating_at_the_seam() -> None:
    early = _conv("e", Outcome.CONVERTED, 6, "good")
    late = _conv("l", Outcome.NOT_CONVERTED, 6, "bad")
    s = splice(early, late, early_frac=0.5, late_frac=0.5)  # a=3 ends on REP; late[3] is CUST
    seam = s.metadata.extra["splice_turn"]
    assert s.turns[seam - 1].role != s.turns[seam].role
    s2 = splice(early, late, early_frac=3 / 6, late_frac=2 / 6)  # late[2] is REP: moved by one
    seam = s2.metadata.extra["splice_turn"]
    assert s2.turns[seam - 1].role != s2.turns[seam].role


def test_splice_reversals_reverse_the_trend(pool: list[Conversation]) -> None:
    by_id = {c.id: c for c in pool}
    out = splice_reversals(pool, 20, seed=1)
    assert len(out) == 20
    assert {c.outcome for c in out} == {Outcome.CONVERTED, Outcome.NOT_CONVERTED}
    for c in out:
        early = by_id[c.metadata.extra["early_from"]]
        late = by_id[c.metadata.extra["late_from"]]
        assert c.outcome is late.outcome
        assert early.outcome is not late.outcome
        assert early.metadata.industry == late.metadata.industry == c.metadata.industry
        first = c.turns[0].text.split()[0]
        last = c.turns[-1].text.split()[0]
        assert (first, last) == (("bad", "good") if c.label else ("good", "bad"))
    assert splice_reversals(pool, 20, seed=1) == out  # seeded
    assert splice_reversals([c for c in pool if c.label], 5) == []  # needs both outcomes


def test_perturb_text_never_empties_and_changes_something() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    text = "we could start the pilot next month if legal signs off"
    outs = [perturb_text(text, rng, p_drop=0.2, p_swap=0.2, p_filler=0.2) for _ in range(50)]
    assert all(o.strip() for o in outs)
    assert sum(o != text for o in outs) > 40
    assert perturb_text("ok", rng, p_drop=1.0, p_swap=0, p_filler=0) == "ok"


def test_perturb_turns_keeps_the_label_and_perturbs_some_turns(pool: list[Conversation]) -> None:
    by_id = {c.id: c for c in pool}
    out = perturb_turns(pool, 10, seed=2, p_drop=0.3, p_swap=0.3, p_filler=0.3)
    assert len(out) == 10
    for c in out:
        src = by_id[c.metadata.extra["source"]]
        assert c.outcome is src.outcome and len(c.turns) == len(src.turns)
        changed = sum(a.text != b.text for a, b in zip(c.turns, src.turns, strict=True))
        assert changed >= 1
        assert all(t.annotations is None for t in c.turns)
    both = make_counterexamples(pool, 3, 4, seed=0)
    assert len(both) == 7
    assert [c.metadata.extra["adversarial"] for c in both] == ["splice"] * 3 + ["perturb"] * 4
