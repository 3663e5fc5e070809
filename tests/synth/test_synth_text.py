"""Text realisation: variety, filled slots, and surface words that do not give the answer away."""

from __future__ import annotations

import string

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from salesrl.conversation import Conversation, CustomerAct, RepAct, Role
from salesrl.synth.industries import load_industries, load_templates

_KNOWN_SLOTS = {"benefit", "boss", "boss_cap", "cname", "company", "competitor", "day",
                "day_cap", "discount", "feature", "feature2", "metric", "pain", "pct", "peer",
                "peer2", "price", "price_low", "product", "rname", "team", "team_cap", "trial",
                "vendor"}


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() if k != "_about" for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def test_templates_cover_every_act_with_many_paraphrases() -> None:
    t = load_templates()
    for act in RepAct:
        assert len(t["rep"][act.value]["any"]) >= 6, act
    for act in CustomerAct:
        assert len(t["customer"][act.value]["any"]) >= 9, act
    used = {f for s in _strings(t) for _, f, _, _ in string.Formatter().parse(s) if f}
    assert used <= _KNOWN_SLOTS


def test_industries_have_their_own_vocabulary() -> None:
    industries = load_industries()
    assert len(industries) == 15
    for ind in industries:
        assert len(ind.products) >= 2 and len(ind.competitors) >= 3 and len(ind.pains) >= 5
        assert all(p.price_range[0] < p.price_range[1] for p in ind.products)
    pains = [p for ind in industries for p in ind.pains]
    assert len(set(pains)) == len(pains)


def test_slots_are_filled(conversations: list[Conversation]) -> None:
    for conv in conversations[:500]:
        for turn in conv.turns:
            assert "{" not in turn.text and "}" not in turn.text, turn.text


def test_text_variety(conversations: list[Conversation]) -> None:
    """Share of distinct utterances among all rep (customer) turns; measured about 0.70 (0.64)."""
    rep = [t.text for c in conversations for t in c.turns if t.role is Role.REP]
    customer = [t.text for c in conversations for t in c.turns if t.role is Role.CUSTOMER]
    assert len(set(rep)) / len(rep) > 0.6
    assert len(set(customer)) / len(customer) > 0.55
    # the same act is realised in many ways
    closing = {t.text for c in conversations for t in c.turns
               if t.annotations.acts == [RepAct.CLOSING_ATTEMPT.value]}
    assert len(closing) > 100


def test_product_names_follow_the_industry(conversations: list[Conversation]) -> None:
    products = {i.key: {p.name for p in i.products} for i in load_industries()}
    for conv in conversations[:300]:
        assert conv.metadata.product in products[conv.metadata.industry]


def test_last_customer_turn_alone_does_not_give_the_answer_away(
        conversations: list[Conversation]) -> None:
    """Bag-of-words logistic regression on the last customer utterance only.

    Trained on 2,000 conversations, scored by ROC AUC on 1,000 held out (measured about 0.74,
    against a Bayes AUC of about 0.83 at full length): words carry signal but are far from
    decisive, and below what the whole act sequence tells.
    """
    last = [[t.text for t in c.turns if t.role is Role.CUSTOMER][-1] for c in conversations]
    y = np.array([c.label for c in conversations])
    x = CountVectorizer(ngram_range=(1, 2), min_df=2).fit_transform(last)
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(x[:2000], y[:2000])
    auc = roc_auc_score(y[2000:], clf.predict_proba(x[2000:])[:, 1])
    bayes = roc_auc_score(y[2000:], [c.turns[-1].annotations.bayes for c in conversations[2000:]])
    assert 0.55 < auc < 0.85
    assert auc < bayes - 0.03
