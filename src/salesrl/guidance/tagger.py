"""Dialogue-act tagger: the bridge from real text to the acts the advisor reasons about.

One linear classifier per role over hashed word 1-2-grams and character 2-4-grams
(feature hashing, Weinberger et al., ICML 2009; multinomial logistic regression from
scikit-learn), trained on labelled turns (the simulator's act annotations). Rep turns get
a :class:`~salesrl.conversation.acts.RepAct`, customer turns a
:class:`~salesrl.conversation.acts.CustomerAct`. The hashing vectoriser is stateless, so an
artifact is its parameters (JSON) plus the weights (safetensors); no pickle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support

from salesrl.conversation import Conversation, Role

FORMAT = "salesrl-act-tagger"
N_FEATURES = 2**17
ROLES = ("rep", "customer")


def _vectorisers(n_features: int) -> tuple[HashingVectorizer, HashingVectorizer]:
    common = {"n_features": n_features, "alternate_sign": False, "norm": None,
              "lowercase": True}
    return (HashingVectorizer(analyzer="word", ngram_range=(1, 2), **common),
            HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), **common))


def featurise(texts: Sequence[str], n_features: int = N_FEATURES) -> sparse.csr_matrix:
    """Hashed, sublinear-tf, L2-normalised features of ``texts`` (``2 * n_features`` wide)."""
    words, chars = _vectorisers(n_features)
    x = sparse.hstack([words.transform(texts), chars.transform(texts)]).tocsr()
    x.data = 1.0 + np.log(x.data)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
    return sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ x


def labelled_turns(conversations: Iterable[Conversation]) -> dict[str, tuple[list[str],
                                                                               list[str]]]:
    """(texts, first act label) per role from conversations whose turns carry acts."""
    out: dict[str, tuple[list[str], list[str]]] = {r: ([], []) for r in ROLES}
    for conv in conversations:
        for turn in conv.turns:
            if turn.annotations is None or not turn.annotations.acts:
                continue
            texts, labels = out[turn.role.value]
            texts.append(turn.text)
            labels.append(turn.annotations.acts[0])
    return out


@dataclass
class _RoleModel:
    classes: list[str]
    coef: np.ndarray  # (n_classes, 2 * n_features)
    intercept: np.ndarray

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return (np.asarray(featurise(texts, self.coef.shape[1] // 2) @ self.coef.T)
                + self.intercept)


class ActTagger:
    """``fit(conversations)`` then ``predict(texts, role)`` / ``tag(conversation)``."""

    def __init__(self, c: float = 10.0, max_iter: int = 300,
                 n_features: int = N_FEATURES) -> None:
        self.c = c
        self.max_iter = max_iter
        self.n_features = n_features

    def fit(self, conversations: Iterable[Conversation]) -> ActTagger:
        """Fit one classifier per role on the turns' first act labels."""
        data = labelled_turns(conversations)
        self.models_: dict[str, _RoleModel] = {}
        for role, (texts, labels) in data.items():
            if len(set(labels)) < 2:
                raise ValueError(f"need at least two act labels for {role} turns to train on")
            lr = LogisticRegression(C=self.c, max_iter=self.max_iter)
            lr.fit(featurise(texts, self.n_features), labels)
            self.models_[role] = _RoleModel(list(lr.classes_), lr.coef_.astype(np.float32),
                                            lr.intercept_.astype(np.float32))
        return self

    def predict(self, texts: Sequence[str], role: str | Role) -> list[str]:
        """The most likely act of each text spoken by ``role``."""
        model = self._model(role)
        if not texts:
            return []
        best = self.predict_proba(texts, role).argmax(axis=1)
        return [model.classes[i] for i in best]

    def predict_proba(self, texts: Sequence[str], role: str | Role) -> np.ndarray:
        """P(act | text) for ``role``; columns in :meth:`classes` order."""
        s = self._model(role).scores(texts)
        s = np.exp(s - s.max(axis=1, keepdims=True))
        return s / s.sum(axis=1, keepdims=True)

    def classes(self, role: str | Role) -> list[str]:
        return list(self._model(role).classes)

    def tag(self, conversation: Conversation) -> list[str]:
        """One predicted act per turn of ``conversation``."""
        acts = [""] * len(conversation.turns)
        for role in ROLES:
            idx = [i for i, t in enumerate(conversation.turns) if t.role.value == role]
            for i, act in zip(idx, self.predict([conversation.turns[i].text for i in idx], role),
                              strict=True):
                acts[i] = act
        return acts

    def _model(self, role: str | Role) -> _RoleModel:
        key = Role(role).value
        if not hasattr(self, "models_"):
            raise RuntimeError("the tagger is not fitted: call fit() or ActTagger.load()")
        return self.models_[key]

    # -- persistence -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {}
        meta = {"format": FORMAT, "n_features": self.n_features, "c": self.c, "classes": {}}
        for role, m in self.models_.items():
            tensors[f"{role}.coef"] = np.ascontiguousarray(m.coef)
            tensors[f"{role}.intercept"] = np.ascontiguousarray(m.intercept)
            meta["classes"][role] = m.classes
        save_file(tensors, str(directory / "tagger.safetensors"))
        (directory / "tagger.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ActTagger:
        directory = Path(directory)
        meta_path = directory / "tagger.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{meta_path}: no tagger artifact here")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{meta_path}: not a {FORMAT} artifact")
        tensors = load_file(str(directory / "tagger.safetensors"))
        tagger = cls(c=float(meta["c"]), n_features=int(meta["n_features"]))
        tagger.models_ = {role: _RoleModel(classes, tensors[f"{role}.coef"],
                                           tensors[f"{role}.intercept"])
                          for role, classes in meta["classes"].items()}
        return tagger


def f1_table(y_true: Sequence[str], y_pred: Sequence[str]) -> list[dict[str, float | str]]:
    """Per-label precision, recall, F1 and support, plus a macro row."""
    labels = sorted(set(y_true))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                 zero_division=0)
    rows: list[dict[str, float | str]] = [
        {"act": a, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
         "support": int(s[i])} for i, a in enumerate(labels)]
    rows.append({"act": "macro", "precision": float(p.mean()), "recall": float(r.mean()),
                 "f1": float(f.mean()), "support": int(s.sum())})
    return rows
