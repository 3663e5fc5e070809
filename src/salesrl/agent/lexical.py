"""Lexical evidence: a role-aware TF-IDF logistic-regression logit after every turn.

The state tracker summarises turns with sentence embeddings and running signals; on real
dialogues (PersuasionForGood) a bag of words per speaker carries evidence those miss (which
words the persuadee uses: "donate", "$", "maybe later"). :class:`LexicalEvidence` is the
``tfidf_roles`` baseline (TF-IDF, Salton & Buckley 1988, + logistic regression, Cox 1958)
computed *incrementally*: three blocks per prefix, what the rep said so far, what the customer
said so far, and the last ``last_turns`` turns, each a TF-IDF vector (l2-normalised); one
logistic regression over their concatenation gives one logit per prefix. Every row depends on
turns ``0..t`` only (prefix counts are cumulative sums of per-turn counts). With
``commitment=True`` (``TrainConfig.lexical_commitment``, on in the ``small`` preset) the same
regression also reads the customer's stated intent after each turn
(:mod:`salesrl.features.signals.commitment`: commitments, refusals, hedges, the amount last
stated, standardised): the tokeniser drops "$1" and "$0", the signals do not.

Anything learned from labels must not leak into the agent's own training rows:
:func:`cross_fit` returns out-of-fold logits for the training conversations (the stacking
recipe of Wolpert, "Stacked generalization", Neural Networks 1992) and the model fitted on all
of them for new conversations. The artifact form is arrays + JSON (vocabulary, idf,
coefficients), never pickle.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize

from salesrl.agent.crossfit import cross_fit_logits
from salesrl.conversation import Conversation
from salesrl.evaluation.protocol import prefix_length
from salesrl.features.signals.commitment import COMMITMENT_NAMES, commitment_rows

BLOCKS = ("rep", "customer", "window")
CHUNK = 256  # conversations per sparse prefix-count batch


class TurnCounts:
    """Term counts of every turn of a set of conversations, tokenised once.

    Why: a fit tokenises its training turns twice (vocabulary, then counts) and the logits of
    held-out turns once more; the search and the cross-fit of one training run make ten fits
    over the same calls, and tokenising was three quarters of a fit's time (profiled at 5,000
    calls). The vocabulary needs no labels, and with ``min_df=1`` the vocabulary a fit would
    learn from a subset is exactly the terms its turns contain, in the same (alphabetical)
    order, so slicing these counts gives the fit's own counts: the models are the same.
    Conversations are matched by identity (``id``), so build it from the very objects the fits
    will see, and drop it when they are done (the counts of every turn are held).
    """

    def __init__(self, terms: np.ndarray, counts: sp.csr_matrix,
                 spans: dict[int, tuple[int, int]]) -> None:
        self.terms = terms
        self.counts = counts
        self.spans = spans

    @classmethod
    def build(cls, conversations: Sequence[Conversation], ngram_range: tuple[int, int]
              ) -> TurnCounts | None:
        """The counts of ``conversations``' turns, or None when no word token occurs in them
        (the fit then falls back to characters on its own)."""
        convs = [c for c in conversations if len(c.turns)]
        vec = CountVectorizer(ngram_range=tuple(ngram_range))
        try:
            counts = vec.fit_transform([t.text for c in convs for t in c.turns])
        except ValueError:  # empty vocabulary
            return None
        spans, start = {}, 0
        for c in convs:
            spans[id(c)] = (start, start + len(c.turns))
            start += len(c.turns)
        return cls(vec.get_feature_names_out(), counts.tocsr(), spans)

    def rows(self, conversations: Sequence[Conversation]) -> np.ndarray | None:
        """Row indices of these conversations' turns in order, None if one is not held."""
        spans = [self.spans.get(id(c)) for c in conversations]
        if any(s is None for s in spans):
            return None
        return np.concatenate([np.arange(lo, hi) for lo, hi in spans] or
                              [np.zeros(0, np.int64)])


def _prefix_operators(lengths: np.ndarray, window: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Block-diagonal lower-triangular ``L`` (cumulative sum over each conversation) and the
    banded ``W`` (sum of the last ``window`` turns)."""
    rows, cols, wrows, wcols = [], [], [], []
    start = 0
    for n in lengths:
        for t in range(int(n)):
            rows.extend([start + t] * (t + 1))
            cols.extend(range(start, start + t + 1))
            lo = max(0, t - window + 1)
            wrows.extend([start + t] * (t + 1 - lo))
            wcols.extend(range(start + lo, start + t + 1))
        start += int(n)
    total = int(lengths.sum())
    lmat = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(total, total))
    wmat = sp.csr_matrix((np.ones(len(wrows)), (wrows, wcols)), shape=(total, total))
    return lmat, wmat


class LexicalEvidence:
    """Incremental role-aware TF-IDF + logistic regression (scikit-learn conventions).

    Trained on the prefixes of each training conversation at ``train_fractions`` (the full
    conversation with weight 1, shorter prefixes with ``prefix_weight``, as in the
    ``tfidf_roles`` baseline); :meth:`logits` gives one logit per turn of each conversation.
    ``commitment``: append the standardised stated-intent signals to the design (models saved
    before the option load with it off). On PersuasionForGood (5-fold x 3, the agent's
    cross-fitted linear base with this column; BENCHMARKS.md, "The agent") it moves AUC /
    Brier at 100 % from 0.732 / 0.216 to 0.750 / 0.208 and at 50 % from 0.660 to 0.666.

    Defaults measured on PersuasionForGood, out-of-fold logits of a 5-fold cross-fit over all
    1,017 dialogues, AUC / Brier at prefix 25 / 50 / 75 / 100 %
    (``/tmp/agent4/lex_check.py``, not shipped):

    * fractions 0.25-1.0, ``min_df=2``: 0.542/0.264 0.637/0.237 0.667/0.229 0.694/0.222
    * fractions 0.25-1.0, ``min_df=1``: 0.549/0.260 0.641/0.235 0.669/0.229 0.697/0.222
    * fractions 0.5-1.0, ``min_df=2`` (kept, with ``min_df=1``): 0.550/0.260 0.648/0.234
      0.676/0.226 0.707/0.218
    """

    def __init__(self, C: float = 3.0, ngram_range: tuple[int, int] = (1, 2),
                 last_turns: int = 4, min_df: int = 1,
                 train_fractions: Sequence[float] = (0.5, 0.75, 1.0),
                 prefix_weight: float = 0.3, max_iter: int = 2000,
                 commitment: bool = False) -> None:
        self.C = C
        self.ngram_range = ngram_range
        self.last_turns = last_turns
        self.min_df = min_df
        self.train_fractions = train_fractions
        self.prefix_weight = prefix_weight
        self.max_iter = max_iter
        self.commitment = commitment

    def share_counts(self, counts: TurnCounts | None) -> Self:
        """Read term counts from ``counts`` (built over a superset of the conversations this
        model will fit and score) instead of tokenising; the fitted model is the same."""
        self._shared = counts
        return self

    def _turn_counts(self, convs: Sequence[Conversation]
                     ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Per-turn term counts of every conversation stacked, with role flags and lengths."""
        is_rep = np.array([t.role.value == "rep" for c in convs for t in c.turns], dtype=float)
        lengths = np.array([len(c.turns) for c in convs], dtype=np.int64)
        shared, cols = getattr(self, "_shared", None), getattr(self, "_shared_cols", None)
        rows = shared.rows(convs) if shared is not None and cols is not None else None
        if rows is not None:
            c = shared.counts[rows][:, cols]
        else:
            c = self.vectorizer_.transform([t.text for cv in convs for t in cv.turns])
        return c.astype(np.float64).tocsr(), is_rep, lengths

    def _fit_vocabulary(self, convs: Sequence[Conversation]) -> None:
        """``vectorizer_`` (and, with shared counts, the columns of them it keeps)."""
        self._shared_cols = None
        min_df = min(self.min_df, len(convs))
        shared = getattr(self, "_shared", None)
        rows = shared.rows(convs) if shared is not None else None
        if rows is not None:
            sub = shared.counts[rows]
            df = np.bincount(sub.indices, minlength=sub.shape[1])  # turns holding each term
            cols = np.flatnonzero(df >= min_df)
            if len(cols):
                self._shared_cols = cols
                self.vectorizer_ = CountVectorizer(
                    ngram_range=tuple(self.ngram_range),
                    vocabulary={str(term): i for i, term in enumerate(shared.terms[cols])})
                return
        self.vectorizer_ = CountVectorizer(ngram_range=tuple(self.ngram_range), min_df=min_df)
        try:
            self.vectorizer_.fit([t.text for c in convs for t in c.turns])
        except ValueError:  # no token survives: fall back to single characters
            self.vectorizer_ = CountVectorizer(analyzer="char").fit(
                [t.text for c in convs for t in c.turns] + ["a"])

    def _counts(self, convs: Sequence[Conversation]
                ) -> tuple[list[sp.csr_matrix], np.ndarray, np.ndarray]:
        """Raw prefix counts per block, rows = every turn of every conversation, and the
        commitment signals of those rows (zero columns when ``commitment`` is off)."""
        c, is_rep, lengths = self._turn_counts(convs)
        lmat, wmat = _prefix_operators(lengths, self.last_turns)
        rep = sp.diags(is_rep) @ c
        cust = sp.diags(1.0 - is_rep) @ c
        dense = (np.concatenate([commitment_rows(cv.turns) for cv in convs]).astype(np.float64)
                 if self.commitment else np.zeros((int(lengths.sum()), 0)))
        return ([(lmat @ rep).tocsr(), (lmat @ cust).tocsr(), (wmat @ c).tocsr()], lengths,
                dense)

    def _chunks(self, convs: Sequence[Conversation]
                ) -> Iterator[tuple[list[sp.csr_matrix], np.ndarray, np.ndarray]]:
        """:meth:`_counts` over at most ``CHUNK`` conversations at a time (prefix count
        matrices grow with the square of the conversation length)."""
        for lo in range(0, len(convs), CHUNK):
            yield self._counts(convs[lo : lo + CHUNK])

    def _design(self, blocks: list[sp.csr_matrix], dense: np.ndarray) -> sp.csr_matrix:
        parts = [normalize(b @ sp.diags(idf)) for b, idf in zip(blocks, self.idf_, strict=True)]
        if self.commitment:  # standardised commitment signals beside the TF-IDF blocks
            parts.append(sp.csr_matrix((dense - self.commit_mean_) / self.commit_std_))
        return sp.hstack(parts, format="csr")

    def fit(self, conversations: Sequence[Conversation]) -> Self:
        convs = [c for c in conversations if c.converted is not None and len(c.turns)]
        if not convs:
            raise ValueError("LexicalEvidence.fit: no labelled conversation with turns")
        y_conv = np.array([c.label for c in convs], dtype=int)
        self._fit_vocabulary(convs)
        # pass 1: the training prefixes' raw counts; full conversations give the idf
        picked: list[list[sp.csr_matrix]] = [[], [], []]
        picked_dense: list[np.ndarray] = []
        full_docs: list[list[sp.csr_matrix]] = [[], [], []]
        y, w = [], []
        first = 0
        for blocks, lengths, dense in self._chunks(convs):
            ends = np.cumsum(lengths) - 1
            starts = ends - lengths + 1
            rows = []
            for i, n in enumerate(lengths):
                for k in sorted({prefix_length(int(n), f) for f in self.train_fractions}):
                    rows.append(starts[i] + k - 1)
                    y.append(y_conv[first + i])
                    w.append(1.0 if k == n else self.prefix_weight)
            for j, b in enumerate(blocks):
                picked[j].append(b[rows])
                full_docs[j].append(b[ends])
            picked_dense.append(dense[rows])
            first += len(lengths)
        n_docs = len(convs)
        # smooth idf of sklearn's TfidfVectorizer, over full-conversation documents per block
        self.idf_ = []
        for docs in full_docs:
            df = np.asarray((sp.vstack(docs) > 0).sum(axis=0)).ravel()
            self.idf_.append(np.log((1 + n_docs) / (1 + df)) + 1.0)
        dense_x = np.concatenate(picked_dense)
        if self.commitment:
            self.commit_mean_ = dense_x.mean(0)
            self.commit_std_ = np.maximum(dense_x.std(0), 1e-6)
        x = self._design([sp.vstack(b, format="csr") for b in picked], dense_x)
        y_arr = np.asarray(y)
        if len(set(y_arr.tolist())) < 2:
            self.coef_ = np.zeros(x.shape[1])
            p = float(np.clip(y_arr.mean(), 1e-3, 1 - 1e-3))
            self.intercept_ = float(np.log(p / (1 - p)))
            return self
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter)
        lr.fit(x, y_arr, sample_weight=np.asarray(w))
        self.coef_ = lr.coef_.ravel().astype(np.float64)
        self.intercept_ = float(lr.intercept_[0])
        return self

    def logits(self, conversations: Sequence[Conversation]) -> list[np.ndarray]:
        """One logit per turn (row ``t`` from turns ``0..t``) for each conversation."""
        if not hasattr(self, "coef_"):
            raise RuntimeError("LexicalEvidence is not fitted; call fit() first")
        todo = [c for c in conversations if len(c.turns)]
        out: dict[int, np.ndarray] = {}
        done = 0
        for blocks, lengths, dense in self._chunks(todo):
            z = self._design(blocks, dense) @ self.coef_ + self.intercept_
            chunk = todo[done : done + len(lengths)]
            for c, part in zip(chunk, np.split(z, np.cumsum(lengths)[:-1]), strict=True):
                out[id(c)] = part.astype(np.float32)
            done += len(lengths)
        return [out.get(id(c), np.zeros(0, np.float32)) for c in conversations]

    # -- persistence (arrays + JSON, no pickle) -------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"idf_{name}": idf for name, idf in zip(BLOCKS, self.idf_, strict=True)}
        arrays["coef"] = self.coef_
        if self.commitment:
            arrays["commit_mean"], arrays["commit_std"] = self.commit_mean_, self.commit_std_
        return arrays

    def params(self) -> dict[str, Any]:
        return {"C": self.C, "ngram_range": list(self.ngram_range),
                "last_turns": self.last_turns, "analyzer": self.vectorizer_.analyzer,
                "intercept": self.intercept_,
                "vocabulary": [str(t) for t in self.vectorizer_.get_feature_names_out()],
                "commitment": self.commitment,
                "C_scores": [[C, v] for C, v in getattr(self, "C_scores_", {}).items()]}

    @classmethod
    def from_arrays(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]
                    ) -> LexicalEvidence:
        obj = cls(C=float(params["C"]), ngram_range=tuple(params["ngram_range"]),
                  last_turns=int(params["last_turns"]),
                  commitment=bool(params.get("commitment", False)))  # absent: older model
        vocab = {term: i for i, term in enumerate(params["vocabulary"])}
        obj.vectorizer_ = CountVectorizer(ngram_range=obj.ngram_range, vocabulary=vocab,
                                          analyzer=params.get("analyzer", "word"))
        obj.idf_ = [np.asarray(arrays[f"idf_{name}"], dtype=np.float64) for name in BLOCKS]
        obj.coef_ = np.asarray(arrays["coef"], dtype=np.float64)
        obj.intercept_ = float(params["intercept"])
        obj.C_scores_ = {float(C): float(v) for C, v in params.get("C_scores", [])}
        if obj.commitment:
            obj.commit_mean_ = np.asarray(arrays["commit_mean"], dtype=np.float64)
            obj.commit_std_ = np.asarray(arrays["commit_std"], dtype=np.float64)
        want = 3 * len(vocab) + (len(COMMITMENT_NAMES) if obj.commitment else 0)
        if obj.coef_.shape != (want,):
            raise ValueError(f"lexical evidence: {obj.coef_.shape[0]} coefficients for "
                             f"{want} columns (vocabulary and commitment signals)")
        return obj


def choose_C(conversations: Sequence[Conversation], Cs: Sequence[float], n_splits: int = 5,
             seed: int = 0, min_heldout: int = 2000, counts: TurnCounts | None = None,
             **params: Any) -> tuple[float, dict]:
    """The L2 strength ``C`` of the lowest held-out log loss after rescaling, and the loss of
    each candidate.

    The agent reads the column through models that fit its scale (the linear base's stack,
    the network, the calibrator), so what matters is how well the logit *ranks and separates*
    conversations, not its raw scale: each candidate's held-out logits ``z`` (every turn's row
    of the held-out conversations, the rows the agent reads) are scored by the log loss of
    ``sigmoid(a z + b)`` with ``a, b`` fitted on those rows (Platt, 1999). On
    PersuasionForGood the raw log loss picks C=1 and the agent then loses 0.004 AUC on full
    dialogues against C=3 (BENCHMARKS.md, "The agent"). Folds are those of :func:`cross_fit`
    (stratified, same ``seed``); only as many are used as it takes to hold out
    ``min_heldout`` conversations (all five on a thousand dialogues, one from ten thousand
    on), so the search costs ``len(Cs)`` fits on large data. Why search at all: the strength
    that suits a thousand real dialogues (C=3) over-fits twenty thousand templated calls,
    where C=0.1-0.3 gives a lower held-out Brier. ``counts``: the calls' turns tokenised once
    (:class:`TurnCounts`; built here when not given).
    """
    convs = [c for c in conversations if c.converted is not None and len(c.turns)]
    y = np.array([c.label for c in convs], dtype=int)
    k = min(n_splits, int(np.bincount(y, minlength=2).min()))
    if len(Cs) < 2 or k < 2:
        return float(Cs[0]) if len(Cs) else LexicalEvidence().C, {}
    use = min(k, max(1, -(-min_heldout * k // len(convs))))  # ceil(min_heldout / fold size)
    if counts is None:
        counts = TurnCounts.build(convs, params.get("ngram_range", LexicalEvidence().ngram_range))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    held_z: dict[float, list[np.ndarray]] = {float(C): [] for C in Cs}
    held_y: list[np.ndarray] = []
    for f, (tr, te) in enumerate(skf.split(np.zeros(len(y)), y)):
        if f >= use:
            break
        held = [convs[i] for i in te]
        held_y.append(np.concatenate([np.full(len(c.turns), c.label) for c in held]))
        for C, zs in held_z.items():
            model = LexicalEvidence(**{**params, "C": C}).share_counts(counts).fit(
                [convs[i] for i in tr])
            zs.append(np.concatenate(model.logits(held)).astype(np.float64))
    yt = np.concatenate(held_y)
    scores = {}
    for C, zs in held_z.items():
        z = np.concatenate(zs)[:, None]
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(z, yt)
        scores[C] = float(log_loss(yt, platt.predict_proba(z)[:, 1], labels=[0, 1]))
    return min(scores, key=scores.__getitem__), scores


def cross_fit(conversations: Sequence[Conversation], n_splits: int = 5, seed: int = 0,
              extra: Sequence[Conversation] = (), Cs: Sequence[float] = (), **params: Any
              ) -> tuple[LexicalEvidence, list[np.ndarray], list[np.ndarray]]:
    """``(model on all, out-of-fold logits per conversation, logits of extra)``.

    ``extra`` are derived conversations (adversarial counter-examples): each gets the logits
    of the fold model that did not see its source conversation (``metadata.extra['late_from']``
    or ``['source']``), so no training row carries an in-sample logit. With two or more
    ``Cs`` the strength is first chosen by :func:`choose_C` (kept as ``C_scores_`` on the
    returned model); one ``C`` is used as it is. All the fits read one tokenisation of the
    calls and ``extra`` (:class:`TurnCounts`).
    """
    conversations, extra = list(conversations), list(extra)
    counts = TurnCounts.build(conversations + extra,
                              params.get("ngram_range", LexicalEvidence().ngram_range))
    scores: dict = {}
    if len(Cs) >= 2:
        params["C"], scores = choose_C(conversations, Cs, n_splits, seed, counts=counts,
                                       **params)
    elif len(Cs) == 1:
        params["C"] = float(Cs[0])
    full, oof, extra_z = cross_fit_logits(
        lambda: LexicalEvidence(**params).share_counts(counts), conversations, n_splits, seed,
        extra)
    full.share_counts(None)  # the model outlives this call; the counts of every turn need not
    full.C_scores_ = scores
    return full, oof, extra_z
