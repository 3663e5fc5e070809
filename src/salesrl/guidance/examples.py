"""Short examples for a recommendation: what winning reps said in the most similar situation.

Every rep turn of a converted training conversation is indexed by the act summary before it
(:mod:`~salesrl.guidance.observation`), its act and its text. A query is an exact cosine
search (numpy; the index is a few thousand rows, where exact search is faster than building
an approximate one) among the turns with the recommended act; answers are cached in memory.
Persisted as safetensors (vectors, act ids) + JSON (texts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from salesrl.conversation import Conversation, Role
from salesrl.guidance.observation import REP_ACTS, ActHistory, act_indices

_REP_INDEX = {a.value: i for i, a in enumerate(REP_ACTS)}
MAX_CHARS = 160


class ExampleIndex:
    """``fit(conversations)`` then ``search(obs, act, k)`` -> up to ``k`` example texts."""

    def __init__(self, max_per_act: int = 2000) -> None:
        self.max_per_act = max_per_act

    def fit(self, conversations: Iterable[Conversation]) -> ExampleIndex:
        vecs, acts, texts = [], [], []
        per_act = np.zeros(len(REP_ACTS), dtype=int)
        for conv in conversations:
            if conv.converted is not True:
                continue
            hist = ActHistory(1)
            rep_act: int | None = None
            for turn in conv.turns:
                if turn.annotations is None or not turn.annotations.acts:
                    break
                act = turn.annotations.acts[0]
                if turn.role is Role.REP:
                    if act not in _REP_INDEX:
                        break
                    rep_act = _REP_INDEX[act]
                    if per_act[rep_act] < self.max_per_act:
                        vecs.append(hist.observe()[0])
                        acts.append(rep_act)
                        texts.append(turn.text[:MAX_CHARS])
                        per_act[rep_act] += 1
                elif rep_act is not None:
                    try:
                        r, c = act_indices([REP_ACTS[rep_act].value], [act])
                    except ValueError:
                        break
                    hist.update(np.array([0]), np.array(r), np.array(c))
                    rep_act = None
        self.vectors_ = _unit(np.asarray(vecs, dtype=np.float32).reshape(-1, ActHistory(1)
                                                                           .observe().shape[1]))
        self.acts_ = np.asarray(acts, dtype=np.int64)
        self.texts_ = texts
        self._search.cache_clear()
        return self

    def search(self, obs: np.ndarray, act: str, k: int = 2) -> list[str]:
        """Texts of up to ``k`` winning rep turns with ``act`` nearest to situation ``obs``."""
        return list(self._search(np.asarray(obs, dtype=np.float32).tobytes(), act, k))

    @lru_cache(maxsize=4096)  # noqa: B019 - one index per process, the cache is the point
    def _search(self, obs_bytes: bytes, act: str, k: int) -> tuple[str, ...]:
        if act not in _REP_INDEX or not len(self.acts_):
            return ()
        rows = np.flatnonzero(self.acts_ == _REP_INDEX[act])
        if rows.size == 0:
            return ()
        q = _unit(np.frombuffer(obs_bytes, dtype=np.float32)[None, :])[0]
        sims = self.vectors_[rows] @ q
        best = rows[np.argsort(-sims, kind="stable")]
        out: list[str] = []
        for i in best:  # distinct texts only
            if self.texts_[i] not in out:
                out.append(self.texts_[i])
            if len(out) == k:
                break
        return tuple(out)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_file({"vectors": self.vectors_, "acts": self.acts_},
                  str(directory / "examples.safetensors"))
        (directory / "examples.json").write_text(json.dumps({"texts": self.texts_}),
                                                 encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ExampleIndex:
        directory = Path(directory)
        if not (directory / "examples.json").is_file():
            raise FileNotFoundError(f"{directory / 'examples.json'}: no example index here")
        tensors = load_file(str(directory / "examples.safetensors"))
        index = cls()
        index.vectors_, index.acts_ = tensors["vectors"], tensors["acts"]
        index.texts_ = json.loads((directory / "examples.json").read_text("utf-8"))["texts"]
        return index


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
