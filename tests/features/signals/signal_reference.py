"""The slow implementations that the fast signal code replaced, kept to prove it exact.

Each function or class here is the code as it was before the per-turn speed work (issue 3),
or the plain form of what the fast code shortcuts (vaderSentiment's own analyser, every regex
searched without prefilter or rewriting, no caches), trimmed to what the comparison needs; the
tests check that the fast code gives bit-identical values on several hundred varied turns.
Also :func:`varied_texts` and :func:`varied_turns`, the inputs they use.
"""

from __future__ import annotations

import random
import re

import numpy as np
from signal_cases import CUSTOMER_CASES, NEUTRAL_CUSTOMER, NEUTRAL_REP, REP_CASES
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from salesrl.conversation import Role, Turn
from salesrl.features.signals import lexicons as lx
from salesrl.features.signals.detectors import (
    _GATED,
    _QUESTION,
    ACT_INDEX,
    ALL_ACTS,
    ActDetector,
    ActScores,
    PrototypeDetector,
    _is_rep,
    noisy_or,
    role_mask,
)
from salesrl.features.signals.text import TextStats, analyse
from salesrl.features.signals.tracker import (
    _ADDRESSED,
    _ADDRESSERS,
    _NEGATIVE,
    _OBJ_INDEX,
    _OPEN,
    _POSITIVE,
    _RESOLVED,
    SignalTracker,
    _ewma,
)
from salesrl.features.signals.turn import TURN_FEATURE_NAMES

TRICKY = (
    "I LOVE it but the price is NOT good", "never so happy", "without doubt great",
    "kind of good", "no good", "not bad at all", "the shit is the bomb", "yeah right",
    "at least it's fine", "least good", "I am very VERY happy!!!", "\U0001F600 great \U0001F44D",
    "no no no", "it isn't great, but it isn't terrible either??", "Sort of ok", "kind of", "but",
    "BUT GOOD but bad", "nor good or bad", "no or nor good", "This is never this bad",
    ":) :( ;)", "hardly helpful", "Great!!!!!", "what?!?!", "uber cool, totally awesome",
    "It costs $5,000/month, 20% off, 3k seats, 1.5m users; deadline Friday, act now!!",
    "We're at 1,200 users, two hundred licences; $ 40 per seat per year?",
    "İstanbul ŞEHİR great GOOD", "ok.\n\nwhat do you use today", "5s 10th 3rd 2nd 7bn one_two",
    "Tell me about your process. Do you track it?", "I wouldn’t say it’s too expensive",
    "'''good''' ...bad... !!!great!!! ??? ''", "very very very good but not bad but great",
    "kind-of sort-of kinda nice", "the bomb the shit yeah right kiss of death to die for",
    "No, it's too expensive. Not interested, maybe next year; send me the contract.",
)
_MODIFIERS = ("not", "no", "never", "so", "this", "very", "VERY", "kind", "of", "sort", "least",
              "at", "without", "doubt", "but", "BUT", "isn't", "hardly", "extremely", "or",
              "nor", "the", "bomb", "yeah", "right", "GREAT", "good", "bad", "love", "hate",
              "expensive", "price", "$99", "2,000", "one", "hundred", "!!", "??", "?", ",", ".")


def varied_texts(n_random: int = 150, seed: int = 0) -> list[str]:
    """The hand-written cases, tricky texts, synthetic sales turns and random mixes of VADER
    modifiers, cue words and lexicon phrases (a few hundred texts)."""
    from salesrl.synth.generator import generate

    texts = [t for ts in (*REP_CASES.values(), *CUSTOMER_CASES.values()) for t in ts]
    texts += [*NEUTRAL_REP, *NEUTRAL_CUSTOMER, *TRICKY]
    texts += [t.text for c in generate(6, seed) for t in c.turns]
    rng = random.Random(seed)
    for _ in range(n_random):
        words = [rng.choice(_MODIFIERS) if rng.random() < 0.5 else rng.choice(texts).split()[0]
                 for _ in range(rng.randint(1, 16))]
        texts.append(" ".join(words))
    return texts


def varied_turns(seed: int = 0) -> list[list[Turn]]:
    """Conversations of 12 turns made of :func:`varied_texts`, random roles and timestamps
    (some missing)."""
    rng = random.Random(seed)
    texts = varied_texts(seed=seed)
    out, t = [], 0.0
    for k in range(0, len(texts), 12):
        turns = []
        for text in texts[k : k + 12]:
            start = t + rng.random() * 3
            end = start + rng.random() * 10
            t = end
            timed = rng.random() < 0.7
            turns.append(Turn(role=Role.REP if rng.random() < 0.5 else Role.CUSTOMER, text=text,
                              start=start if timed else None, end=end if timed else None))
        out.append(turns)
    return out


# --- text and turn features ------------------------------------------------------------------

_IMPERATIVE = re.compile(lx.IMPERATIVE_QUESTIONS)
_VADER = SentimentIntensityAnalyzer()
_CUE_KINDS = ((lx.HEDGES, "turn_hedges"), (lx.MONEY, "turn_money"),
              (lx.URGENCY, "turn_urgency"), ((lx.NUMBER,), "turn_numbers"))


def text_stats(text: str) -> TextStats:
    """``analyse`` with a plain search for imperative questions (no prefilter, no cache)."""
    stats = analyse.__wrapped__(text)
    return stats._replace(imperative_question=bool(_IMPERATIVE.search(stats.norm)))


def turn_features(turn: Turn, prev_end: float | None, stats: TextStats) -> dict[str, float]:
    """``turn_features`` with vaderSentiment's own analyser and every cue pattern counted by
    its own ``findall`` (no prefilter, no cache)."""
    has_time = turn.start is not None and turn.end is not None
    duration = float(turn.end - turn.start) if has_time else 0.0
    has_gap = turn.start is not None and prev_end is not None
    gap = max(0.0, float(turn.start) - float(prev_end)) if has_gap else 0.0
    vader = _VADER.polarity_scores(turn.text)
    counts = {name: float(sum(len(re.findall(p, stats.norm)) for p in pats))
              for pats, name in _CUE_KINDS}
    values = (
        float(turn.role is Role.REP), float(stats.n_words), float(stats.n_chars),
        float(has_time), duration, float(has_gap), gap, float(stats.n_questions),
        float(vader["compound"]), float(vader["pos"]), float(vader["neg"]),
        counts["turn_hedges"], counts["turn_numbers"], counts["turn_money"],
        counts["turn_urgency"],
    )
    return dict(zip(TURN_FEATURE_NAMES, values, strict=True))


# --- detectors -------------------------------------------------------------------------------

_CLAUSE_END = re.compile(r"[,.;:!?]")


def negated(norm: str, start: int, window: int = lx.NEGATION_WINDOW) -> bool:
    """``LexiconDetector._negated`` with its regex scan for the last clause end."""
    before = norm[:start]
    cut = max((m.end() for m in _CLAUSE_END.finditer(before)), default=0)
    words = before[cut:].split()[-window:] if window else []
    return any(w in lx.NEGATORS or w.endswith("n't") for w in words)


def _matches(regex: re.Pattern, norm: str) -> bool:
    for m in regex.finditer(norm):
        text = m.group(0)
        if any(w in lx.NEGATORS or w.endswith("n't") for w in text.split()):
            return True
        if text.startswith(("not ", "no ", "never ")) or not negated(norm, m.start()):
            return True
    return False


def lexicon_score(text: str | TextStats, role: Role | str,
                  patterns: dict | None = None) -> np.ndarray:
    """``LexiconDetector.score`` as a full scan: every pattern of the role, in lexicon order,
    searched with the original regex, no prefilter and no cache."""
    stats = text_stats(text) if isinstance(text, str) else text
    is_rep = _is_rep(role)
    patterns = patterns if patterns is not None else {**lx.REP_PATTERNS, **lx.CUSTOMER_PATTERNS}
    weights: dict[int, list[float]] = {}
    for act, pats in patterns.items():
        idx = ACT_INDEX[str(act)]
        if bool(role_mask(Role.REP)[idx]) != is_rep:
            continue
        for p, w in pats:
            if _matches(re.compile(p), stats.norm):
                weights.setdefault(idx, []).append(float(w))
    if not is_rep and _QUESTION in {ACT_INDEX[str(a)] for a in patterns}:
        if stats.n_question_marks:
            weights.setdefault(_QUESTION, []).append(lx.QUESTION_MARK_WEIGHT)
        elif stats.n_question_openings:
            weights.setdefault(_QUESTION, []).append(lx.QUESTION_OPENING_WEIGHT)
    out = np.zeros(len(ALL_ACTS), dtype=np.float64)
    for idx, ws in weights.items():
        s = noisy_or(ws)
        if idx in _GATED and not stats.is_question:
            s *= lx.QUESTION_GATE_FACTOR
        out[idx] = s
    return out


def prototype_score(proto: PrototypeDetector, embedding: np.ndarray,
                    role: Role | str) -> np.ndarray:
    """``PrototypeDetector.score`` as the plain expression."""
    z = (proto.similarities(embedding) - proto.center) / proto.temperature
    out = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    out[~(role_mask(role) & proto.has_act_)] = 0.0
    return out


def detect(det: ActDetector, text: str | TextStats, role: Role | str,
           embedding: np.ndarray | None = None) -> ActScores:
    """``ActDetector.detect`` from the reference scores and the plain threshold test."""
    s = lexicon_score(text, role)
    if det.prototype is not None and embedding is not None and det.prototype_weight > 0:
        p = prototype_score(det.prototype, embedding, role)
        s = 1.0 - (1.0 - s) * (1.0 - det.prototype_weight * p)
    hits = (s >= det.threshold_array()) & role_mask(role) & (s > 0)
    labels = frozenset(ALL_ACTS[i] for i in np.flatnonzero(hits))
    return ActScores(s.astype(np.float32), labels)


# --- tracker ---------------------------------------------------------------------------------

class ReferenceTracker(SignalTracker):
    """``SignalTracker`` with the old ``update`` (feature dict, numpy concatenation) over the
    reference text statistics, turn features and :func:`detect`."""

    def update(self, turn: Turn, embedding: np.ndarray | None = None) -> np.ndarray:
        st, a = self._state, self.ewma_alpha
        stats = text_stats(turn.text)
        tf = turn_features(turn, st.prev_end, stats)
        acts = detect(self.detector or ActDetector(), stats, turn.role, embedding)
        scores = acts.scores.astype(np.float64)
        is_rep = turn.role is Role.REP
        words = tf["turn_words"]
        for t in (turn.start, turn.end):
            if t is not None:
                st.first_time = t if st.first_time is None else min(st.first_time, t)
                st.last_time = t if st.last_time is None else max(st.last_time, t)
        if st.prev_role is not None and st.prev_role != turn.role.value:
            st.switches += 1
        if not is_rep and st.prev_role == Role.REP.value and tf["turn_has_gap"]:
            st.latency_last = tf["turn_gap_s"]
            st.latency_sum += tf["turn_gap_s"]
            st.latency_n += 1
        if is_rep:
            st.n_rep += 1
            st.rep_words += words
            st.rep_questions += tf["turn_questions"]
            st.rep_urgency += tf["turn_urgency"]
            st.rep_sent_ewma = _ewma(st.rep_sent_ewma, tf["turn_sentiment"], a, st.n_rep == 1)
            st.run_turns += 1
            st.run_words += words
            st.max_run_turns = max(st.max_run_turns, st.run_turns)
            st.max_run_words = max(st.max_run_words, st.run_words)
        else:
            k = float(st.n_cust)
            st.n_cust += 1
            st.cust_words += words
            st.cw_ewma = _ewma(st.cw_ewma, words, a, st.n_cust == 1)
            st.cw_sx += k
            st.cw_sy += words
            st.cw_sxx += k * k
            st.cw_sxy += k * words
            st.cust_questions += tf["turn_questions"]
            st.cust_hedges += tf["turn_hedges"]
            st.cust_sent_ewma = _ewma(st.cust_sent_ewma, tf["turn_sentiment"], a, st.n_cust == 1)
            sl = scores.tolist()
            objection = max(sl[i] for i in _OBJ_INDEX)
            m = sum(sl[i] for i in _POSITIVE) - sum(sl[i] for i in _NEGATIVE) - objection
            st.momentum = _ewma(st.momentum, max(-1.0, min(1.0, m)), a, st.n_cust == 1)
            st.run_turns = 0
            st.run_words = 0.0
        st.money += tf["turn_money"]
        labels = {ACT_INDEX[x] for x in acts.labels}
        for j, obj in enumerate(_OBJ_INDEX):
            state = st.obj_state[j]
            if is_rep:
                if state == _OPEN and any(r in labels for r in _ADDRESSERS[j]):
                    st.obj_state[j] = _ADDRESSED
            elif obj in labels:
                if state in (_OPEN, _ADDRESSED):
                    st.obj_repeated += 1
                else:
                    st.obj_raised += 1
                st.obj_state[j] = _OPEN
            elif state == _ADDRESSED:
                st.obj_state[j] = _RESOLVED
                st.obj_resolved_events += 1
        for label in acts.labels:
            st.act_counts[ACT_INDEX[label]] += 1
        st.n_turns += 1
        st.prev_role = turn.role.value
        st.prev_end = float(turn.end) if turn.end is not None else None
        self.last_acts_ = acts
        return np.concatenate([
            np.fromiter(tf.values(), dtype=np.float64, count=len(tf)), scores,
            self._conversation_vector(), np.asarray(st.act_counts, dtype=np.float64),
        ]).astype(np.float32)

    def _conversation_vector(self) -> np.ndarray:
        st = self._state
        n = max(st.n_turns, 1)
        elapsed = (st.last_time - st.first_time) if st.first_time is not None else 0.0
        total_words = st.rep_words + st.cust_words
        slope = 0.0
        if st.n_cust >= 2:
            den = st.n_cust * st.cw_sxx - st.cw_sx * st.cw_sx
            if den > 0:
                slope = (st.n_cust * st.cw_sxy - st.cw_sx * st.cw_sy) / den
        open_flags = [float(s in (_OPEN, _ADDRESSED)) for s in st.obj_state]
        values = [
            st.n_turns, st.n_rep, st.n_cust, elapsed, st.rep_words, st.cust_words,
            st.rep_words / max(st.cust_words, 1.0),
            st.rep_words / total_words if total_words else 0.0,
            st.latency_last, st.latency_sum / st.latency_n if st.latency_n else 0.0,
            st.cw_ewma, slope, st.cust_questions, st.cust_questions / max(st.n_cust, 1),
            st.rep_questions, st.run_turns, st.run_words, st.max_run_turns, st.max_run_words,
            st.switches, st.switches / max(n - 1, 1),
            st.switches / (elapsed / 60.0) if elapsed > 0 else 0.0,
            st.cust_sent_ewma, st.rep_sent_ewma, st.cust_hedges, st.money, st.rep_urgency,
            st.momentum, st.obj_raised, st.obj_repeated, sum(open_flags),
            sum(s == _ADDRESSED for s in st.obj_state), sum(s == _RESOLVED for s in st.obj_state),
            st.obj_resolved_events,
            st.obj_resolved_events / st.obj_raised if st.obj_raised else 0.0,
            *open_flags,
        ]
        return np.asarray(values, dtype=np.float64)
