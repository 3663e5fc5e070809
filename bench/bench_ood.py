"""Out-of-distribution test of the confidence model (issue 5).

    .venv/bin/python bench/bench_ood.py SYNTH.jsonl P4G.jsonl OUT_DIR [--train 2000] [--test 300]

A bagged state logistic regression and its :class:`~salesrl.confidence.ConfidenceModel` are
trained on the first ``--train`` synthetic sales conversations (out-of-fold inner folds, as in
``salesrl evaluate``); they are then shown (a) the next ``--test`` held-out synthetic
conversations and (b) conversations of another kind: PersuasionForGood dialogues (given
synthetic timestamps, ~2.5 words per second, so that missing times are not the tell),
shuffled-turn synthetic conversations, random text (word salad drawn from the *training
vocabulary*, same roles, lengths and times), and Spanish / German sales chats written for this
test (below). Reported: AUROC of the OOD score and of ``1 - confidence`` separating each (b)
from (a), per turn (every prefix) and per conversation (its last turn), and abstention rates.
Writes OUT_DIR/ood.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from salesrl.confidence import ConfidenceModel, TurnInputs
from salesrl.confidence.inputs import tokens
from salesrl.conversation import Conversation, Outcome, Turn, read_jsonl
from salesrl.evaluation.confidence_eval import BaggedLogistic, fit_with_oof
from salesrl.features.tracker import StateBuilder

# Written for this benchmark (no download): sales chat lines in Spanish and German.
FOREIGN = {
    "es": (
        ["Buenos días, le llamo de Logística Rápida. ¿Tiene un momento?",
         "¿Cuál es el mayor problema de su equipo con las rutas de reparto?",
         "Nuestro sistema reduce el tiempo de planificación a la mitad.",
         "Muchos clientes del sector ahorran un veinte por ciento en combustible.",
         "El precio es de cuarenta euros por vehículo al mes, con soporte incluido.",
         "¿Le parece bien si organizamos una demostración la semana que viene?",
         "Entiendo su preocupación por el presupuesto, podemos empezar con un piloto.",
         "¿Quién más participa en la decisión de compra en su empresa?",
         "Le envío la propuesta por correo electrónico esta tarde.",
         "Podemos ofrecerle un descuento especial durante el primer año.",
         "La instalación tarda unas dos semanas y le acompañamos en todo.",
         "Perfecto, entonces preparo el contrato para su firma."],
        ["Hola, sí, tengo unos minutos, pero no muchos.",
         "Ahora mismo planificamos todo con hojas de cálculo y es un caos.",
         "Me parece caro para una empresa de nuestro tamaño.",
         "Ya trabajamos con otro proveedor y no quiero cambiar ahora.",
         "¿Cuánto tiempo tardaríamos en ver resultados reales?",
         "Tendría que hablarlo con mi socio antes de decidir nada.",
         "Suena interesante, envíeme más información por favor.",
         "No estoy seguro de que lo necesitemos este año.",
         "Vale, hagamos la prueba piloto y vemos qué tal funciona.",
         "¿El soporte técnico está disponible en español?",
         "De acuerdo, mándeme el contrato y lo firmamos.",
         "Gracias, pero de momento no nos interesa."]),
    "de": (
        ["Guten Tag, hier spricht Anna von Cargoline. Haben Sie kurz Zeit?",
         "Was ist derzeit die größte Herausforderung bei Ihrer Tourenplanung?",
         "Unsere Software halbiert den Aufwand für die Disposition.",
         "Viele Kunden aus Ihrer Branche sparen deutlich Kraftstoff ein.",
         "Der Preis liegt bei vierzig Euro pro Fahrzeug und Monat.",
         "Sollen wir nächste Woche eine kurze Vorführung vereinbaren?",
         "Ich verstehe Ihre Bedenken wegen des Budgets, wir können klein anfangen.",
         "Wer ist bei Ihnen sonst noch an der Entscheidung beteiligt?",
         "Ich schicke Ihnen das Angebot heute Nachmittag per E-Mail.",
         "Im ersten Jahr können wir Ihnen einen Rabatt anbieten.",
         "Die Einrichtung dauert etwa zwei Wochen, wir begleiten Sie dabei.",
         "Sehr gut, dann bereite ich den Vertrag zur Unterschrift vor."],
        ["Hallo, ja, ein paar Minuten habe ich.",
         "Im Moment planen wir alles mit Tabellen, das ist mühsam.",
         "Das ist uns ehrlich gesagt zu teuer.",
         "Wir arbeiten schon mit einem anderen Anbieter zusammen.",
         "Wie lange dauert es, bis wir Ergebnisse sehen?",
         "Das muss ich erst mit meinem Geschäftsführer besprechen.",
         "Klingt interessant, schicken Sie mir bitte mehr Informationen.",
         "Ich bin nicht sicher, ob wir das dieses Jahr brauchen.",
         "Gut, dann starten wir mit einem Pilotprojekt.",
         "Gibt es den Support auch auf Deutsch?",
         "Einverstanden, schicken Sie mir den Vertrag.",
         "Danke, aber im Moment haben wir kein Interesse."]),
}


def _timed(texts_roles: list[tuple[str, str]], rng: np.random.Generator) -> list[Turn]:
    """Turns with times: ~2.5 words per second, 0.5-2 s gaps."""
    turns, clock = [], 0.0
    for role, text in texts_roles:
        dur = max(1.0, len(text.split()) / 2.5)
        turns.append(Turn(role=role, text=text, start=round(clock, 2),
                          end=round(clock + dur, 2)))
        clock += dur + float(rng.uniform(0.5, 2.0))
    return turns


def foreign_conversations(n: int, seed: int) -> list[Conversation]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        lang = "es" if i % 2 == 0 else "de"
        rep, cust = FOREIGN[lang]
        k = int(rng.integers(6, 13))
        lines = [("rep", rep[int(rng.integers(len(rep)))]) if t % 2 == 0 else
                 ("customer", cust[int(rng.integers(len(cust)))]) for t in range(k)]
        out.append(Conversation(id=f"{lang}-{i}", turns=_timed(lines, rng),
                                outcome=Outcome.UNKNOWN))
    return out


def shuffled(convs: list[Conversation], seed: int) -> list[Conversation]:
    rng = np.random.default_rng(seed)
    out = []
    for c in convs:
        order = rng.permutation(len(c.turns))
        lines = [(c.turns[j].role.value, c.turns[j].text) for j in order]
        out.append(Conversation(id=f"shuf-{c.id}", turns=_timed(lines, rng),
                                outcome=Outcome.UNKNOWN))
    return out


def word_salad(convs: list[Conversation], vocab: list[str], seed: int) -> list[Conversation]:
    rng = np.random.default_rng(seed)
    out = []
    for c in convs:
        turns = [Turn(role=t.role, text=" ".join(rng.choice(vocab, size=max(
            1, len(t.text.split())))).capitalize() + ".", start=t.start, end=t.end)
            for t in c.turns]
        out.append(Conversation(id=f"rand-{c.id}", turns=turns, outcome=Outcome.UNKNOWN))
    return out


def p4g_timed(convs: list[Conversation], seed: int) -> list[Conversation]:
    rng = np.random.default_rng(seed)
    return [Conversation(id=f"p4g-{c.id}", turns=_timed(
        [(t.role.value, t.text) for t in c.turns], rng), outcome=Outcome.UNKNOWN)
        for c in convs]


def _auroc(ind: np.ndarray, ood: np.ndarray) -> float:
    return float(roc_auc_score(np.r_[np.zeros(len(ind)), np.ones(len(ood))], np.r_[ind, ood]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("synth", type=Path)
    ap.add_argument("p4g", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--test", type=int, default=300)
    ap.add_argument("--n-ood", type=int, default=300, help="P4G / shuffled / random convs")
    ap.add_argument("--n-foreign", type=int, default=40)
    ap.add_argument("--groups", nargs="*", default=None, help="confidence signal groups")
    ap.add_argument("--ood-combine", choices=("max", "sum"), default="sum")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    synth = read_jsonl(args.synth, require_outcome=True)[: args.train + args.test]
    train, held = synth[: args.train], synth[args.train :]
    builder = StateBuilder.from_env()
    vocab = sorted({w for c in train for t in c.turns for w in tokens(t.text)})
    p4g = read_jsonl(args.p4g, require_outcome=True)
    pick = np.random.default_rng(args.seed).permutation(len(p4g))[: args.n_ood]
    sets = {
        "p4g": p4g_timed([p4g[i] for i in pick], args.seed),
        "shuffled": shuffled(held[: args.n_ood], args.seed),
        "random_text": word_salad(held[: args.n_ood], vocab, args.seed),
        "other_language": foreign_conversations(args.n_foreign, args.seed),
    }

    def inputs(convs: list[Conversation]) -> TurnInputs:
        return TurnInputs.from_conversations(convs, builder.encode_many(convs), builder.embed)

    tr_in = inputs(train)
    base, conf = fit_with_oof(
        tr_in, lambda: BaggedLogistic(state_dim=builder.state_dim), 4, args.seed,
        lambda: ConfidenceModel(args.groups, state_dim=builder.state_dim, seed=args.seed,
                                ood_combine=args.ood_combine))

    def assess(convs: list[Conversation]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray, np.ndarray]:
        x = inputs(convs)
        a = conf.assess_batch(x, base.predict_proba(x.rows), base.predict_members(x.rows))
        last = np.r_[np.flatnonzero(np.diff(x.conv)), len(x) - 1]
        signals[id(convs)] = a.signals
        return a.ood_score, 1.0 - a.confidence, a.abstain, last, a.probability

    signals: dict[int, dict[str, np.ndarray]] = {}

    ind_ood, ind_unconf, ind_abstain, ind_last, ind_p = assess(held)
    ind_sig = signals[id(held)]
    held_in = inputs(held)
    acc = float(np.mean((ind_p >= 0.5) == (held_in.labels == 1)))
    report: dict[str, object] = {
        "train": len(train), "held_out": len(held), "backend": builder.backend_name,
        "groups": args.groups or "all", "ood_combine": args.ood_combine,
        "held_out_accuracy": acc,
        "held_out_abstain_rate": float(ind_abstain.mean()), "sets": {}}
    pooled = {"ood_turn": [], "unconf_turn": [], "ood_conv": [], "unconf_conv": []}
    print(f"held-out synthetic: {len(held)} convs, accuracy {acc:.3f}, "
          f"abstain {ind_abstain.mean():.3f}")
    print(f"{'set':>15} {'convs':>6} {'AUROC ood/turn':>15} {'ood/conv':>9} "
          f"{'1-conf/turn':>12} {'1-conf/conv':>12} {'abstain':>8}")
    for name, convs in sets.items():
        ood, unconf, abstain, last, _ = assess(convs)
        entry = {"conversations": len(convs),
                 "auroc_ood_turn": _auroc(ind_ood, ood),
                 "auroc_ood_conversation": _auroc(ind_ood[ind_last], ood[last]),
                 "auroc_unconfidence_turn": _auroc(ind_unconf, unconf),
                 "auroc_unconfidence_conversation": _auroc(ind_unconf[ind_last], unconf[last]),
                 "abstain_rate": float(abstain.mean())}
        sig = signals[id(convs)]
        # each OOD signal alone (nn_sim negated: low similarity = unusual), per conversation
        entry["auroc_by_signal_conversation"] = {
            n: _auroc(sgn * ind_sig[n][ind_last], sgn * sig[n][last])
            for n in conf.ood_names_ for sgn in [(-1.0 if n == "nn_sim" else 1.0)]}
        report["sets"][name] = entry  # type: ignore[index]
        for k, v in (("ood_turn", ood), ("unconf_turn", unconf), ("ood_conv", ood[last]),
                     ("unconf_conv", unconf[last])):
            pooled[k].append(v)
        print(f"{name:>15} {len(convs):>6} {entry['auroc_ood_turn']:>15.3f} "
              f"{entry['auroc_ood_conversation']:>9.3f} {entry['auroc_unconfidence_turn']:>12.3f}"
              f" {entry['auroc_unconfidence_conversation']:>12.3f} {entry['abstain_rate']:>8.3f}")
    allp = {k: np.concatenate(v) for k, v in pooled.items()}
    report["pooled"] = {
        "auroc_ood_turn": _auroc(ind_ood, allp["ood_turn"]),
        "auroc_ood_conversation": _auroc(ind_ood[ind_last], allp["ood_conv"]),
        "auroc_unconfidence_turn": _auroc(ind_unconf, allp["unconf_turn"]),
        "auroc_unconfidence_conversation": _auroc(ind_unconf[ind_last], allp["unconf_conv"])}
    p = report["pooled"]
    print(f"{'pooled':>15} {'':>6} {p['auroc_ood_turn']:>15.3f} "  # type: ignore[index]
          f"{p['auroc_ood_conversation']:>9.3f} {p['auroc_unconfidence_turn']:>12.3f} "  # type: ignore[index]
          f"{p['auroc_unconfidence_conversation']:>12.3f}")  # type: ignore[index]
    for name, entry in report["sets"].items():  # type: ignore[union-attr]
        print(f"{name:>15} by signal (per conversation): " + ", ".join(
            f"{k} {v:.3f}" for k, v in entry["auroc_by_signal_conversation"].items()))
    report["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ood.json").write_text(json.dumps(report, indent=1))
    print(f"total {report['seconds']} s; wrote {args.out / 'ood.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
