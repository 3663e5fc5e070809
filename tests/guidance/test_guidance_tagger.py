"""Act tagger: trains and predicts on tiny data, round-trips without pickle, maps to P4G."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from salesrl.conversation import Conversation, Outcome, Role, Turn, TurnAnnotations
from salesrl.conversation.acts import CustomerAct, RepAct
from salesrl.guidance.persuasion import group_scores
from salesrl.guidance.tagger import ActTagger, f1_table, labelled_turns


def test_tagger_predicts_known_acts(tagger: ActTagger,
                                    conversations: list[Conversation]) -> None:
    data = labelled_turns(conversations[:10])
    texts, labels = data["customer"]
    pred = tagger.predict(texts, "customer")
    assert set(pred) <= {a.value for a in CustomerAct}
    assert np.mean([p == y for p, y in zip(pred, labels, strict=True)]) > 0.6  # seen turns
    acts = tagger.tag(conversations[0])
    assert len(acts) == len(conversations[0].turns)
    assert acts[0] in {a.value for a in RepAct}
    rows = f1_table(labels, pred)
    assert rows[-1]["act"] == "macro" and 0.0 <= rows[-1]["f1"] <= 1.0


def test_tagger_round_trip(tagger: ActTagger, tmp_path: Path) -> None:
    tagger.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tagger.json", "tagger.safetensors"]
    loaded = ActTagger.load(tmp_path)
    texts = ["What does it cost?", "We already use another vendor."]
    np.testing.assert_allclose(loaded.predict_proba(texts, Role.CUSTOMER),
                               tagger.predict_proba(texts, Role.CUSTOMER), atol=1e-6)


def test_unfitted_and_one_class_errors() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        ActTagger().predict(["hi"], "rep")
    turn = Turn(role=Role.REP, text="hi", annotations=TurnAnnotations(acts=["small_talk"]))
    conv = Conversation(id="c", turns=[turn], outcome=Outcome.CONVERTED)
    with pytest.raises(ValueError, match="two act labels"):
        ActTagger().fit([conv])


def test_persuasion_group_scores(tagger: ActTagger) -> None:
    turns = [Turn(role=Role.REP, text="Hello, how are you today?",
                  annotations=TurnAnnotations(acts=["greeting"])),
             Turn(role=Role.CUSTOMER, text="Sure, I will donate $1.",
                  annotations=TurnAnnotations(acts=["agree-donation"]))]
    conv = Conversation(id="p", turns=turns, outcome=Outcome.CONVERTED)
    scores = group_scores([conv], tagger.predict)
    assert {r["group"] for r in scores["rep"]} >= {"greeting", "inquiry", "macro"}
    assert scores["customer"][-1]["support"] == 1
