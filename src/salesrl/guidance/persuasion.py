"""Mapping the sales acts onto PersuasionForGood's strategy labels, to test the tagger there.

PersuasionForGood (Wang et al., ACL 2019) annotates 300 dialogues with persuader strategies
and persuadee reactions, sentence by sentence. The sales acts and those labels are different
vocabularies, so both are mapped onto a few coarse groups that exist in both; a turn is a
positive for a group when any of its sentence labels maps to it. Acts or labels with no
counterpart (a discount, a demo offer; "off-task") map to nothing and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable

from salesrl.conversation import Conversation

#: sales act -> coarse group, by role
ACT_GROUPS: dict[str, dict[str, str]] = {
    "rep": {
        "small_talk": "greeting",
        "situation_question": "inquiry", "problem_question": "inquiry",
        "implication_question": "inquiry", "need_payoff_question": "inquiry",
        "value_proposition": "appeal",
        "social_proof": "credibility",
        "closing_attempt": "proposition", "next_step": "proposition",
    },
    "customer": {
        "interest": "positive", "commitment": "commitment", "question": "question",
        "rejection": "negative", "stall": "neutral", "small_talk_customer": "greeting",
        **{f"objection_{k}": "negative"
           for k in ("price", "timing", "authority", "need", "competitor", "trust")},
    },
}

#: PersuasionForGood label -> coarse group, by role
STRATEGY_GROUPS: dict[str, dict[str, str]] = {
    "rep": {
        "greeting": "greeting", "thank": "greeting", "closing": "greeting",
        "task-related-inquiry": "inquiry", "personal-related-inquiry": "inquiry",
        "source-related-inquiry": "inquiry",
        "logical-appeal": "appeal", "emotion-appeal": "appeal", "personal-story": "appeal",
        "donation-information": "appeal",
        "credibility-appeal": "credibility", "self-modeling": "credibility",
        "proposition-of-donation": "proposition", "ask-donation-amount": "proposition",
        "ask-donate-more": "proposition", "foot-in-the-door": "proposition",
    },
    "customer": {
        "positive-reaction-to-donation": "positive", "positive-to-inquiry": "positive",
        "agree-donation": "commitment", "provide-donation-amount": "commitment",
        "confirm-donation": "commitment",
        "ask-org-info": "question", "ask-donation-procedure": "question",
        "task-related-inquiry": "question", "personal-related-inquiry": "question",
        "ask-persuader-donation-intention": "question",
        "negative-reaction-to-donation": "negative", "disagree-donation": "negative",
        "disagree-donation-more": "negative", "negative-to-inquiry": "negative",
        "neutral-reaction-to-donation": "neutral", "neutral-to-inquiry": "neutral",
        "greeting": "greeting", "thank": "greeting", "closing": "greeting",
        "you-are-welcome": "greeting",
    },
}


def group_scores(conversations: Iterable[Conversation], predict: object,
                 ) -> dict[str, list[dict[str, float | str]]]:
    """Per-group precision / recall / F1 of tagger predictions on annotated turns.

    ``predict(texts, role) -> acts``. A turn counts for group ``g`` as a true positive when
    its predicted act maps to ``g`` and a gold label maps to ``g``.
    """
    by_role: dict[str, tuple[list[str], list[set[str]]]] = {"rep": ([], []),
                                                             "customer": ([], [])}
    for conv in conversations:
        for turn in conv.turns:
            if turn.annotations is None or not turn.annotations.acts:
                continue
            role = turn.role.value
            gold = {STRATEGY_GROUPS[role][a] for a in turn.annotations.acts
                    if a in STRATEGY_GROUPS[role]}
            by_role[role][0].append(turn.text)
            by_role[role][1].append(gold)
    out: dict[str, list[dict[str, float | str]]] = {}
    for role, (texts, golds) in by_role.items():
        preds = [ACT_GROUPS[role].get(a) for a in predict(texts, role)]  # type: ignore[operator]
        rows: list[dict[str, float | str]] = []
        for g in sorted(set(STRATEGY_GROUPS[role].values())):
            tp = sum(p == g and g in gold for p, gold in zip(preds, golds, strict=True))
            n_pred = sum(p == g for p in preds)
            n_gold = sum(g in gold for gold in golds)
            prec = tp / n_pred if n_pred else 0.0
            rec = tp / n_gold if n_gold else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            rows.append({"group": g, "precision": prec, "recall": rec, "f1": f1,
                         "support": n_gold})
        rows.append({"group": "macro", "precision": sum(r["precision"] for r in rows) / len(rows),
                     "recall": sum(r["recall"] for r in rows) / len(rows),
                     "f1": sum(r["f1"] for r in rows) / len(rows),
                     "support": len(texts)})
        out[role] = rows
    return out
