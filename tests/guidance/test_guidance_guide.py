"""Guide: text in, next best move out, never holding back the probability."""

from __future__ import annotations

import time
from pathlib import Path

from salesrl.conversation import Conversation, Role
from salesrl.guidance.advisor import Advisor
from salesrl.guidance.examples import ExampleIndex
from salesrl.guidance.guide import Guidance, Guide, advise_within, exchanges
from salesrl.guidance.tagger import ActTagger


def test_exchanges_pair_turns_and_track_objections() -> None:
    reps, custs, open_obj = exchanges(
        ["small_talk", "objection_price", "discount"], [Role.REP, Role.CUSTOMER, Role.REP])
    assert reps == ["small_talk"] and custs == ["objection_price"]
    assert open_obj == "objection_price"


def test_guide_advises_with_examples(tagger: ActTagger, advisor: Advisor,
                                     conversations: list[Conversation], tmp_path: Path) -> None:
    guide = Guide(tagger, advisor, ExampleIndex().fit(conversations))
    prefix = conversations[0].prefix(4)
    g = guide.advise(prefix)
    assert isinstance(g, Guidance) and g.text
    assert g.expected_lift >= 0.0
    assert len(g.examples) <= 2
    loaded = Guide.load(guide.save(tmp_path))
    assert loaded.advise(prefix).act == g.act


def test_slow_guidance_returns_pending(tagger: ActTagger, advisor: Advisor,
                                       conversations: list[Conversation]) -> None:
    class Slow(Guide):
        def advise(self, conversation: Conversation, acts: list[str] | None = None
                   ) -> Guidance:
            time.sleep(0.3)
            return super().advise(conversation, acts)

    t0 = time.perf_counter()
    result, future = advise_within(Slow(tagger, advisor), conversations[0].prefix(2),
                                   budget_s=0.01)
    assert result is None
    assert time.perf_counter() - t0 < 0.2
    assert isinstance(future.result(timeout=5), Guidance)


def test_annotate_turns_flags_a_turning_point(tagger: ActTagger, advisor: Advisor,
                                              conversations: list[Conversation]) -> None:
    from salesrl.guidance.guide import annotate_turns

    conv = next(c for c in conversations if len(c.turns) >= 6)
    n = len(conv.turns)
    probs = [0.3] * (n // 2) + [0.7] * (n - n // 2)
    rows = annotate_turns(Guide(tagger, advisor), conv, probs)
    assert len(rows) == n
    assert [r["turn"] for r in rows if r["turning_point"]] == [n // 2]
    assert all(r["next_move"]["act"] for r in rows)
