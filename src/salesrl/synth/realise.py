"""Text and timing for a simulated call: acts in, utterances with timestamps out.

Each act is realised from a template chosen among several paraphrases (``data/templates.json``),
filled with slots of the call's industry (product, price, pain, competitor, names, ...), and
dressed with the customer's persona: fillers, hedges, off-topic asides, typos, and mixed signals
(an interested customer who still hedges, a polite customer who says no). Everything here is
drawn from the acts, the industry, the persona and the channel only, never from the hidden
state, so the text carries exactly the information of the acts plus noise. Response times are
engagement signals in the same sense: engaged acts (interest, questions, commitment) come
faster and longer, stalls and rejections slower.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cached_property

from salesrl.conversation.acts import CustomerAct, RepAct
from salesrl.synth.config import SimulatorConfig
from salesrl.synth.industries import Industry, load_industries, load_templates

PERSONAS: tuple[str, ...] = ("formal", "casual", "terse", "chatty", "analytical")
CHANNELS: tuple[str, ...] = ("phone", "video", "chat")
_CHANNEL_CDF = (0.45, 0.8, 1.0)

_REP = tuple(RepAct)
_CUST = tuple(CustomerAct)
# What kind of rep act the customer is answering: picks context-specific templates.
_GROUP = {
    RepAct.SITUATION_QUESTION: "question", RepAct.PROBLEM_QUESTION: "question",
    RepAct.IMPLICATION_QUESTION: "question", RepAct.NEED_PAYOFF_QUESTION: "question",
    RepAct.VALUE_PROPOSITION: "pitch", RepAct.SOCIAL_PROOF: "pitch", RepAct.DEMO_OFFER: "pitch",
    RepAct.DISCOUNT: "pitch", RepAct.OBJECTION_HANDLING: "pitch",
    RepAct.CLOSING_ATTEMPT: "ask", RepAct.NEXT_STEP: "ask", RepAct.SMALL_TALK: "chat",
}
_POSITIVE = {CustomerAct.INTEREST, CustomerAct.COMMITMENT, CustomerAct.QUESTION}
_WARM_END = {_CUST.index(CustomerAct.INTEREST), _CUST.index(CustomerAct.COMMITMENT)}
_NEGATIVE = {a for a in CustomerAct if a.value.startswith("objection_")} | {
    CustomerAct.STALL, CustomerAct.REJECTION}
# Seconds before the customer answers, by act (phone); engaged acts answer faster.
_LATENCY = {CustomerAct.INTEREST: 0.6, CustomerAct.QUESTION: 0.8, CustomerAct.COMMITMENT: 0.7,
            CustomerAct.SMALL_TALK: 0.7, CustomerAct.STALL: 2.4, CustomerAct.REJECTION: 1.8}
# Chance of a second, elaborating sentence, by act; engaged acts say more.
_ELABORATE = {CustomerAct.INTEREST: 0.55, CustomerAct.QUESTION: 0.45,
              CustomerAct.COMMITMENT: 0.5, CustomerAct.SMALL_TALK: 0.4,
              CustomerAct.STALL: 0.12, CustomerAct.REJECTION: 0.2}
_PERSONA_SPEED = {"formal": 1.1, "casual": 0.9, "terse": 0.8, "chatty": 0.75, "analytical": 1.3}
_PERSONA_TALK = {"formal": 1.0, "casual": 1.0, "terse": 0.2, "chatty": 1.6, "analytical": 1.0}
_PERSONA_HEDGE = {"formal": 0.06, "casual": 0.25, "terse": 0.04, "chatty": 0.2,
                  "analytical": 0.1}
_WORDS_PER_SECOND = {"phone": 2.6, "video": 2.5, "chat": 0.9}
_CHAT_LATENCY = 6.0


def _prep(templates: list[str]) -> tuple[tuple[str, bool], ...]:
    """Templates with a flag: may a prefix lower-case their first letter?"""
    return tuple((t, not (t.startswith(("I ", "I'", "{")))) for t in templates)


@dataclass
class CallContext:
    """The visible particulars of one simulated call."""

    industry: str
    product: str
    channel: str
    persona: str
    company: str
    customer_name: str
    rep_name: str


class _Slots(dict):
    """Slot values: fixed per call, or drawn afresh on every lookup from ``pools``."""

    def __init__(self, fixed: dict[str, str], pools: dict[str, tuple[str, ...]],
                 rand: random.Random) -> None:
        super().__init__(fixed)
        self.pools = pools
        self.rand = rand.random

    def __missing__(self, key: str) -> str:
        pool = self.pools[key]
        return pool[int(self.rand() * len(pool))]


class Realiser:
    """Turns the act sequence of a call into utterances and timestamps."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()

    @cached_property
    def industries(self) -> tuple[Industry, ...]:
        return load_industries()

    @cached_property
    def _tables(self) -> dict:
        t = load_templates()
        rep = {}
        for i, act in enumerate(_REP):
            entry = t["rep"][act.value]
            after = {j: _prep(entry[f"after_{c.value}"]) for j, c in enumerate(_CUST)
                     if f"after_{c.value}" in entry}
            rep[i] = (_prep(entry["any"]), after, _prep(entry.get("opening", entry["any"])))
        cust = {}
        for i, act in enumerate(_CUST):
            entry = t["customer"][act.value]
            groups = {g: _prep(entry[f"after_{g}"]) for g in ("question", "pitch", "ask", "chat")
                      if f"after_{g}" in entry}
            cust[i] = (_prep(entry["any"]), groups)
        elab = t["elaborations"]
        elaborations = {
            i: tuple(elab.get(a.value) or (elab["objection"] if a in _NEGATIVE else ()))
            for i, a in enumerate(_CUST)
        }
        return {
            "rep": rep, "cust": cust, "elab": elaborations,
            "analytical": tuple(elab["analytical"]),
            "openers": tuple(t["rep_openers"]), "acks": tuple(t["rep_acks"]),
            "tails": tuple(t["rep_tails"]),
            "rep_fillers": tuple(t["rep_fillers"]), "hedges": tuple(t["hedges"]),
            "pos_hedges": tuple(t["positive_hedges"]), "warm": tuple(t["warm_openers"]),
            "offtopic": tuple(t["offtopic"]),
            "signoffs": {k: tuple(v) for k, v in t["signoffs"].items()},
            "wrapups": {k: tuple(v) for k, v in t["wrapups"].items()},
            "names": tuple(t["names"]), "surnames": tuple(t["surnames"]),
            "days": tuple(t["days"]), "trials": tuple(t["trials"]),
            "discounts": tuple(t["discounts"]),
            "pcts": tuple(f"{p}%" for p in range(12, 46)),
            "group": {i: _GROUP[a] for i, a in enumerate(_REP)},
            "latency": {i: _LATENCY.get(a, 1.3) for i, a in enumerate(_CUST)},
            "elaborate": {i: _ELABORATE.get(a, 0.3) for i, a in enumerate(_CUST)},
            "positive": {i for i, a in enumerate(_CUST) if a in _POSITIVE},
            "negative": {i for i, a in enumerate(_CUST) if a in _NEGATIVE},
        }

    def rep_name(self, rep_id: int) -> str:
        """The first name of rep ``rep_id`` (fixed, like the rep's skill profile)."""
        names = self._tables["names"]
        return names[(rep_id * 7 + 3) % len(names)]

    def call(self, rand: random.Random, rep_id: int, rep_acts: list[int],
             customer_acts: list[int], signoff: bool, wrapup: int,
             ) -> tuple[CallContext, list[tuple[str, str, float, float]]]:
        """Context and turns ``(role, text, start, end)`` of one call, drawn from ``rand``."""
        tb = self._tables
        r = rand.random
        ind = self.industries[int(r() * len(self.industries))]
        product = ind.products[int(r() * len(ind.products))]
        u = r()
        channel = CHANNELS[0 if u < _CHANNEL_CDF[0] else 1 if u < _CHANNEL_CDF[1] else 2]
        persona = PERSONAS[int(r() * len(PERSONAS))]
        lo, hi = product.price_range
        steps = (hi - lo) // product.step
        amount = lo + product.step * int(r() * (steps + 1))
        discount = tb["discounts"][int(r() * len(tb["discounts"]))]
        low = max(product.step, amount - product.step * round(
            amount * int(discount[:-1]) / 100 / product.step))
        cname = tb["names"][int(r() * len(tb["names"]))]
        company = (f"{tb['surnames'][int(r() * len(tb['surnames']))]} "
                   f"{ind.company_words[int(r() * len(ind.company_words))]}")
        boss = ind.bosses[int(r() * len(ind.bosses))]
        team = ind.teams[int(r() * len(ind.teams))]
        day = tb["days"][int(r() * len(tb["days"]))]
        rname = self.rep_name(rep_id)
        fixed = {
            "cname": cname, "rname": rname, "company": company, "product": product.name,
            "vendor": ind.vendors[int(r() * len(ind.vendors))],
            "competitor": ind.competitors[int(r() * len(ind.competitors))],
            "price": f"${amount:,} {product.unit}", "price_low": f"${low:,} {product.unit}",
            "discount": discount, "boss": boss, "boss_cap": boss[0].upper() + boss[1:],
            "team": team, "team_cap": team[0].upper() + team[1:], "day": day,
            "day_cap": day[0].upper() + day[1:],
        }
        pools = {"pain": ind.pains, "benefit": ind.benefits, "feature": ind.features,
                 "feature2": ind.features, "metric": ind.metrics, "peer": ind.peers,
                 "peer2": ind.peers, "pct": tb["pcts"], "trial": tb["trials"]}
        slots = _Slots(fixed, pools, rand)
        ctx = CallContext(ind.key, product.name, channel, persona, company, cname, rname)

        cfg = self.config
        chat = channel == "chat"
        typo_rate = cfg.typo_rate * (2.0 if chat else 1.0)
        casual = persona == "casual" or chat
        wps = _WORDS_PER_SECOND[channel]
        speed = _PERSONA_SPEED[persona]
        talk = _PERSONA_TALK[persona]
        hedge_rate = _PERSONA_HEDGE[persona]
        offtopic_rate = cfg.offtopic_rate * (2.0 if persona == "chatty" else 1.0)
        mixed = cfg.mixed_signal_rate
        gauss = rand.gauss

        turns: list[tuple[str, str, float, float]] = []
        clock = 0.0
        prev = -1
        n = len(rep_acts)
        for i in range(n):
            ra, ca = rep_acts[i], customer_acts[i]
            # --- rep turn
            any_list, after, opening = tb["rep"][ra]
            pool = after.get(prev)
            if pool is None or r() < 0.3:
                pool = opening if i == 0 else any_list
            tpl, lowerable = pool[int(r() * len(pool))]
            text = tpl.format_map(slots)
            if i == 0:
                if r() < 0.75:
                    opener = tb["openers"][int(r() * len(tb["openers"]))]
                    text = opener.format_map(slots) + " " + text
            else:
                u = r()
                if u < 0.45:
                    ack = tb["acks"][int(r() * len(tb["acks"]))]
                    if text[:4] != ack[:4]:  # no "Got it. Got it, ..."
                        text = ack + " " + text
                elif u < 0.57 and not chat:
                    if lowerable:
                        text = text[0].lower() + text[1:]
                    text = tb["rep_fillers"][int(r() * len(tb["rep_fillers"]))] + " " + text
            if r() < 0.12:
                text = text + " " + tb["tails"][int(r() * len(tb["tails"]))]
            if r() < typo_rate:
                text = _typo(text, r)
            text = text[0].upper() + text[1:]
            if i > 0:
                clock += 0.5 * math.exp(0.3 * gauss(0.0, 1.0)) * (_CHAT_LATENCY if chat else 1.0)
            dur = (text.count(" ") + 1) / (wps * 1.1) * math.exp(0.12 * gauss(0.0, 1.0))
            turns.append(("rep", text, round(clock, 2), round(clock + dur, 2)))
            clock += dur

            # --- customer turn
            any_list, groups = tb["cust"][ca]
            pool = groups.get(tb["group"][ra])
            if pool is None or r() < 0.4:
                pool = any_list
            tpl, lowerable = pool[int(r() * len(pool))]
            text = tpl.format_map(slots)
            if r() < hedge_rate:
                if lowerable:
                    text = text[0].lower() + text[1:]
                text = tb["hedges"][int(r() * len(tb["hedges"]))] + " " + text
            if ca in tb["negative"] and r() < mixed * 0.6:
                text = tb["warm"][int(r() * len(tb["warm"]))].format_map(slots) + " " + text
            elab = tb["elab"][ca]
            if elab and r() < min(0.95, tb["elaborate"][ca] * talk):
                text = text + " " + elab[int(r() * len(elab))].format_map(slots)
            if persona == "analytical" and r() < 0.3:
                text = text + " " + tb["analytical"][int(r() * len(tb["analytical"]))]
            if ca in tb["positive"] and r() < mixed * 0.6:
                text = text + " " + tb["pos_hedges"][int(r() * len(tb["pos_hedges"]))].format_map(
                    slots)
            if r() < offtopic_rate:
                text = tb["offtopic"][int(r() * len(tb["offtopic"]))] + " " + text
            if signoff and i == n - 1:
                kind = ("positive" if ca in _WARM_END else "negative" if ca in tb["negative"]
                        else "neutral")
                so = tb["signoffs"][kind]
                text = text + " " + so[int(r() * len(so))]
            if r() < typo_rate:
                text = _typo(text, r)
            text = text[0].upper() + text[1:]
            if casual and r() < 0.5:
                text = text[0].lower() + text[1:]
                if text.endswith(".") and r() < 0.6:
                    text = text[:-1]
            latency = tb["latency"][ca] * speed * math.exp(0.35 * gauss(0.0, 1.0))
            clock += latency * (_CHAT_LATENCY if chat else 1.0)
            dur = (text.count(" ") + 1) / wps * math.exp(0.15 * gauss(0.0, 1.0))
            turns.append(("customer", text, round(clock, 2), round(clock + dur, 2)))
            clock += dur
            prev = ca

        if wrapup >= 0:
            positive = customer_acts[-1] in _WARM_END
            key = f"{_REP[wrapup].value}_{'positive' if positive else 'other'}"
            pool = tb["wrapups"][key]
            text = pool[int(r() * len(pool))].format_map(slots)
            clock += 0.5 * math.exp(0.3 * gauss(0.0, 1.0)) * (_CHAT_LATENCY if chat else 1.0)
            dur = (text.count(" ") + 1) / (wps * 1.1)
            turns.append(("rep", text, round(clock, 2), round(clock + dur, 2)))
        return ctx, turns


def _typo(text: str, r) -> str:
    """Swap, drop or double one letter of a longer word."""
    words = text.split(" ")
    candidates = [j for j, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    j = candidates[int(r() * len(candidates))]
    w = words[j]
    k = 1 + int(r() * (len(w) - 2))
    kind = r()
    if kind < 0.45:
        w = w[:k] + w[k + 1] + w[k] + w[k + 2:]
    elif kind < 0.75:
        w = w[:k] + w[k + 1:]
    else:
        w = w[:k] + w[k] + w[k:]
    words[j] = w
    return " ".join(words)
