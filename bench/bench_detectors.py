"""Precision / recall of the act detectors (salesrl.features.signals).

    .venv/bin/python bench/bench_detectors.py [--synthetic FILE.jsonl] [--n 400]
        [--fit-seed 1 --eval-seed 2] [--backend hashing|minilm|wordllama] [--pfg XLSX]

(a) Synthetic act labels. Turns carrying ``annotations.acts`` come from
``salesrl.synth.generate(n, seed)`` (one seed to fit, another to report) or, with
``--synthetic FILE.jsonl``, from a file split in two halves by conversation (even / odd line).
Reported per act on the evaluation part: P/R/F1 at the default threshold (0.5, nothing fitted),
then with per-act thresholds (and, with ``--backend``, the prototype weight) fitted on the fit
part only. Rep acts are scored on rep turns, customer acts on customer turns.

(b) PersuasionForGood (Wang et al., 2019, "Persuasion for Good", ACL): 300 dialogues annotated
per sentence ("unit") with persuader (``er_label_1/2``) and persuadee (``ee_label_1/2``)
strategies. Our sales acts run zero-shot (default thresholds, nothing fitted) on each unit,
persuader units as the rep and persuadee units as the customer, and are compared per strategy
through the hand-made mapping :data:`PFG_MAP` (printed with the table; "loose" marks a mapping
that is a stretch). A unit counts as a hit for a strategy row when any of the row's acts fires;
P is over the units of that side where the acts fired, R over the units carrying the strategy.
Strategies mapped to the same acts share a row (their union), so no firing is counted wrong for
hitting a sibling strategy. Charity persuasion is not a sales call, so low numbers are expected:
they measure transfer, not fit. ``base`` is the strategy's share of the side's units (the
precision of a detector that fires at random).

The same table is then printed on the held-out half of the dialogues (odd positions in id order)
for the sales lexicons alone and with the small generic persuasion lexicon
(``lexicons.PERSUASION_PATTERNS``), which was written from the even half only.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from salesrl.conversation import Conversation, Role, read_jsonl
from salesrl.features.signals import (
    ALL_ACTS,
    CUSTOMER_ACTS,
    REP_ACTS,
    ActDetector,
    LexiconDetector,
    PrototypeDetector,
    analyse,
    fit_thresholds,
)
from salesrl.features.signals import lexicons as lx
from salesrl.features.signals.detectors import prf

PFG_DEFAULT = (Path(__file__).resolve().parents[1]
               / "data/persuasionforgood/AnnotatedData/300_dialog.xlsx")
SPIN = ("situation_question", "problem_question", "implication_question", "need_payoff_question")
_REP = np.array([a in REP_ACTS for a in ALL_ACTS])
OBJECTIONS = tuple(a for a in CUSTOMER_ACTS if a.startswith("objection_"))

# (side, our acts (any of them fires), PFG strategies (any of them), note). side: "er" persuader
# units scored as rep turns, "ee" persuadee units scored as customer turns.
PFG_MAP: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("er", ("small_talk",), ("greeting",), ""),
    ("er", ("closing_attempt",), ("proposition-of-donation", "ask-donation-amount"),
     "asking for the donation / its amount = a close"),
    ("er", ("social_proof",), ("credibility-appeal",),
     "loose: PFG credibility = the charity's track record"),
    ("er", ("value_proposition",), ("logical-appeal",), "loose: the impact of a donation"),
    ("er", SPIN, ("personal-related-inquiry", "source-related-inquiry", "task-related-inquiry"),
     "any SPIN question vs any inquiry"),
    ("er", ("next_step",), ("donation-information",), "loose: how the donation happens"),
    ("ee", ("small_talk_customer",), ("greeting",), ""),
    ("ee", ("commitment",), ("agree-donation", "provide-donation-amount", "confirm-donation"),
     "commitment incl. amount / confirmation"),
    ("ee", ("rejection",), ("disagree-donation", "disagree-donation-more"), ""),
    ("ee", ("question",), ("ask-org-info", "ask-donation-procedure",
                           "ask-persuader-donation-intention"), ""),
    ("ee", ("interest",), ("positive-reaction-to-donation",), ""),
    ("ee", OBJECTIONS, ("negative-reaction-to-donation",), "any objection type"),
    ("ee", ("stall",), ("neutral-reaction-to-donation",), "loose"),
)
PFG_UNMAPPED = ("self-modeling", "emotion-appeal", "personal-story", "foot-in-the-door",
                "praise-user", "comment-partner", "acknowledgement", "thank", "other",
                "off-task")


# --- shared ----------------------------------------------------------------------------------

def _table(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    rows = [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "-" * len(line), *body])


def _embed(backend, texts: list[str], batch: int = 256) -> np.ndarray:
    parts = [np.asarray(backend.embed(texts[i:i + batch]), dtype=np.float32)
             for i in range(0, len(texts), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)


def _score_all(det: ActDetector, texts: list[str], roles: list[str],
               emb: np.ndarray | None) -> np.ndarray:
    out = np.zeros((len(texts), len(ALL_ACTS)), dtype=np.float64)
    for i, (t, r) in enumerate(zip(texts, roles, strict=True)):
        out[i] = det.score(analyse(t), r, None if emb is None else emb[i])
    return out


def _proto_all(proto: PrototypeDetector, roles: list[str], emb: np.ndarray) -> np.ndarray:
    return np.stack([proto.score(e, r) for e, r in zip(emb, roles, strict=True)])


def _fuse(lex: np.ndarray, proto: np.ndarray, weight: float) -> np.ndarray:
    """The same noisy-OR as ActDetector.score, on precomputed parts."""
    return 1.0 - (1.0 - lex) * (1.0 - weight * proto)


# --- (a) synthetic ---------------------------------------------------------------------------

def _generate(n: int, seed: int) -> list[Conversation] | None:
    try:
        from salesrl.synth import generate  # type: ignore[attr-defined]
    except ImportError:
        return None
    params = inspect.signature(generate).parameters
    out = generate(n, seed=seed) if "seed" in params else generate(n, seed)
    return list(out)


class _Labelled:
    """Labelled turns flattened: text, role, gold act matrix (acts of the turn's role only)."""

    def __init__(self, conversations: Iterable[Conversation]) -> None:
        self.texts: list[str] = []
        self.roles: list[str] = []
        gold: list[np.ndarray] = []
        self.unknown: Counter[str] = Counter()
        for conv in conversations:
            for turn in conv.turns:
                if turn.annotations is None or not turn.annotations.acts:
                    continue
                row = np.zeros(len(ALL_ACTS), dtype=bool)
                for act in turn.annotations.acts:
                    if act in ALL_ACTS:
                        row[ALL_ACTS.index(act)] = True
                    else:
                        self.unknown[act] += 1
                self.texts.append(turn.text)
                self.roles.append(turn.role.value)
                gold.append(row)
        self.gold = np.array(gold, dtype=bool).reshape(-1, len(ALL_ACTS))
        self.is_rep = np.array([r == Role.REP.value for r in self.roles], dtype=bool)

    def __len__(self) -> int:
        return len(self.texts)


def _per_act(scores: np.ndarray, data: _Labelled, thresholds: np.ndarray) -> list[list[object]]:
    rows = []
    for j, act in enumerate(ALL_ACTS):
        mask = data.is_rep if act in REP_ACTS else ~data.is_rep
        p, r, f, n = prf(scores[mask, j] >= thresholds[j], data.gold[mask, j])
        rows.append([act, p, r, f, n, float(thresholds[j])])
    return rows


def _macro_f1(scores: np.ndarray, data: _Labelled, thresholds: np.ndarray) -> float:
    f1s = [row[3] for row in _per_act(scores, data, thresholds) if row[4] > 0]
    return float(np.mean(f1s)) if f1s else 0.0


def _top1(scores: np.ndarray, data: _Labelled) -> float:
    """Share of single-label turns whose highest-scoring act (of the turn's role) is the label."""
    masked = scores.copy()
    masked[np.ix_(data.is_rep, ~_REP)] = -1.0
    masked[np.ix_(~data.is_rep, _REP)] = -1.0
    single = data.gold.sum(axis=1) == 1
    if not single.any():
        return 0.0
    top = masked[single].argmax(axis=1)
    return float(np.mean(data.gold[single][np.arange(int(single.sum())), top]))


def _fit_thresholds(scores: np.ndarray, data: _Labelled) -> np.ndarray:
    masked = scores.copy()
    gold = data.gold.copy()
    for j, act in enumerate(ALL_ACTS):  # other role's turns never count
        other = ~data.is_rep if act in REP_ACTS else data.is_rep
        masked[other, j] = -1.0
        gold[other, j] = False
    th = fit_thresholds(masked, gold)
    return np.array([th[a] for a in ALL_ACTS])


def bench_synthetic(fit: _Labelled, ev: _Labelled, backend, report: dict) -> None:
    print(f"(a) synthetic act labels: fit {len(fit)} turns, eval {len(ev)} turns")
    if fit.unknown or ev.unknown:
        print(f"    labels outside the act vocabulary (ignored): "
              f"{dict((fit.unknown + ev.unknown).most_common(8))}")
    lexicon = ActDetector()
    default_th = lexicon.threshold_array()
    ev_lex = _score_all(lexicon, ev.texts, ev.roles, None)
    rows = _per_act(ev_lex, ev, default_th)
    print("\n  lexicon only, default threshold 0.5 (nothing fitted), eval part")
    print(_indent(_table(rows, ["act", "P", "R", "F1", "support", "thr"])))
    print(f"  macro-F1 {_macro_f1(ev_lex, ev, default_th):.3f}; top-1 accuracy (highest-scoring "
          f"act of the turn's role = the label) {_top1(ev_lex, ev):.3f}")
    report["synthetic_lexicon_default"] = rows

    fit_lex = _score_all(lexicon, fit.texts, fit.roles, None)
    th = _fit_thresholds(fit_lex, fit)
    rows = _per_act(ev_lex, ev, th)
    print("\n  lexicon only, thresholds fitted on the fit part, eval part")
    print(_indent(_table(rows, ["act", "P", "R", "F1", "support", "thr"])))
    print(f"  macro-F1 {_macro_f1(ev_lex, ev, th):.3f}")
    report["synthetic_lexicon_fitted"] = rows

    if backend is None:
        return
    proto = PrototypeDetector(backend).fit()
    fit_p = _proto_all(proto, fit.roles, _embed(backend, fit.texts))
    ev_p = _proto_all(proto, ev.roles, _embed(backend, ev.texts))
    best = (-1.0, 0.0, th)
    for w in (0.0, 0.25, 0.5, 0.75, 1.0):
        s = _fuse(fit_lex, fit_p, w)
        t = _fit_thresholds(s, fit)
        f1 = _macro_f1(s, fit, t)
        if f1 > best[0] + 1e-9:
            best = (f1, w, t)
    _, w, t = best
    ev_s = _fuse(ev_lex, ev_p, w)
    rows = _per_act(ev_s, ev, t)
    print(f"\n  lexicon + {backend.name} prototypes, weight {w} and thresholds fitted on the fit "
          "part, eval part")
    print(_indent(_table(rows, ["act", "P", "R", "F1", "support", "thr"])))
    print(f"  macro-F1 {_macro_f1(ev_s, ev, t):.3f}; top-1 accuracy {_top1(ev_s, ev):.3f}")
    report["synthetic_prototype_fitted"] = {"weight": w, "rows": rows}


# --- (b) PersuasionForGood -------------------------------------------------------------------

class PfgUnit(NamedTuple):
    dialogue: str
    side: str  # "er" (persuader) or "ee" (persuadee)
    text: str
    labels: frozenset[str]


def load_pfg(path: Path) -> list[PfgUnit]:
    """Annotated units of ``300_dialog.xlsx`` with their dialogue id, side and labels."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    rows = wb[wb.sheetnames[0]].iter_rows(values_only=True)
    header = list(next(rows))
    col = {name: header.index(name) for name in
           ("B2", "B4", "Unit", "er_label_1", "ee_label_1", "er_label_2", "ee_label_2")}
    out = []
    for r in rows:
        if r[col["B4"]] is None or r[col["Unit"]] is None or not str(r[col["Unit"]]).strip():
            continue
        side = "er" if int(r[col["B4"]]) == 0 else "ee"
        labels = frozenset(str(r[col[f"{side}_label_{k}"]]).strip().lower() for k in (1, 2)
                           if r[col[f"{side}_label_{k}"]] is not None)
        out.append(PfgUnit(str(r[col["B2"]]), side, str(r[col["Unit"]]), labels))
    wb.close()
    return out


def pfg_halves(units: Sequence[PfgUnit]) -> tuple[set[str], set[str]]:
    """(even, odd) dialogue ids by position in sorted id order: the persuasion lexicon was
    written from the even half; the odd half is held out."""
    ids = sorted({u.dialogue for u in units})
    return set(ids[0::2]), set(ids[1::2])


def _pfg_rows(units: Sequence[PfgUnit], hits: np.ndarray) -> list[list[object]]:
    rows: list[list[object]] = []
    for side, acts, labels, note in PFG_MAP:
        mask = np.array([u.side == side for u in units])
        pred = hits[mask][:, [ALL_ACTS.index(a) for a in acts]].any(axis=1)
        gold = np.array([bool(u.labels & set(labels)) for u in units if u.side == side])
        p, r, f, n = prf(pred, gold)
        rows.append([side, " + ".join(labels), "/".join(acts) if len(acts) < 3
                     else f"any of {len(acts)}", p, r, f, n, float(gold.mean()),
                     int(pred.sum()), note])
    return rows


_PFG_HEADER = ["side", "PFG strategy", "our act(s)", "P", "R", "F1", "support", "base",
               "fired", "note"]


def bench_pfg(path: Path, backend, report: dict) -> None:
    units = load_pfg(path)
    sides = [u.side for u in units]
    texts = [u.text for u in units]
    roles = [Role.REP.value if s == "er" else Role.CUSTOMER.value for s in sides]
    print(f"\n(b) PersuasionForGood, {len(units)} units ({sides.count('er')} persuader, "
          f"{sides.count('ee')} persuadee) in {len({u.dialogue for u in units})} dialogues, "
          "zero-shot at the default threshold, one row per strategy (group)")
    det = ActDetector()
    th = det.threshold_array()
    lex = _score_all(det, texts, roles, None)
    variants = [("sales lexicons", lex)]
    if backend is not None:
        proto = _proto_all(PrototypeDetector(backend).fit(), roles, _embed(backend, texts))
        w = det.prototype_weight
        variants.append((f"sales lexicons + {backend.name} prototypes (weight {w})",
                         _fuse(lex, proto, w)))
    for name, scores in variants:
        rows = _pfg_rows(units, scores >= th)
        print(f"\n  {name}, all {len(units)} units")
        print(_indent(_table(rows, _PFG_HEADER)))
        report[f"pfg_{name}"] = rows
    counts = Counter(label for u in units for label in u.labels)
    print("\n  strategies not scored (no honest sales counterpart), units: "
          + ", ".join(f"{s} {counts[s]}" for s in PFG_UNMAPPED))

    even, odd = pfg_halves(units)
    held = [i for i, u in enumerate(units) if u.dialogue in odd]
    cue = ActDetector(lexicon=LexiconDetector(patterns=lx.with_persuasion_cues()))
    cue_scores = _score_all(cue, [texts[i] for i in held], [roles[i] for i in held], None)
    sub = [units[i] for i in held]
    base_rows = _pfg_rows(sub, lex[held] >= th)
    cue_rows = _pfg_rows(sub, cue_scores >= th)
    print(f"\n  held-out half ({len(odd)} dialogues, {len(held)} units; the persuasion cues were "
          f"written from the other {len(even)} dialogues): sales lexicons -> + persuasion cues")
    merged = [[b[0], b[1], b[2], f"{b[3]:.2f} -> {c[3]:.2f}", f"{b[4]:.2f} -> {c[4]:.2f}",
               f"{b[5]:.2f} -> {c[5]:.2f}", b[6], b[7], f"{b[8]} -> {c[8]}"]
              for b, c in zip(base_rows, cue_rows, strict=True)]
    print(_indent(_table(merged, _PFG_HEADER[:-1])))
    report["pfg_heldout_sales"] = base_rows
    report["pfg_heldout_persuasion_cues"] = cue_rows


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=Path, help="JSONL of conversations with annotations.acts")
    ap.add_argument("--n", type=int, default=400, help="conversations per simulator seed")
    ap.add_argument("--fit-seed", type=int, default=1)
    ap.add_argument("--eval-seed", type=int, default=2)
    ap.add_argument("--backend", help="embedding backend for prototypes (hashing, minilm, ...)")
    ap.add_argument("--pfg", type=Path, default=PFG_DEFAULT)
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-pfg", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the tables here")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    backend = None
    if args.backend:
        from salesrl.features.embeddings import get_backend

        backend = get_backend(args.backend)
    report: dict = {}
    if not args.skip_synthetic:
        if args.synthetic is not None:
            convs = read_jsonl(args.synthetic)
            fit, ev = _Labelled(convs[0::2]), _Labelled(convs[1::2])
            source = f"{args.synthetic} (even / odd conversations)"
        else:
            a = _generate(args.n, args.fit_seed)
            b = _generate(args.n, args.eval_seed) if a is not None else None
            fit, ev = (_Labelled(a), _Labelled(b)) if a is not None else (None, None)
            source = f"salesrl.synth.generate(n={args.n}), seeds {args.fit_seed} / {args.eval_seed}"
        if fit is None or not len(fit) or not len(ev):
            print("(a) skipped: no labelled synthetic turns (salesrl.synth.generate is missing "
                  "or returned no annotations.acts); pass --synthetic FILE.jsonl")
        else:
            print(f"source: {source}")
            bench_synthetic(fit, ev, backend, report)
    if not args.skip_pfg:
        if args.pfg.exists():
            bench_pfg(args.pfg, backend, report)
        else:
            print(f"(b) skipped: {args.pfg} not found")
    print(f"\nbench_detectors took {time.perf_counter() - t0:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
